"""Receiving a Twitter archive upload: the one way in for the API
(``POST /api/v1/roost/imports``) and the web page (``POST /settings/import``).

The multipart body streams to ``imports/<id>/`` in the data directory
(roost/ops/streamed_upload.py), counted against
``ROOST_IMPORT_MAX_UPLOAD_BYTES`` as it arrives; the archive is checked
enough to refuse what is plainly no archive at once, and its import is
queued for the background job (roost/importers/twitter/job.py). Nothing is
left behind when it is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi import Request

from roost.domain.types import Visibility
from roost.errors import Invalid, RuleBroken
from roost.ids import new_id
from roost.importers.twitter.archive import Limits, open_archive
from roost.importers.twitter.job import uploads_dir
from roost.importers.twitter.layout import find_layout
from roost.importers.twitter.run import limits_for
from roost.importers.twitter.runs import (
    IMPORT_VISIBILITIES,
    ImportOptions,
    ImportRun,
    do_queue_upload,
    get_run,
)
from roost.ops.disk import check_upload_space
from roost.ops.streamed_upload import save_upload
from roost.services import Services

FILE_FIELDS = ("archive", "file")
OPTION_FIELDS = ("visibility", "skip_retweets", "include_dms", "force")
"""The text fields of the upload, besides the archive: visibility (public,
the default, unlisted or private), and skip_retweets, include_dms and force
(each true when 1, true, on or yes)."""

_TRUE = {"1", "true", "on", "yes"}


def import_options(fields: dict[str, str]) -> ImportOptions:
    """The import's options from the upload's text fields (others ignored)."""
    problems = [
        f"{name} must not contain nul characters"
        for name in OPTION_FIELDS
        if "\x00" in fields.get(name, "")
    ]
    if problems:
        raise Invalid("Validation failed: " + "; ".join(problems))
    try:
        visibility = Visibility.parse(fields.get("visibility") or "public")
    except ValueError:
        visibility = Visibility.DIRECT
    if visibility not in IMPORT_VISIBILITIES:
        raise RuleBroken("visibility must be public, unlisted or private")
    return ImportOptions(
        visibility=visibility,
        skip_retweets=fields.get("skip_retweets", "").lower() in _TRUE,
        include_dms=fields.get("include_dms", "").lower() in _TRUE,
        force=fields.get("force", "").lower() in _TRUE,
    )


def _precheck(path: Path, limits: Limits) -> None:
    """Refuse at once what is plainly no archive (not a zip, a bomb, entries
    leaving the archive, no tweets): the job would only fail later."""
    with open_archive(path, limits) as archive:
        find_layout(archive)


def _discard(folder: Path) -> None:
    """Remove a refused upload's folder and what the upload left in it."""
    for leftover in folder.glob("*"):
        leftover.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()


async def receive_archive(request: Request, svc: Services, account_id: int) -> ImportRun:
    """Stream the request's multipart archive to the data directory, check it
    is plausibly an archive, and queue its import for ``account_id``."""
    settings = svc.settings
    check_upload_space(settings)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.import_max_upload_bytes + 65536:
        raise RuleBroken(
            f"the archive is larger than the "
            f"{settings.import_max_upload_bytes} byte limit (ROOST_IMPORT_MAX_UPLOAD_BYTES)"
        )
    run_id = new_id()
    folder = uploads_dir(settings.data_dir) / str(run_id)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    target = folder / "archive.zip"
    try:
        saved = await save_upload(
            request,
            target,
            file_fields=FILE_FIELDS,
            max_bytes=settings.import_max_upload_bytes,
        )
        if saved.path is None:
            raise RuleBroken("send the archive zip in a field 'archive'")
        options = import_options(dict(saved.fields))
        await asyncio.to_thread(_precheck, target, limits_for(settings))
        async with svc.db.write() as tx:
            await do_queue_upload(tx, run_id, account_id, str(target), options)
    except BaseException:
        await asyncio.to_thread(_discard, folder)
        raise
    async with svc.db.read() as conn:
        run = await get_run(conn, run_id)
    assert run is not None
    return run
