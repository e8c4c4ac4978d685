"""GET /api/v1_alpha/async_refreshes/:id (Mastodon 4.4, alpha).

Mastodon names work left running in the background for an answer in a
``Mastodon-Async-Refresh`` header, and this method tells how it is going.
The one such work Roost has is an annual report being computed
(``POST /api/v1/annual_reports/:year/generate``, annual_reports.py): its
refresh is ``running`` while the report is generating and ``finished`` once
it is available. Its other answers leave nothing running (grouped
notifications and threads are computed when asked; there is no remote
fetching), so any other id, or another account's, is 404 ``Not Found``, as
Mastodon answers an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon.annual_reports import parse_refresh_id
from roost.api.mastodon.personal_schema import AsyncRefreshWrapper
from roost.api.openapi import answers
from roost.api.responses import JSON
from roost.domain.annual_reports import actions
from roost.domain.types import Viewer
from roost.errors import NotFound

router = APIRouter()


@router.get(
    "/api/v1_alpha/async_refreshes/{refresh_id}",
    responses=answers(AsyncRefreshWrapper, errors=(404,)),
)
async def async_refresh(
    request: Request, refresh_id: str, viewer: Viewer = Depends(user("read"))
) -> JSON:
    """How an annual report being computed is going: running or finished."""
    account_id, year = parse_refresh_id(refresh_id)
    if account_id != viewer.account_id:
        raise NotFound("Not Found")
    async with services(request).db.read() as conn:
        found = await actions.state(conn, account_id, year)
    if found not in ("generating", "available"):
        raise NotFound("Not Found")
    status = "running" if found == "generating" else "finished"
    return JSON({"async_refresh": {"id": refresh_id, "status": status}})
