"""GET /api/v1_alpha/async_refreshes/:id (Mastodon 4.4, alpha).

Mastodon names a background refresh (a timeline rebuilt, a post's remote
replies fetched) in a ``Mastodon-Async-Refresh`` header, and this method
tells how it is going. Roost answers every request from what it has, with
nothing left running in the background for the answer (its grouped
notifications and contexts are computed when asked, and there is no remote
fetching), so it never sends that header and knows no refresh: every id is
404 ``Not Found``, as Mastodon answers an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from roost.api.auth import user
from roost.api.openapi import answers
from roost.domain.types import Viewer
from roost.errors import NotFound

router = APIRouter()


@router.get(
    "/api/v1_alpha/async_refreshes/{refresh_id}",
    responses=answers(None, errors=(404,), description="Never: no refresh runs"),
)
async def async_refresh(refresh_id: str, viewer: Viewer = Depends(user("read"))) -> None:
    """Not Found for every id: Roost leaves no refresh running in the background."""
    raise NotFound("Not Found")
