"""``GET /oauth/userinfo``: OpenID Connect style claims about the token's
account, as Mastodon 4.4 answers to a token with the ``profile`` scope (or
any that may read the account)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon import discovery_schema as shapes
from roost.api.mastodon._common import as_account
from roost.api.mastodon.serializers import account
from roost.api.openapi import answers
from roost.api.responses import JSON
from roost.domain import privacy
from roost.domain.types import Viewer

router = APIRouter()


@router.get("/oauth/userinfo", responses=answers(shapes.UserInfo))
async def userinfo(
    request: Request, viewer: Viewer = Depends(user(("profile", "read:accounts")))
) -> JSON:
    """Who the token belongs to: ``sub`` is the account's URI."""
    assert viewer.account_id is not None
    svc = services(request)
    async with svc.db.read() as conn:
        row = await privacy.check_account(conn, viewer, viewer.account_id)
    data = account(as_account(row), svc.settings.base_url)
    return JSON(
        {
            "iss": svc.settings.base_url + "/",
            "sub": data["uri"],
            "name": data["display_name"] or data["username"],
            "preferred_username": data["username"],
            "profile": data["url"],
            "picture": data["avatar"],
        }
    )
