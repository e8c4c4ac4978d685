"""/api/v1/annual_reports: the viewer's yearly summaries ("Wrapstodon").

Offered from the 10th to the 31st of December for that year, to an account
that posted in it (roost/domain/annual_reports/actions.py says the rules).
``POST /:year/generate`` starts a job that computes the report from the
viewer's own posts, hashtags and followers, and answers 202 with a
``Mastodon-Async-Refresh`` header naming the refresh, which
``GET /api/v1_alpha/async_refreshes/:id`` (async_refreshes.py) follows until
it is finished. ``share_url`` is null: Roost has no page that shows a report
to others.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roost.api.auth import services, user
from roost.api.mastodon import serializers
from roost.api.mastodon.personal_schema import AnnualReportState, WrappedAnnualReports
from roost.api.mastodon.schema import Empty
from roost.api.openapi import answers
from roost.api.responses import JSON
from roost.domain.annual_reports import actions
from roost.domain.statuses import queries as status_queries
from roost.domain.types import Viewer
from roost.errors import NotFound

router = APIRouter()

RETRY_S = 2
_REFRESH_PREFIX = "wrapstodon"


def refresh_id(account_id: int, year: int) -> str:
    """The async refresh of one account's report of one year, as an opaque id."""
    raw = f"{_REFRESH_PREFIX}:{account_id}:{year}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_refresh_id(value: str) -> tuple[int, int]:
    """(account id, year) of a refresh id; NotFound for anything else."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        prefix, account, year = raw.split(":")
        if prefix != _REFRESH_PREFIX:
            raise ValueError(prefix)
        return int(account), int(year)
    except ValueError:
        raise NotFound("Not Found") from None


def _refresh_header(response: Response, account_id: int, year: int) -> None:
    response.headers["Mastodon-Async-Refresh"] = (
        f'id="{refresh_id(account_id, year)}", retry={RETRY_S}'
    )


def _year(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise NotFound() from None


async def _wrapped(request: Request, viewer: Viewer, year: int | None) -> dict[str, Any]:
    svc = services(request)
    base = svc.settings.base_url
    assert viewer.account_id is not None
    async with svc.db.read() as conn:
        found = await actions.reports(conn, viewer.account_id, year)
        wanted = [
            int(sid)
            for report in found
            for sid in (report.data.get("top_statuses") or {}).values()
            if sid is not None
        ]
        shown = await status_queries.statuses_by_ids(conn, viewer, list(dict.fromkeys(wanted)))
    return {
        "annual_reports": [
            {
                "year": r.year,
                "data": r.data,
                "schema_version": r.schema_version,
                "share_url": None,
                "account_id": str(r.account_id),
            }
            for r in found
        ],
        "accounts": [],
        "statuses": [serializers.status(v, base) for v in shown],
    }


@router.get("/api/v1/annual_reports", responses=answers(WrappedAnnualReports))
async def list_reports(request: Request, viewer: Viewer = Depends(user("read:accounts"))) -> JSON:
    """The viewer's generated reports not yet marked read, with their posts."""
    return JSON(await _wrapped(request, viewer, None))


@router.get("/api/v1/annual_reports/{year}", responses=answers(WrappedAnnualReports, errors=(404,)))
async def get_report(
    request: Request, year: str, viewer: Viewer = Depends(user("read:accounts"))
) -> JSON:
    """The viewer's report of a year (404 until it is generated)."""
    return JSON(await _wrapped(request, viewer, _year(year)))


@router.get("/api/v1/annual_reports/{year}/state", responses=answers(AnnualReportState))
async def report_state(
    request: Request, year: str, viewer: Viewer = Depends(user("read:accounts"))
) -> JSON:
    """available, generating, eligible or ineligible."""
    assert viewer.account_id is not None
    try:
        wanted = _year(year)
    except NotFound:
        return JSON({"state": "ineligible"})
    async with services(request).db.read() as conn:
        found = await actions.state(conn, viewer.account_id, wanted)
    response = JSON({"state": found})
    if found == "generating":
        _refresh_header(response, viewer.account_id, wanted)
    return response


@router.post(
    "/api/v1/annual_reports/{year}/generate",
    responses=answers(Empty, also={202: Empty}),
)
async def generate_report(
    request: Request, year: str, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    """Compute the viewer's report of the year in a job: 202 while it is being
    computed, 200 once it is available or when the viewer is not eligible."""
    assert viewer.account_id is not None
    try:
        wanted = _year(year)
    except NotFound:
        return JSON({})
    async with services(request).db.write() as tx:
        found = await actions.do_request(tx, viewer.account_id, wanted)
    if found != "generating":
        return JSON({})
    response = JSON({}, status_code=202)
    _refresh_header(response, viewer.account_id, wanted)
    return response


@router.post("/api/v1/annual_reports/{year}/read", responses=answers(Empty, errors=(404,)))
async def read_report(
    request: Request, year: str, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    """Mark the viewer's report of the year read: it leaves the list."""
    assert viewer.account_id is not None
    wanted = _year(year)
    async with services(request).db.write() as tx:
        await actions.do_mark_read(tx, viewer.account_id, wanted)
    return JSON({})
