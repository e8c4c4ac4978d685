"""/api/v1/profile: the Profile API (Mastodon 4.6), the viewer's own profile
as its editor sees it.

The same profile as verify_credentials and update_credentials, in the shape
Mastodon's profile editor reads: the bio and fields as typed (not rendered),
and no image where the account has none (``null``, not the default picture).
Settings Roost does not have answer as Roost behaves: no image descriptions
(``""``), the media and featured tabs always shown, no attribution domains;
PATCH ignores those parameters, as it ignores any it does not know.
The avatar and header are deleted with DELETE /api/v1/profile/avatar and
/header (roost/api/mastodon/media.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon import discovery_entities, uploads
from roost.api.mastodon._common import as_account
from roost.api.mastodon.accounts import ProfileParams, apply_profile
from roost.api.mastodon.personal_schema import Profile
from roost.api.openapi import answers
from roost.api.params import Reader
from roost.api.responses import JSON
from roost.domain import privacy
from roost.domain.discovery import featured_tags
from roost.domain.types import Account, Viewer
from roost.media import urls as media_urls

router = APIRouter()


def _image(account: Account, base: str, role: str) -> str | None:
    key = account.avatar_file if role == "avatar" else account.header_file
    if not key:
        return None
    return media_urls.profile_url(base, account.id, role, key.rsplit("/", 1)[-1])


async def _profile(request: Request, viewer: Viewer) -> dict[str, Any]:
    svc = services(request)
    base = svc.settings.base_url
    assert viewer.account_id is not None
    async with svc.db.read() as conn:
        me = as_account(await privacy.check_account(conn, viewer, viewer.account_id)).value
        featured = await featured_tags.featured_of(conn, viewer.account_id)
    avatar, header = _image(me, base, "avatar"), _image(me, base, "header")
    return {
        "id": str(me.id),
        "display_name": me.display_name,
        "note": me.note,
        "fields": [
            {
                "name": f.get("name", ""),
                "value": f.get("value", ""),
                "verified_at": f.get("verified_at"),
            }
            for f in me.fields
        ],
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": "",
        "header": header,
        "header_static": header,
        "header_description": "",
        "locked": me.locked,
        "bot": me.bot,
        "hide_collections": me.hide_collections,
        "discoverable": me.discoverable,
        "indexable": me.indexable,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "attribution_domains": [],
        "featured_tags": [discovery_entities.featured_tag(f, me.username, base) for f in featured],
    }


@router.get("/api/v1/profile", responses=answers(Profile))
async def get_profile(
    request: Request, viewer: Viewer = Depends(user(("read:accounts", "profile")))
) -> JSON:
    """The viewer's own profile, as its editor reads it (bio and fields as typed)."""
    return JSON(await _profile(request, viewer))


@router.patch("/api/v1/profile", responses=answers(Profile))
async def update_profile(
    request: Request,
    viewer: Viewer = Depends(user("write:accounts")),
    # An upload's size is checked before the form is parsed (uploads.profile_params).
    params: ProfileParams = Depends(Reader(ProfileParams, "body", uploads.profile_params)),
) -> JSON:
    """Change the viewer's profile (as update_credentials); answers the Profile."""
    await apply_profile(request, viewer, params)
    return JSON(await _profile(request, viewer))
