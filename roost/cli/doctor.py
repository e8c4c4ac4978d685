"""roost doctor: every check in one place; exit 1 when any fails."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

import typer

from roost.cli.base import app, settings_or_exit
from roost.ops.doctor import FAIL, run_doctor

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}
_COLOUR = {"warn": typer.colors.YELLOW, "fail": typer.colors.RED}


@app.command("doctor")
def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON"),
) -> None:
    """Check disk, database, Redis, jobs, backups, TLS and DNS; exit 1 on any failure."""
    settings = settings_or_exit()
    checks = asyncio.run(run_doctor(settings))
    failed = [c.name for c in checks if c.status == FAIL]
    if as_json:
        body = {"ok": not failed, "failed": failed, "checks": [asdict(c) for c in checks]}
        typer.echo(json.dumps(body, indent=2, default=str))
    else:
        for check in checks:
            line = f"{_MARK[check.status]}  {check.name:<11} {check.detail}"
            typer.secho(line, fg=_COLOUR.get(check.status))
        typer.echo(f"{len(failed)} failed: {', '.join(failed)}" if failed else "all checks pass")
    if failed:
        raise typer.Exit(1)
