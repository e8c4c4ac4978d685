"""roost federation status: the other servers Roost delivers to, as every
worker sees them (roost/domain/federation/hosts.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from roost.cli.base import app, fail, run_with_db
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.federation import hosts

federation_app = typer.Typer(help="Other servers and deliveries to them.", no_args_is_help=True)
app.add_typer(federation_app, name="federation")


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_dict(report: hosts.HostReport) -> dict[str, Any]:
    return {
        "host": report.host,
        "state": report.state.value,
        "queued": report.queued,
        "failures": report.failures,
        "failing_since": _when(report.first_failure_at),
        "next_attempt_at": _when(report.next_attempt_at),
        "last_success_at": _when(report.last_success_at),
        "unavailable_since": _when(report.unavailable_at),
        "dropped": report.dropped,
        "signature": report.signature_scheme,
    }


@federation_app.command("status")
def status(
    host: str | None = typer.Option(None, "--host", help="Only this host (name[:port])"),
    as_json: bool = typer.Option(False, "--json", help="Print the hosts as JSON"),
) -> None:
    """Each known host: ok, backing off or unavailable; its queued
    deliveries, failures, last success, and the signature it takes (when
    learnt by the double-knock)."""

    async def body(settings: Settings, db: Database) -> list[hosts.HostReport]:
        async with db.read() as conn:
            return await hosts.host_states(conn, host)

    reports = run_with_db(body)
    if host is not None and not reports:
        raise fail(f"no host {host!r} is known here")
    if as_json:
        typer.echo(json.dumps([_as_dict(r) for r in reports], indent=2))
        return
    if not reports:
        typer.echo("no other server is known yet")
        return
    table = Table(
        "host",
        "state",
        "queued",
        "failures",
        "failing since",
        "last success",
        "dropped",
        "signature",
    )
    for report in reports:
        shown = _as_dict(report)
        table.add_row(
            report.host,
            report.state.value,
            str(report.queued),
            str(report.failures),
            shown["failing_since"] or "-",
            shown["last_success_at"] or "never",
            str(report.dropped),
            report.signature_scheme or "-",
        )
    Console(width=160).print(table)
