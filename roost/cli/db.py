"""roost db status | upgrade | downgrade"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from roost.cli.base import db_app, fail, run_with_db, settings_or_exit
from roost.config import Settings
from roost.db.engine import Database
from roost.db.migrate import SchemaTooNew, UnknownRevision, schema_status
from roost.errors import RoostError
from roost.ops.upgrade import Change, safe_downgrade, safe_upgrade

_NO_BACKUP_WARNING = (
    "roost: warning: --no-backup: no backup is taken; if this change goes wrong, the way "
    "back is a backup you took yourself"
)


def _run(body: Any) -> Change:
    settings = settings_or_exit()
    from roost.api.mastodon import hooks

    hooks.install()  # the backup's verification renders restored posts as the API does
    try:
        change: Change = asyncio.run(body(settings))
    except (RoostError, SchemaTooNew, UnknownRevision) as error:
        raise fail(getattr(error, "message", str(error))) from None
    except OSError as error:
        raise fail(f"cannot reach the database or data directory: {error}") from None
    return change


def _say_backup(change: Change) -> None:
    if change.backup is not None:
        typer.echo(f"backup taken and verified first: {change.backup}")
    elif change.backup_skipped == "--no-backup":
        typer.secho(_NO_BACKUP_WARNING, err=True, fg=typer.colors.YELLOW)


@db_app.command("upgrade")
def db_upgrade(
    no_backup: bool = typer.Option(
        False, "--no-backup", help="Skip the backup taken before migrating (not advised)"
    ),
    backup_to: Path = typer.Option(
        None, "--backup-to", help="Directory for that backup (default: ROOST_BACKUP_DIR)"
    ),
) -> None:
    """Back up and verify, then apply every pending schema migration (all or nothing)."""

    async def body(settings: Settings) -> Change:
        return await safe_upgrade(settings, backup=not no_backup, to=backup_to)

    change = _run(body)
    _say_backup(change)
    status = change.after
    typer.echo(f"schema at revision {status.current} (newest known: {status.head})")


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument(..., help="The schema revision to go back to"),
    no_backup: bool = typer.Option(
        False, "--no-backup", help="Skip the backup taken before migrating (not advised)"
    ),
    backup_to: Path = typer.Option(
        None, "--backup-to", help="Directory for that backup (default: ROOST_BACKUP_DIR)"
    ),
) -> None:
    """Undo migrations back to REVISION where they can be undone; else name the backup."""

    async def body(settings: Settings) -> Change:
        return await safe_downgrade(settings, revision, backup=not no_backup, to=backup_to)

    change = _run(body)
    _say_backup(change)
    typer.echo(f"schema at revision {change.after.current} (was {change.before.current})")


@db_app.command("status")
def db_status() -> None:
    """Show the schema revision and any pending migrations."""

    async def body(settings: Settings, db: Database) -> Any:
        return await schema_status(db)

    status = run_with_db(body, migrate=False)
    typer.echo(f"current revision: {status.current or '(empty database)'}")
    typer.echo(f"newest known:     {status.head}")
    if not status.known:
        raise fail(
            "the database has a revision this release does not know: it was "
            "upgraded by a newer Roost"
        )
    if status.pending:
        typer.echo(f"pending:          {', '.join(status.pending)} (run `roost db upgrade`)")
    else:
        typer.echo("up to date")
