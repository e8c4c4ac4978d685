"""roost check replicas | derived: copies and derived stores that disagree."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from roost.cli.base import app, fail, run_with_db, settings_or_exit
from roost.config import Settings
from roost.db.engine import Database
from roost.errors import RoostError
from roost.ops.derived_check import DerivedReport, check_derived
from roost.ops.divergence import Comparison, compare, repair_plan
from roost.services import build_services

check_app = typer.Typer(help="Find copies of the data that disagree.", no_args_is_help=True)
app.add_typer(check_app, name="check")


@check_app.command("replicas")
def replicas(
    against: str = typer.Option(
        ..., "--against", help="The other database: a replica or a restored backup (URL)"
    ),
    trust: str = typer.Option(
        "primary", "--trust", help="The side that is right: primary (ours) or replica"
    ),
) -> None:
    """Compare every table with another database, range by range; name the rows
    that differ and print a repair plan from the side trusted. Exit 1 if any differ."""
    if trust not in ("primary", "replica"):
        raise fail(f"--trust {trust}: say primary or replica")
    settings = settings_or_exit()
    try:
        other_settings = Settings.model_validate({**settings.model_dump(), "database_url": against})
    except ValueError:
        raise fail(f"--against {against}: not a sqlite:/// or postgresql:// URL") from None
    if other_settings.sqlalchemy_url == settings.sqlalchemy_url:
        raise fail("--against names this installation's own database")
    if other_settings.is_sqlite != settings.is_sqlite:
        raise fail("both databases must be of one engine (SQLite or PostgreSQL)")

    async def body() -> Comparison:
        ours, theirs = Database(settings), Database(other_settings)
        try:
            return await compare(ours, theirs)
        finally:
            await ours.dispose()
            await theirs.dispose()

    try:
        result = asyncio.run(body())
    except OSError as error:
        raise fail(f"cannot reach a database: {error}") from None
    except RoostError as error:
        raise fail(error.message) from None
    typer.echo(
        f"compared {result.tables} tables, {result.rows} rows in {result.ranges} ranges: "
        f"{result.ranges_differing} range(s) differ"
    )
    for table in result.missing_tables:
        typer.echo(f"  table {table}: missing on the replica")
    for diff in result.differences:
        key = ",".join(str(part) for part in diff.key)
        columns = f" ({', '.join(diff.columns)})" if diff.columns else ""
        typer.echo(f"  {diff.table} {key}: {diff.kind}{columns}")
    if not (result.differences or result.missing_tables):
        typer.echo("the two databases hold the same rows")
        return
    typer.echo(f"repair plan (the {trust} is right):")
    for step in repair_plan(result, trust):
        typer.echo(f"  {step}")
    raise typer.Exit(1)


@check_app.command("derived")
def derived(
    repair: bool = typer.Option(False, "--repair", help="Rewrite what disagrees"),
) -> None:
    """Compare counters and the search index with the rows they come from.
    Exit 1 if any disagree and --repair was not given."""

    async def body(settings: Settings, db: Database) -> Any:
        services = build_services(settings, db)
        try:
            return await check_derived(services, repair=repair)
        finally:
            await services.close()

    report: DerivedReport = run_with_db(body)
    for drift in report.counters:
        typer.echo(
            f"  {drift.table} {drift.id}: {drift.column} is {drift.stored}, "
            f"the rows say {drift.actual}"
        )
    for post in report.index_missing:
        typer.echo(f"  search index: post {post} is missing")
    for post in report.index_stale:
        typer.echo(f"  search index: an entry for post {post}, which is not a post")
    for timeline in report.timelines:
        typer.echo(
            f"  home timeline of account {timeline.account_id} in Redis: "
            f"missing {_ids(timeline.missing)}, stale {_ids(timeline.stale)}"
        )
    for post in report.cached_posts_stale:
        typer.echo(f"  Redis post cache: post {post}, which no longer exists")
    if report.clean:
        typer.echo("counters, the search index and cached timelines agree with the database")
        return
    if report.repaired:
        typer.echo(
            "repaired: counters rewritten, search index entries synced, differing cached "
            "timelines dropped (rebuilt from the database on their next read)"
        )
        return
    typer.echo("run `roost check derived --repair` to rewrite them")
    raise typer.Exit(1)


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids) or "none"
