"""The outbox jobs of imports.

``import.twitter`` runs an uploaded archive's import in the background. If the
worker dies midway, the job runs again and the import resumes where its last
batch committed. An archive that is refused fails the run with its reason (the
owner sees it when polling) instead of being retried; the uploaded file is
removed once the run is done or failed.

``import.twitter.index`` puts a batch of imported posts into the search
index, through the index's own ``sync``: imported posts take no other way
there, since they never pass through ``status.published``.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from roost.errors import Conflict, RoostError, Unavailable
from roost.importers.twitter.run import ImportRequest, import_archive
from roost.importers.twitter.runs import DONE, FAILED, IMPORT_JOB, do_update_run, get_run
from roost.importers.twitter.store import INDEX_JOB
from roost.jobs.registry import JobContext, RetryLater, handles
from roost.search.index import index_for

log = logging.getLogger("roost.importers")


def uploads_dir(data_dir: Path) -> Path:
    """Where uploaded archives wait for their import (inside the data directory)."""
    return data_dir / "imports"


@handles(IMPORT_JOB)
async def run_upload(ctx: JobContext, payload: dict[str, Any]) -> None:
    run_id = int(payload["import_id"])
    async with ctx.db.read() as conn:
        run = await get_run(conn, run_id)
    if run is None:
        # Its account was erased meanwhile: the upload goes too.
        folder = uploads_dir(ctx.settings.data_dir) / str(run_id)
        _remove_upload(ctx.settings.data_dir, folder / "archive.zip", True)
        return
    if run.state in (DONE, FAILED):
        return
    request = ImportRequest(
        account_id=run.account_id, source=Path(run.source), options=run.options, run_id=run.id
    )
    try:
        await import_archive(ctx.db, ctx.settings, request)
    except Conflict as busy:
        raise RetryLater(busy.message, delay_s=30.0) from None
    except Unavailable:
        raise
    except RoostError as refused:
        log.info("import %s refused: %s", run_id, refused.message)
        async with ctx.db.write() as tx:
            await do_update_run(tx, run_id, state=FAILED, error=refused.message)
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


@handles(INDEX_JOB)
async def index_imported(ctx: JobContext, payload: dict[str, Any]) -> None:
    ids = [int(i) for i in payload["status_ids"]]
    async with ctx.db.write() as tx:
        await index_for(ctx.db.engine.dialect.name).sync(tx, ids)
