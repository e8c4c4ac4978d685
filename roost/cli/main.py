"""The ``roost`` command: run the server and look after it.

Every command reads the same ROOST_* settings as the server. Errors are one
sentence naming the problem and the fix, and exit 1; never a traceback.
"""

from __future__ import annotations

from typing import Any

import typer

from roost.cli import accounts as _accounts  # noqa: F401  (registers its commands)
from roost.cli import announcements as _announcements  # noqa: F401
from roost.cli import backup as _backup  # noqa: F401
from roost.cli import doctor as _doctor  # noqa: F401
from roost.cli import emoji as _emoji  # noqa: F401
from roost.cli import erase as _erase  # noqa: F401
from roost.cli import export as _export  # noqa: F401
from roost.cli import imports as _imports  # noqa: F401
from roost.cli import jobs as _jobs  # noqa: F401
from roost.cli import search as _search  # noqa: F401
from roost.cli import serve as _serve  # noqa: F401
from roost.cli.base import app, db_app, fail, run_with_db
from roost.config import Settings
from roost.db.engine import Database
from roost.db.migrate import schema_status, upgrade

__all__ = ["app"]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending schema migration."""

    async def body(settings: Settings, db: Database) -> Any:
        return await upgrade(db)

    status = run_with_db(body, migrate=False)
    typer.echo(f"schema at revision {status.current} (newest known: {status.head})")


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
