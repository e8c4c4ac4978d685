"""POST /api/v1/statuses/:id/translate: an honest refusal.

Roost has no translation service: the instance says so (``configuration.
translation.enabled`` is false, ``/api/v1/instance/translation_languages`` is
empty), so apps offer no "Translate" button. An app that asks anyway gets
Mastodon's answer for an instance without a translation service: the post is
looked up first, through the privacy policy (404 for a post the viewer may
not see, as for any other), and then 404 ``Record not found``, which is what
Mastodon answers when no service is configured (it reserves 503 for a
configured service that failed).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.openapi import answers
from roost.api.params import Id
from roost.domain.statuses import queries
from roost.domain.types import Viewer
from roost.errors import NotFound

router = APIRouter()


@router.post(
    "/api/v1/statuses/{status_id}/translate",
    responses=answers(None, errors=(404,), description="Never: no translation service"),
)
async def translate(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("read:statuses"))
) -> None:
    """An honest refusal: no translation service (404 after the privacy check, as Mastodon)."""
    async with services(request).db.read() as conn:
        await queries.status(conn, viewer, status_id)  # NotFound for a post not shown
    raise NotFound()
