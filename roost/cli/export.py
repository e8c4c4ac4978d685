"""roost export account NAME --to FILE"""

from __future__ import annotations

from pathlib import Path

import typer

from roost.cli.base import app, fail, run_with_db
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.queries import account_id_for_username
from roost.export.archive import ExportSummary, build_export

export_app = typer.Typer(help="Export data in portable formats.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("account")
def export_account(
    name: str = typer.Argument(..., help="The username"),
    to: Path = typer.Option(..., "--to", help="The archive to write (.zip)"),
) -> None:
    """Write an account's Mastodon-compatible archive (posts, likes, bookmarks,
    media, and the CSV files Mastodon imports)."""
    if to.exists():
        raise fail(f"{to} already exists; name a new file")

    async def body(settings: Settings, db: Database) -> ExportSummary:
        async with db.read() as conn:
            account_id = await account_id_for_username(conn, name)
            if account_id is None:
                raise fail(f"no account named {name}")
            return await build_export(conn, settings, account_id, to)

    summary = run_with_db(body)
    typer.echo(
        f"exported @{name} to {summary.path}: {summary.posts} posts, "
        f"{summary.media_files} media files, {summary.size} bytes"
    )
