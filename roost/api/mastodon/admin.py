"""/api/v1/admin/accounts: the part of Mastodon's admin API that staff need to
suspend an account and lift the suspension.

Every route needs a user token of an administrator carrying the admin scope it
names (``admin:read:accounts`` or ``admin:write:accounts``, or the broad
``admin:read`` / ``admin:write``); anyone else gets 403 before any account is
looked up, so the answer says nothing about which accounts exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon import entities
from roost.api.mastodon._common import PageParams, flag
from roost.api.params import Params, parse, parse_id
from roost.api.responses import JSON, paged_json
from roost.domain.accounts import moderation
from roost.domain.types import Viewer
from roost.errors import Forbidden, Invalid

router = APIRouter()

READ = "admin:read:accounts"
WRITE = "admin:write:accounts"
# Mastodon's others (sensitive, disable, silence) are not in Roost: 422.
ACTIONS = ("none", "suspend")


def staff(scope: str) -> Callable[[Request], Awaitable[Viewer]]:
    """A signed-in administrator whose token holds ``scope``."""
    signed_in = user(scope)

    async def dependency(request: Request) -> Viewer:
        viewer = await signed_in(request)
        if not viewer.is_admin:
            raise Forbidden("This action is not allowed")
        return viewer

    return dependency


class AdminAccountsParams(PageParams):
    status: str | None = None
    username: str | None = None
    # Mastodon's v1 booleans (Mastodon.py's admin_accounts_v1 sends these).
    local: str | None = None
    remote: str | None = None
    active: str | None = None
    pending: str | None = None
    suspended: str | None = None
    silenced: str | None = None
    disabled: str | None = None
    sensitized: str | None = None
    staff: str | None = None


def _filter(params: AdminAccountsParams) -> moderation.StaffFilter:
    status = params.status
    for name in ("active", "pending", "suspended"):
        if flag(getattr(params, name)):
            if status is not None and status != name:
                raise Invalid(f"Validation failed: {status} and {name} cannot both be asked for")
            status = name
    # Every account is local, and none is silenced, disabled or sensitized.
    nothing = any(
        flag(getattr(params, name)) for name in ("remote", "silenced", "disabled", "sensitized")
    )
    return moderation.StaffFilter(
        status=status,
        username=params.username or None,
        staff=flag(params.staff),
        nothing=nothing,
    )


@router.get("/api/v1/admin/accounts")
async def list_accounts(request: Request, viewer: Viewer = Depends(staff(READ))) -> JSON:
    params = await parse(request, AdminAccountsParams)
    wanted = _filter(params)
    svc = services(request)
    async with svc.db.read() as conn:
        views, newest, oldest = await moderation.staff_accounts(
            conn, viewer, wanted, params.page(max_limit=200, default_limit=100)
        )
    base = svc.settings.base_url
    return paged_json(request, [entities.admin_account(v, base) for v in views], newest, oldest)


@router.get("/api/v1/admin/accounts/{account_id}")
async def get_account(
    request: Request, account_id: str, viewer: Viewer = Depends(staff(READ))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await moderation.staff_account(conn, viewer, parse_id(account_id))
    return JSON(entities.admin_account(view, svc.settings.base_url))


class ActionParams(Params):
    type: str | None = None
    text: str | None = None
    report_id: str | None = None
    warning_preset_id: str | None = None
    send_email_notification: str | None = None


@router.post("/api/v1/admin/accounts/{account_id}/action")
async def account_action(
    request: Request, account_id: str, viewer: Viewer = Depends(staff(WRITE))
) -> JSON:
    target = parse_id(account_id)
    params = await parse(request, ActionParams)
    kind = params.type
    if kind not in ACTIONS:
        what = "is missing" if not kind else f"{kind!r} is not supported"
        raise Invalid(f"Validation failed: type {what}; supported: {', '.join(ACTIONS)}")
    svc = services(request)
    if kind == "none":
        async with svc.db.read() as conn:
            await moderation.check_account_exists(conn, viewer, target)
    else:
        async with svc.db.write() as tx:
            # Already suspended: nothing to do, and Mastodon answers 200 too.
            await moderation.do_suspend_account(tx, target, reason=params.text, by=viewer)
    return JSON({})


@router.post("/api/v1/admin/accounts/{account_id}/unsuspend")
async def unsuspend(
    request: Request, account_id: str, viewer: Viewer = Depends(staff(WRITE))
) -> JSON:
    target = parse_id(account_id)
    svc = services(request)
    async with svc.db.write() as tx:
        lifted = await moderation.do_unsuspend_account(tx, target, by=viewer)
    if not lifted:
        raise Forbidden("The account is not suspended")
    async with svc.db.read() as conn:
        view = await moderation.staff_account(conn, viewer, target)
    return JSON(entities.admin_account(view, svc.settings.base_url))
