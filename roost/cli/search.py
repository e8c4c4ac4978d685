"""roost search reindex"""

from __future__ import annotations

import time

import typer
from rich.progress import Progress

from roost.cli.base import app, elapsed_since, run_with_db
from roost.config import Settings
from roost.db.engine import Database
from roost.search.index import index_for

search_app = typer.Typer(help="The full-text search index.", no_args_is_help=True)
app.add_typer(search_app, name="search")


@search_app.command("reindex")
def reindex() -> None:
    """Rebuild the search index from the posts; searching keeps working meanwhile."""
    start = time.monotonic()

    async def body(settings: Settings, db: Database) -> int:
        with Progress(transient=True) as bar:
            task = bar.add_task("indexing posts", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await index_for(db.engine.dialect.name).rebuild(db, advance)

    indexed = run_with_db(body)
    typer.echo(f"indexed {indexed} posts in {elapsed_since(start)}")
