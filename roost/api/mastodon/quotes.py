"""Quote posts: the quotes of a post, revoking one, and a post's quote
policy (``PUT /api/v1/statuses/:id/interaction_policy``). A Status's quote fields
are built by roost/api/mastodon/quote_entity.py.

A quote shows the quoted post only when the viewer may see it
(roost/domain/quotes/queries.py decides, through the privacy policy);
otherwise its state is ``unauthorized`` and nothing of the post is named.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services, user
from roost.api.mastodon import schema, serializers
from roost.api.mastodon._common import PageParams
from roost.api.openapi import answers
from roost.api.params import Id, Params, body, query
from roost.api.responses import JSON, paged_json
from roost.domain import privacy
from roost.domain.quotes import actions
from roost.domain.quotes.queries import quotes_of_query
from roost.domain.statuses import queries
from roost.domain.types import Viewer

router = APIRouter()


@router.get("/api/v1/statuses/{status_id}/quotes", responses=answers(list[schema.Status]))
async def quotes_of(
    request: Request,
    status_id: Id,
    viewer: Viewer = Depends(user("read:statuses")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    """Posts quoting a post the viewer may see: those of them the viewer may see."""
    page = params.page()
    svc = services(request)
    async with svc.db.read() as conn:
        await privacy.check_status(conn, viewer, status_id)
        views = await queries.paged(conn, viewer, quotes_of_query(status_id), page)
    items = [serializers.status(v, svc.settings.base_url) for v in views]
    ids = [v.value.status.id for v in views]
    return paged_json(request, items, ids[0] if ids else None, ids[-1] if ids else None)


@router.post(
    "/api/v1/statuses/{status_id}/quotes/{quoting_status_id}/revoke",
    responses=answers(schema.Status, errors=[403]),
)
async def revoke(
    request: Request,
    status_id: Id,
    quoting_status_id: Id,
    viewer: Viewer = Depends(user("write:statuses")),
) -> JSON:
    svc = services(request)
    async with svc.db.write() as tx:
        await actions.do_revoke(tx, viewer, status_id, quoting_status_id)
    async with svc.db.read() as conn:
        view = await queries.status(conn, viewer, quoting_status_id)
    return JSON(serializers.status(view, svc.settings.base_url))


class InteractionPolicyParams(Params):
    quote_approval_policy: str = Field(
        default="", description="Who may quote the post: public, followers or nobody"
    )


@router.put(
    "/api/v1/statuses/{status_id}/interaction_policy",
    responses=answers(schema.Status, errors=[403]),
)
async def interaction_policy(
    request: Request,
    status_id: Id,
    viewer: Viewer = Depends(user("write:statuses")),
    params: InteractionPolicyParams = Depends(body(InteractionPolicyParams)),
) -> JSON:
    svc = services(request)
    async with svc.db.write() as tx:
        await actions.do_change_policy(tx, viewer, status_id, params.quote_approval_policy)
    async with svc.db.read() as conn:
        view = await queries.status(conn, viewer, status_id)
    return JSON(serializers.status(view, svc.settings.base_url))
