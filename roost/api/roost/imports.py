"""/api/v1/roost/imports: an account owner brings their Twitter archive.

    POST /api/v1/roost/imports                   upload (multipart: archive, and
                                                 visibility, skip_retweets,
                                                 include_dms, force); 202 + the run
    GET  /api/v1/roost/imports                   the owner's imports, newest first
    GET  /api/v1/roost/imports/{id}              one import: state, progress, report
    GET  /api/v1/roost/imports/likes?q=          the owner's liked tweets, searchable
    GET  /api/v1/roost/imports/direct_messages   the owner's imported messages

Every route reads the signed-in account's own rows only; another account's
import is simply not found. The upload streams to ``imports/<id>/`` in the
data directory, is checked enough to refuse what is plainly no archive at
once, and is imported by a background job (roost/importers/twitter/job.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon.serializers import timestamp
from roost.api.params import Params, parse_id, validate
from roost.api.responses import JSON
from roost.api.roost.streamed_upload import save_upload
from roost.domain.types import Viewer, Visibility
from roost.errors import Invalid, NotFound
from roost.ids import new_id
from roost.importers.twitter import queries
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
    runs_of,
)
from roost.ops.disk import check_upload_space

router = APIRouter()

_TRUE = {"1", "true", "on", "yes"}


def _run_json(run: ImportRun) -> dict[str, Any]:
    progress = run.progress
    return {
        "id": str(run.id),
        "state": run.state,
        "twitter_username": run.twitter_username,
        "options": run.options.to_json(),
        "progress": {
            "phase": progress.get("phase", "waiting"),
            "done": int(progress.get("done", 0)),
            "total": int(progress.get("total", 0)),
        },
        "report": run.report,
        "error": run.error,
        "created_at": timestamp(run.created_at),
        "updated_at": timestamp(run.updated_at),
        "finished_at": timestamp(run.finished_at),
    }


def _options(fields: dict[str, str]) -> ImportOptions:
    try:
        visibility = Visibility.parse(fields.get("visibility") or "public")
    except ValueError:
        visibility = Visibility.DIRECT
    if visibility not in IMPORT_VISIBILITIES:
        raise Invalid("Validation failed: visibility must be public, unlisted or private")
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


@router.post("/api/v1/roost/imports")
async def upload(request: Request, viewer: Viewer = Depends(user("write:statuses"))) -> JSON:
    svc = services(request)
    settings = svc.settings
    assert viewer.account_id is not None
    check_upload_space(settings)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.import_max_upload_bytes + 65536:
        raise Invalid(
            f"Validation failed: the archive is larger than the "
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
            file_fields=("archive", "file"),
            max_bytes=settings.import_max_upload_bytes,
        )
        if saved.path is None:
            raise Invalid("Validation failed: send the archive zip in a field 'archive'")
        options = _options(saved.fields)
        await asyncio.to_thread(_precheck, target, limits_for(settings))
        async with svc.db.write() as tx:
            await do_queue_upload(tx, run_id, viewer.account_id, str(target), options)
    except BaseException:
        await asyncio.to_thread(_discard, folder)
        raise
    async with svc.db.read() as conn:
        run = await get_run(conn, run_id)
    assert run is not None
    return JSON(_run_json(run), status_code=202)


@router.get("/api/v1/roost/imports")
async def list_imports(request: Request, viewer: Viewer = Depends(user("read:statuses"))) -> JSON:
    assert viewer.account_id is not None
    async with services(request).db.read() as conn:
        runs = await runs_of(conn, viewer.account_id)
    return JSON([_run_json(r) for r in runs])


class _LikesParams(Params):
    q: str = ""
    max_id: int | None = None
    limit: int = 40


@router.get("/api/v1/roost/imports/likes")
async def liked_tweets(request: Request, viewer: Viewer = Depends(user("read:favourites"))) -> JSON:
    assert viewer.account_id is not None
    params = validate(_LikesParams, dict(request.query_params))
    limit = max(1, min(params.limit, queries.MAX_LIMIT))
    async with services(request).db.read() as conn:
        page = await queries.liked_tweets(
            conn, viewer.account_id, q=params.q[:200], max_id=params.max_id, limit=limit
        )
    response = JSON(
        [{"tweet_id": str(x.tweet_id), "text": x.text, "url": x.url} for x in page.likes]
    )
    if page.oldest_tweet_id is not None:
        base = str(request.url.remove_query_params(["max_id"]))
        joiner = "&" if "?" in base else "?"
        response.headers["Link"] = f'<{base}{joiner}max_id={page.oldest_tweet_id}>; rel="next"'
    return response


class _MessagesParams(Params):
    conversation_id: str | None = None
    max_id: int | None = None
    limit: int = 40


@router.get("/api/v1/roost/imports/direct_messages")
async def direct_messages(
    request: Request, viewer: Viewer = Depends(user("read:statuses"))
) -> JSON:
    assert viewer.account_id is not None
    params = validate(_MessagesParams, dict(request.query_params))
    limit = max(1, min(params.limit, queries.MAX_LIMIT))
    async with services(request).db.read() as conn:
        found = await queries.direct_messages(
            conn,
            viewer.account_id,
            conversation_id=params.conversation_id,
            max_id=params.max_id,
            limit=limit,
        )
    return JSON(
        [
            {
                "id": str(m.message_id),
                "conversation_id": m.conversation_id,
                "sender_id": str(m.sender_id) if m.sender_id is not None else None,
                "recipient_id": str(m.recipient_id) if m.recipient_id is not None else None,
                "text": m.text,
                "created_at": timestamp(m.created_at),
            }
            for m in found
        ]
    )


@router.get("/api/v1/roost/imports/{import_id}")
async def get_import(
    request: Request, import_id: str, viewer: Viewer = Depends(user("read:statuses"))
) -> JSON:
    async with services(request).db.read() as conn:
        run = await get_run(conn, parse_id(import_id))
    if run is None or run.account_id != viewer.account_id:
        raise NotFound()
    return JSON(_run_json(run))
