"""The outbox jobs of imports.

``import.twitter`` runs an uploaded archive's import. A big archive takes
minutes, and an embedded server has one job runner: holding it that long
would hold up every notification meanwhile. So the job starts the import as a
task of its own in this process and waits on it only briefly; while it is not
finished the job goes back to the queue (``RetryLater``, no attempt counted)
and is looked at again a moment later, after the jobs that queued meanwhile.
The job is done when the import is. If the process dies, the task dies with
it, the job is still queued, and whichever runner takes it next starts the
import again, which resumes where its last batch committed. A run another
process is at (its heartbeat is fresh) is left to it.

An archive that is refused fails the run with its reason (the owner sees it
when polling) instead of being retried; the uploaded file is removed once the
run is done or failed.

``import.twitter.index`` puts a batch of imported posts into the search
index, through the index's own ``sync``: imported posts take no other way
there, since they never pass through ``status.published``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from roost.clock import utcnow
from roost.domain.jobs import JobContext
from roost.errors import Conflict, RetryLater, RoostError, Unavailable
from roost.importers.twitter.run import ImportRequest, import_archive
from roost.importers.twitter.runs import (
    DONE,
    FAILED,
    RUNNING,
    STALE_AFTER,
    ImportArchive,
    ImportRun,
    do_update_run,
    get_run,
)
from roost.importers.twitter.store import IndexImported
from roost.jobs.registry import handles

log = logging.getLogger("roost.importers")

# How long one turn of the job waits on its import, and how soon it is
# looked at again when the import is still at work.
WAIT_S = 0.5
RECHECK_S = 2.0

# The imports this process is running, by run id.
_running: dict[int, asyncio.Task[ImportRun]] = {}


def uploads_dir(data_dir: Path) -> Path:
    """Where uploaded archives wait for their import (inside the data directory)."""
    return data_dir / "imports"


@handles(ImportArchive)
async def run_upload(ctx: JobContext, job: ImportArchive) -> None:
    run_id = job.import_id
    task = _running.get(run_id)
    if task is None:
        async with ctx.db.read() as conn:
            run = await get_run(conn, run_id)
        if run is None:
            # Its account was erased meanwhile: the upload goes too.
            folder = uploads_dir(ctx.settings.data_dir) / str(run_id)
            _remove_upload(ctx.settings.data_dir, folder / "archive.zip", True)
            return
        if run.state in (DONE, FAILED):
            return
        if run.state == RUNNING and run.updated_at > utcnow() - STALE_AFTER:
            raise RetryLater("the import is at work in another process", delay_s=30.0)
        request = ImportRequest(
            account_id=run.account_id, source=Path(run.source), options=run.options, run_id=run_id
        )
        task = asyncio.create_task(
            import_archive(ctx.db, ctx.settings, request), name=f"import-{run_id}"
        )
        _running[run_id] = task
    done, _pending = await asyncio.wait({task}, timeout=WAIT_S)
    if not done:
        raise RetryLater("the import is still running", delay_s=RECHECK_S)
    del _running[run_id]
    await _finish(ctx, run_id, task)


async def _finish(ctx: JobContext, run_id: int, task: asyncio.Task[ImportRun]) -> None:
    try:
        run = task.result()
    except Conflict as busy:
        raise RetryLater(busy.message, delay_s=30.0) from None
    except Unavailable:
        raise
    except RoostError as refused:
        log.info("import %s refused: %s", run_id, refused.message)
        async with ctx.db.write() as tx:
            await do_update_run(tx, run_id, state=FAILED, error=refused.message)
        async with ctx.db.read() as conn:
            failed = await get_run(conn, run_id)
        if failed is not None:
            _remove_upload(ctx.settings.data_dir, Path(failed.source), failed.uploaded)
        return
    _remove_upload(ctx.settings.data_dir, Path(run.source), run.uploaded)


def _remove_upload(data_dir: Path, source: Path, uploaded: bool) -> None:
    """Remove an upload's file and its folder (``imports/<run id>/``), never
    anything outside the uploads folder."""
    folder = uploads_dir(data_dir).resolve()
    if not uploaded or not source.resolve().is_relative_to(folder):
        return
    source.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        source.parent.rmdir()


@handles(IndexImported)
async def index_imported(ctx: JobContext, job: IndexImported) -> None:
    async with ctx.db.write() as tx:
        await ctx.search.sync(tx, list(job.status_ids))
