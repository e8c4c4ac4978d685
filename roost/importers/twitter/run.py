"""One import of a Twitter archive into one account, from the file handed over
to the report.

1. Open the archive (archive.py: a refused zip ends it here) and find its
   files (layout.py).
2. Read all of it once (scan.py): damaged or foreign input is refused before
   anything is written.
3. Check that the archive is the account's own: its Twitter name must be the
   account's name, or the account must already hold this Twitter account's
   history; ``force`` overrides both.
4. Start the run, or resume the unfinished one of the same archive, and write
   everything (phases.py), batch by batch, each with its progress.

The CLI calls ``import_archive`` directly; an upload through the API queues a
job that does (job.py). Both see ``ArchiveRefused`` (and other ``RoostError``)
as one sentence for the owner.

While it runs, the objects the process already had are kept out of the
garbage collector's full passes (``gc.freeze``, undone at the end): an import
makes and drops a batch of objects a thousand times, which sets off a full pass
every few batches, and each would otherwise walk every object of the whole
program (about 1.5 of 10 CPU seconds for 50,000 tweets).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import accounts
from roost.errors import NotFound
from roost.importers.twitter.archive import Archive, ArchiveRefused, Limits, open_archive
from roost.importers.twitter.layout import find_layout
from roost.importers.twitter.mapping import Owner
from roost.importers.twitter.media import MediaImporter
from roost.importers.twitter.phases import Importer, Progress
from roost.importers.twitter.report import Report
from roost.importers.twitter.runs import (
    DONE,
    RUNNING,
    ImportOptions,
    ImportRun,
    check_not_running,
    do_create_run,
    do_update_run,
    get_run,
    linked_twitter_account,
    unfinished_run,
)
from roost.importers.twitter.scan import Scan, scan
from roost.media.store import MediaStore


@dataclass(frozen=True, slots=True)
class ImportRequest:
    account_id: int
    source: Path
    options: ImportOptions
    # An upload's run, made when it arrived; None: find or start one.
    run_id: int | None = None


def limits_for(settings: Settings) -> Limits:
    return Limits(
        max_unpacked_bytes=settings.import_max_unpacked_bytes, max_ratio=settings.import_max_ratio
    )


async def import_archive(
    db: Database,
    settings: Settings,
    request: ImportRequest,
    *,
    on_progress: Progress | None = None,
    store: MediaStore | None = None,
) -> ImportRun:
    """Import the archive; returns the finished run with its report.

    ArchiveRefused (one sentence) for input that is not an archive to import;
    nothing is written then. Any other failure leaves a run that the next
    import of the same archive resumes.
    """
    archive = await asyncio.to_thread(open_archive, request.source, limits_for(settings))
    with _older_objects_set_aside():
        return await _import(db, settings, request, archive, on_progress, store)


@contextlib.contextmanager
def _older_objects_set_aside() -> Iterator[None]:
    """``gc.freeze`` for the duration, unless something else froze objects
    already (then it is theirs to manage); unfreezing hands them back to the
    collector, so nothing is kept that would otherwise be freed."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _import(
    db: Database,
    settings: Settings,
    request: ImportRequest,
    archive: Archive,
    on_progress: Progress | None,
    store: MediaStore | None,
) -> ImportRun:
    try:
        layout = await asyncio.to_thread(find_layout, archive)
        scanned = await asyncio.to_thread(
            scan, archive, layout, include_dms=request.options.include_dms
        )
        username = await _username(db, request.account_id)
        await _check_owner(db, request, archive, scanned.owner, username)
        run = await _begin(db, request, scanned)
        report = Report.from_json(run.report)
        media = MediaImporter(db, settings, archive, layout, request.account_id, report, store)
        importer = Importer(
            db, settings, archive, layout, scanned, run, username, report, media, on_progress
        )
        await importer.run_all()
        async with db.write() as tx:
            await do_update_run(
                tx,
                run.id,
                state=DONE,
                error=None,
                progress={**run.progress, **_final(importer)},
                report=report.to_json(),
            )
    finally:
        archive.close()
    async with db.read() as conn:
        finished = await get_run(conn, run.id)
    assert finished is not None
    return finished


def _final(importer: Importer) -> dict[str, object]:
    done = sum(importer.positions.values())
    return {"phase": "done", "done": done, "total": done, "positions": importer.positions}


async def _username(db: Database, account_id: int) -> str:
    async with db.read() as conn:
        name = (
            await conn.execute(select(accounts.c.username).where(accounts.c.id == account_id))
        ).scalar_one_or_none()
    if name is None:
        raise NotFound("No such account")
    return str(name)


async def _check_owner(
    db: Database, request: ImportRequest, archive: Archive, owner: Owner, username: str
) -> None:
    if request.options.force:
        return
    if owner.twitter_id is None:
        raise ArchiveRefused(
            f"{archive.label} does not say whose tweets these are (an archive's account.js "
            f"does); pass --force to import them into @{username}"
        )
    async with db.read() as conn:
        linked = await linked_twitter_account(conn, request.account_id)
    if linked is not None:
        if linked[0] == owner.twitter_id:
            return
        raise ArchiveRefused(
            f"@{username} already holds the Twitter history of @{linked[1]}, and this archive "
            f"is @{owner.screen_name}'s; pass --force to import it as well"
        )
    if (owner.screen_name or "").lower() != username.lower():
        raise ArchiveRefused(
            f"This archive is @{owner.screen_name}'s on Twitter, not @{username}'s; pass "
            f"--force to import it into @{username} anyway"
        )


async def _begin(db: Database, request: ImportRequest, scanned: Scan) -> ImportRun:
    async with db.write() as tx:
        if request.run_id is not None:
            run_id = request.run_id
        else:
            earlier = await unfinished_run(tx.conn, request.account_id, scanned.fingerprint)
            run_id = (
                earlier.id
                if earlier is not None
                else await do_create_run(
                    tx,
                    request.account_id,
                    str(request.source),
                    request.options,
                    uploaded=False,
                    state=RUNNING,
                )
            )
        await check_not_running(tx.conn, request.account_id, run_id)
        await do_update_run(
            tx,
            run_id,
            state=RUNNING,
            fingerprint=scanned.fingerprint,
            twitter_account_id=scanned.owner.twitter_id,
            twitter_username=scanned.owner.screen_name,
            options=request.options.to_json(),
            error=None,
        )
        run = await get_run(tx.conn, run_id)
    if run is None:
        raise NotFound("No such import")
    return run
