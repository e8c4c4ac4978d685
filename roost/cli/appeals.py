"""roost appeals …: appeals against strikes (what staff did to an account and
told it), and the decision on each: accepting undoes the action."""

from __future__ import annotations

import typer

from roost.cli.base import app, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.strikes import actions, queries
from roost.domain.strikes.model import Warning

appeals_app = typer.Typer(
    help="Appeals against moderation decisions, and their decision.", no_args_is_help=True
)
app.add_typer(appeals_app, name="appeals")


def _line(found: Warning) -> str:
    appeal = found.appeal
    assert appeal is not None
    words = " ".join(appeal.text.split())
    return (
        f"appeal {appeal.id} by account {found.account_id} against {found.action} "
        f"(strike {found.id}, {found.created_at:%Y-%m-%d}) [{appeal.state}]: {words[:120]}"
    )


@appeals_app.command("list")
def list_appeals(
    every: bool = typer.Option(False, "--all", help="Also those already decided"),
    actor: str | None = as_option(),
) -> None:
    """Appeals awaiting a decision, oldest first (with --all: every appeal)."""

    async def body(settings: Settings, db: Database) -> list[str]:
        async with db.read() as conn:
            await acting(conn, actor, "appeals list")
            return [_line(w) for w in await queries.appeals_to_decide(conn, None, every=every)]

    lines = run_with_db(body)
    if not lines:
        typer.echo("no appeals" if every else "no appeal awaits a decision")
    for line in lines:
        typer.echo(line)


def _decide(appeal_id: int, accept: bool, actor: str | None) -> None:
    command = "appeals accept" if accept else "appeals reject"

    async def body(settings: Settings, db: Database) -> Warning:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, command)
            return await actions.do_decide_appeal(tx, None, appeal_id, accept=accept, actor=by)

    found = run_with_db(body)
    if accept:
        typer.echo(f"appeal {appeal_id} accepted: the {found.action} is undone")
    else:
        typer.echo(f"appeal {appeal_id} rejected: the {found.action} stands")


@appeals_app.command("accept")
def accept(appeal_id: int = typer.Argument(...), actor: str | None = as_option()) -> None:
    """Accept an appeal: the action it contests is undone, the strike overruled."""
    _decide(appeal_id, True, actor)


@appeals_app.command("reject")
def reject(appeal_id: int = typer.Argument(...), actor: str | None = as_option()) -> None:
    """Reject an appeal: the action stands."""
    _decide(appeal_id, False, actor)
