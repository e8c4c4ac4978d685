"""roost import twitter PATH --account NAME"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from roost.cli.base import app, elapsed_since, fail, run_with_db
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.queries import account_id_for_username
from roost.domain.types import Visibility
from roost.importers.twitter.report import Report
from roost.importers.twitter.run import ImportRequest, import_archive
from roost.importers.twitter.runs import IMPORT_VISIBILITIES, ImportOptions, ImportRun

import_app = typer.Typer(help="Bring your history from elsewhere.", no_args_is_help=True)
app.add_typer(import_app, name="import")

_PHASES = {
    "posts": "posts",
    "threads": "threads and links",
    "likes": "likes",
    "follower": "followers",
    "following": "following",
    "block": "blocks",
    "mute": "mutes",
    "dms": "direct messages",
}
_SHOWN_MISSING = 20


@import_app.command("twitter")
def twitter(
    path: Path = typer.Argument(
        ..., help="The archive zip, its extracted folder, or a bare tweets.js"
    ),
    account: str = typer.Option(..., "--account", help="The Roost account to import into"),
    visibility: str = typer.Option(
        "public", "--visibility", help="Of the imported posts: public, unlisted or private"
    ),
    skip_retweets: bool = typer.Option(False, "--skip-retweets", help="Leave retweets out"),
    include_dms: bool = typer.Option(
        False, "--include-dms", help="Keep direct messages too (readable by the owner alone)"
    ),
    force: bool = typer.Option(
        False, "--force", help="Import even if the archive is another account's"
    ),
) -> None:
    """Import a Twitter archive: posts with their dates, threads, likes and more.

    Running it again adds nothing new; an interrupted import resumes.
    """
    try:
        chosen = Visibility.parse(visibility)
    except ValueError:
        chosen = None
    if chosen not in IMPORT_VISIBILITIES:
        raise fail(f"--visibility must be public, unlisted or private, not {visibility!r}")
    assert chosen is not None
    options = ImportOptions(
        visibility=chosen, skip_retweets=skip_retweets, include_dms=include_dms, force=force
    )
    source = path.expanduser()
    start = time.monotonic()

    async def body(settings: Settings, db: Database) -> ImportRun:
        async with db.read() as conn:
            account_id = await account_id_for_username(conn, account)
        if account_id is None:
            raise fail(f"no account named {account}; create it with `roost accounts create`")
        request = ImportRequest(account_id=account_id, source=source, options=options)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("reading the archive", total=None)

            def advance(phase: str, done: int, total: int) -> None:
                label = _PHASES.get(phase, phase)
                bar.update(task, description=f"importing {label}", completed=done, total=total)

            try:
                return await import_archive(db, settings, request, on_progress=advance)
            except OSError as error:
                raise fail(f"cannot read {path}: {error.strerror or error}") from None

    run = run_with_db(body)
    _print_report(Report.from_json(run.report), account, run.id, elapsed_since(start))


def _print_report(report: Report, account: str, run_id: int, took: str) -> None:
    console = Console()
    table = Table("", "imported", "skipped", "failed", title=f"@{account}: import {run_id}")
    for kind, counts in report.counts.items():
        table.add_row(
            kind.replace("_", " "),
            str(counts.get("imported", 0)),
            str(counts.get("skipped", 0)),
            str(counts.get("failed", 0)),
        )
    console.print(table)
    for kind, reasons in report.skipped.items():
        for reason, amount in reasons.items():
            console.print(f"  skipped {kind.replace('_', ' ')}: {reason}: {amount}")
    for detail, amount in report.details.items():
        console.print(f"  {detail}: {amount}")
    if report.profile:
        console.print(f"  profile: set {', '.join(report.profile)}")
    if report.missing_media_count:
        console.print(f"  media files missing from the archive: {report.missing_media_count}")
        for name in report.missing_media[:_SHOWN_MISSING]:
            console.print(f"    {name}")
        if report.missing_media_count > _SHOWN_MISSING:
            console.print(f"    and {report.missing_media_count - _SHOWN_MISSING} more")
    for note in report.notes:
        console.print(f"  note: {note}")
    console.print(f"done in {took}")
