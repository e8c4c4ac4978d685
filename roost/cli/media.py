"""roost media remote usage|prune: other servers' media files cached here,
against their budget (ROOST_REMOTE_MEDIA_BUDGET, roost/domain/federation/
remote_media.py). ``prune`` does at once what the periodic upkeep does:
removes the files (never the rows) of the least recently used remote media
beyond the budget or unused past the retention; local media are never
touched."""

from __future__ import annotations

import json

import typer

from roost.cli.base import app, run_with_db
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.federation import remote_media
from roost.media.store import media_store

media_app = typer.Typer(help="Media files kept here.", no_args_is_help=True)
remote_app = typer.Typer(
    help="Other servers' media files cached here, under their budget.", no_args_is_help=True
)
app.add_typer(media_app, name="media")
media_app.add_typer(remote_app, name="remote")


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


@remote_app.command("usage")
def usage(as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON")) -> None:
    """How many remote files are cached, their bytes, the budget, and how
    many were pruned (fetched again when asked for)."""

    async def body(settings: Settings, db: Database) -> remote_media.Usage:
        return await remote_media.usage(db, settings)

    found = run_with_db(body)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "files": found.files,
                    "bytes": found.bytes,
                    "budget": found.budget,
                    "pruned": found.pruned,
                }
            )
        )
        return
    budget = f"{found.budget} bytes" if found.budget else "none"
    typer.echo(
        f"remote media: {found.files} files, {found.bytes} bytes ({_size(found.bytes)}); "
        f"budget {budget}; {found.pruned} pruned"
    )


@remote_app.command("prune")
def prune() -> None:
    """Remove the files of remote media beyond the budget or the retention now."""

    async def body(settings: Settings, db: Database) -> remote_media.Pruned:
        return await remote_media.prune(db, settings, media_store(settings))

    done = run_with_db(body)
    typer.echo(f"pruned {done.files} remote files, {done.bytes} bytes")
