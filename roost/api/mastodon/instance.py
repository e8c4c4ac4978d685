"""What apps ask at start-up: the instance, and empty-but-correct answers for
features this server does not have yet."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from roost.api.auth import optional, services, user
from roost.api.mastodon import serializers
from roost.api.mastodon._common import as_account
from roost.api.responses import JSON
from roost.db.tables import accounts, statuses, users
from roost.domain import privacy
from roost.domain.accounts.queries import user_settings
from roost.domain.types import ANONYMOUS, Viewer

router = APIRouter()


async def _stats(request: Request) -> tuple[int, int, object]:
    async with services(request).db.read() as conn:
        user_count = (await conn.execute(select(func.count()).select_from(users))).scalar_one()
        status_count = (await conn.execute(select(func.count()).select_from(statuses))).scalar_one()
        admins = await privacy.visible_accounts(
            conn,
            ANONYMOUS,
            select(accounts)
            .join(users, users.c.account_id == accounts.c.id)
            .where(users.c.admin.is_(True))
            .order_by(accounts.c.id)
            .limit(1),
        )
    return int(user_count), int(status_count), (as_account(admins[0]) if admins else None)


@router.get("/api/v2/instance")
async def instance_v2(request: Request) -> JSON:
    users_n, _, contact = await _stats(request)
    return JSON(serializers.instance_v2(services(request).settings, users_n, contact))  # type: ignore[arg-type]


@router.get("/api/v1/instance")
async def instance_v1(request: Request) -> JSON:
    users_n, statuses_n, contact = await _stats(request)
    return JSON(serializers.instance_v1(services(request).settings, users_n, statuses_n, contact))  # type: ignore[arg-type]


@router.get("/api/v1/preferences")
async def preferences(request: Request, viewer: Viewer = Depends(user("read:accounts"))) -> JSON:
    assert viewer.account_id is not None
    async with services(request).db.read() as conn:
        prefs = await user_settings(conn, viewer.account_id)
    assert prefs is not None
    return JSON(
        {
            "posting:default:visibility": prefs.default_visibility,
            "posting:default:sensitive": prefs.default_sensitive,
            "posting:default:language": prefs.default_language,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )


# Features that later work builds. Until then apps get the correct empty answer,
# as from a server where nobody has used them yet, instead of an error that
# breaks their start-up.
_EMPTY_LISTS_PUBLIC = [
    "/api/v1/instance/peers",
    "/api/v1/instance/rules",
    "/api/v1/instance/activity",
    "/api/v1/trends",
    "/api/v1/trends/tags",
    "/api/v1/trends/statuses",
    "/api/v1/trends/links",
    "/api/v1/directory",
]
_EMPTY_LISTS_USER = {
    "/api/v1/domain_blocks": "read:blocks",
    "/api/v1/featured_tags": "read:accounts",
    "/api/v1/suggestions": "read",
    "/api/v2/suggestions": "read",
    "/api/v1/scheduled_statuses": "read:statuses",
}


def _empty_public(path: str) -> None:
    async def endpoint(viewer: Viewer = Depends(optional("read"))) -> JSON:
        return JSON([])

    endpoint.__name__ = "empty" + path.replace("/", "_")
    router.add_api_route(path, endpoint, methods=["GET"])


def _empty_user(path: str, scope: str) -> None:
    async def endpoint(viewer: Viewer = Depends(user(scope))) -> JSON:
        return JSON([])

    endpoint.__name__ = "empty" + path.replace("/", "_")
    router.add_api_route(path, endpoint, methods=["GET"])


for _path in _EMPTY_LISTS_PUBLIC:
    _empty_public(_path)
for _path, _scope in _EMPTY_LISTS_USER.items():
    _empty_user(_path, _scope)
