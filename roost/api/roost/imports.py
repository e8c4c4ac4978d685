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
once, and is imported by a background job (roost/importers/twitter/job.py);
roost/ops/import_upload.py receives it, for this route and the web page alike.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from roost.api.auth import services, user
from roost.api.openapi import answers
from roost.api.params import Count, File, Id, OptionalId, Params, Streamed, query
from roost.api.responses import JSON, timestamp
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.importers.twitter import queries
from roost.importers.twitter.runs import ImportRun, get_run, runs_of
from roost.ops.import_upload import receive_archive

router = APIRouter()


class ImportParams(Params):
    """The upload's fields, as the document shows them; the receiver
    (roost/ops/import_upload.py) reads them as they stream in."""

    archive: File = Field(default=None, description="The archive zip (or in a field 'file')")
    visibility: str = Field(default="", description="public (default), unlisted or private")
    skip_retweets: str = Field(default="", description="true: leave retweets out")
    include_dms: str = Field(default="", description="true: import direct messages too")
    force: str = Field(default="", description="true: import even if imported before")


class ImportProgress(BaseModel):
    phase: str
    done: int
    total: int


class ImportRunEntity(BaseModel):
    id: str
    state: str
    twitter_username: str | None
    options: dict[str, Any]
    progress: ImportProgress
    report: dict[str, Any] | None
    error: str | None
    created_at: str
    updated_at: str | None
    finished_at: str | None


class LikedTweet(BaseModel):
    tweet_id: str
    text: str
    url: str | None


class DirectMessage(BaseModel):
    id: str
    conversation_id: str
    sender_id: str | None
    recipient_id: str | None
    text: str
    created_at: str | None


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


@router.post("/api/v1/roost/imports", responses=answers(ImportRunEntity, status=202, errors=(507,)))
async def upload(
    request: Request,
    viewer: Viewer = Depends(user("write:statuses")),
    # Streamed to the data directory as it arrives (save_upload), then validated.
    _declared: ImportParams = Depends(Streamed(ImportParams)),
) -> JSON:
    assert viewer.account_id is not None
    run = await receive_archive(request, services(request), viewer.account_id)
    return JSON(_run_json(run), status_code=202)


@router.get("/api/v1/roost/imports", responses=answers(list[ImportRunEntity]))
async def list_imports(request: Request, viewer: Viewer = Depends(user("read:statuses"))) -> JSON:
    assert viewer.account_id is not None
    async with services(request).db.read() as conn:
        runs = await runs_of(conn, viewer.account_id)
    return JSON([_run_json(r) for r in runs])


class _LikesParams(Params):
    q: str = Field(default="", description="Words the liked tweet contains")
    max_id: OptionalId = Field(default=None, description="Only tweets older than this id")
    limit: Count = 40


@router.get("/api/v1/roost/imports/likes", responses=answers(list[LikedTweet]))
async def liked_tweets(
    request: Request,
    viewer: Viewer = Depends(user("read:favourites")),
    params: _LikesParams = Depends(query(_LikesParams)),
) -> JSON:
    assert viewer.account_id is not None
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
    conversation_id: str | None = Field(default=None, description="Twitter's conversation id")
    max_id: OptionalId = None
    limit: Count = 40


@router.get("/api/v1/roost/imports/direct_messages", responses=answers(list[DirectMessage]))
async def direct_messages(
    request: Request,
    viewer: Viewer = Depends(user("read:statuses")),
    params: _MessagesParams = Depends(query(_MessagesParams)),
) -> JSON:
    assert viewer.account_id is not None
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


@router.get("/api/v1/roost/imports/{import_id}", responses=answers(ImportRunEntity))
async def get_import(
    request: Request, import_id: Id, viewer: Viewer = Depends(user("read:statuses"))
) -> JSON:
    async with services(request).db.read() as conn:
        run = await get_run(conn, import_id)
    if run is None or run.account_id != viewer.account_id:
        raise NotFound()
    return JSON(_run_json(run))
