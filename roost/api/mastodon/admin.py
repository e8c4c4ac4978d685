"""/api/v1/admin/accounts and /api/v2/admin/accounts: Mastodon's admin API for
accounts: list and show them, act on them (``none``, ``sensitive``,
``disable``, ``silence``, ``suspend``, each leaving a strike), lift each
limit, approve or reject a sign-up, and delete a suspended account's data.

Every route needs a user token carrying the admin scope it names
(``admin:read:accounts`` or ``admin:write:accounts``, or the broad
``admin:read`` / ``admin:write``) of an account whose role grants the one
permission the route names (``staff``); anyone else gets 403 before any
account is looked up, so the answer says nothing about which accounts exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request

from roost.api.auth import needs, services, user
from roost.api.mastodon import entities, schema
from roost.api.mastodon._common import PageParams, flag
from roost.api.openapi import answers
from roost.api.params import Id, Ids, OptionalId, Params, body, query
from roost.api.responses import JSON, paged_json
from roost.domain.accounts import limits, moderation
from roost.domain.audit.chain import Staff
from roost.domain.reports import actions as report_actions
from roost.domain.roles.permissions import Permission
from roost.domain.strikes import actions as strikes
from roost.domain.types import Viewer
from roost.erasure.erase import erase_account
from roost.errors import Forbidden, RuleBroken

router = APIRouter()

READ = "admin:read:accounts"
WRITE = "admin:write:accounts"


def staff(scope: str, permission: Permission) -> Callable[[Request], Awaitable[Viewer]]:
    """A signed-in account whose token holds ``scope`` and whose role grants
    ``permission`` (kept on the dependency as ``roost_permission``, where the
    test that walks every admin route finds it)."""
    signed_in = user(scope)

    async def dependency(request: Request) -> Viewer:
        viewer = await signed_in(request)
        if not viewer.may(permission):
            raise Forbidden("This action is not allowed")
        return viewer

    setattr(dependency, "roost_permission", permission)  # noqa: B010  (a function attribute)
    return needs("user", dependency, scope)


USERS = Permission.MANAGE_USERS


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
    display_name: str | None = None
    email: str | None = None
    ip: str | None = None
    by_domain: str | None = None


def _nothing_for_domain(domain: str | None, local_domain: str) -> bool:
    """Every account is local: asking for another domain matches none."""
    return bool(domain) and (domain or "").strip().lower() != local_domain.lower()


def _filter(params: AdminAccountsParams, local_domain: str) -> moderation.StaffFilter:
    status = params.status
    for name in ("active", "pending", "suspended", "silenced", "disabled"):
        if flag(getattr(params, name)):
            if status is not None and status != name:
                raise RuleBroken(f"{status} and {name} cannot both be asked for")
            status = name
    # Every account is local, and Roost keeps no IP addresses.
    nothing = (
        flag(params.remote)
        or bool(params.ip)
        or _nothing_for_domain(params.by_domain, local_domain)
    )
    return moderation.StaffFilter(
        status=status,
        username=params.username or None,
        display_name=params.display_name or None,
        email=params.email or None,
        staff=flag(params.staff),
        sensitized=flag(params.sensitized),
        nothing=nothing,
    )


async def _listed(
    request: Request, viewer: Viewer, wanted: moderation.StaffFilter, params: PageParams
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        views, newest, oldest = await moderation.staff_accounts(
            conn, viewer, wanted, params.page(max_limit=200, default_limit=100)
        )
    base = svc.settings.base_url
    return paged_json(request, [entities.admin_account(v, base) for v in views], newest, oldest)


@router.get("/api/v1/admin/accounts", responses=answers(list[schema.AdminAccount]))
async def list_accounts(
    request: Request,
    viewer: Viewer = Depends(staff(READ, USERS)),
    params: AdminAccountsParams = Depends(query(AdminAccountsParams)),
) -> JSON:
    wanted = _filter(params, services(request).settings.domain)
    return await _listed(request, viewer, wanted, params)


class AdminAccountsV2Params(PageParams):
    origin: str | None = None
    status: str | None = None
    permissions: str | None = None
    role_ids: Ids = []
    invited_by: OptionalId = None
    username: str | None = None
    display_name: str | None = None
    by_domain: str | None = None
    email: str | None = None
    ip: str | None = None


def _filter_v2(params: AdminAccountsV2Params, local_domain: str) -> moderation.StaffFilter:
    if params.origin not in (None, "", "local", "remote"):
        raise RuleBroken(f"origin {params.origin!r} is not supported; supported: local, remote")
    if params.permissions not in (None, "", "staff"):
        raise RuleBroken(f"permissions {params.permissions!r} is not supported; supported: staff")
    nothing = (
        params.origin == "remote"
        or bool(params.ip)
        or _nothing_for_domain(params.by_domain, local_domain)
    )
    return moderation.StaffFilter(
        status=params.status or None,
        username=params.username or None,
        display_name=params.display_name or None,
        email=params.email or None,
        staff=params.permissions == "staff",
        role_ids=tuple(params.role_ids),
        invited_by=params.invited_by,
        nothing=nothing,
    )


@router.get("/api/v2/admin/accounts", responses=answers(list[schema.AdminAccount]))
async def list_accounts_v2(
    request: Request,
    viewer: Viewer = Depends(staff(READ, USERS)),
    params: AdminAccountsV2Params = Depends(query(AdminAccountsV2Params)),
) -> JSON:
    wanted = _filter_v2(params, services(request).settings.domain)
    return await _listed(request, viewer, wanted, params)


async def _shown(request: Request, viewer: Viewer, account_id: int) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await moderation.staff_account(conn, viewer, account_id)
    return JSON(entities.admin_account(view, svc.settings.base_url))


@router.get("/api/v1/admin/accounts/{account_id}", responses=answers(schema.AdminAccount))
async def get_account(
    request: Request, account_id: Id, viewer: Viewer = Depends(staff(READ, USERS))
) -> JSON:
    return await _shown(request, viewer, account_id)


class ActionParams(Params):
    type: str | None = None
    text: str | None = None
    report_id: OptionalId = None
    warning_preset_id: OptionalId = None
    send_email_notification: str | None = None


@router.post("/api/v1/admin/accounts/{account_id}/action", responses=answers(schema.Empty))
async def account_action(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(staff(WRITE, USERS)),
    params: ActionParams = Depends(body(ActionParams)),
) -> JSON:
    strikes.check_action(params.type)
    svc = services(request)
    async with svc.db.write() as tx:
        if params.report_id is not None:
            # As on Mastodon, the action answers the report, which it closes
            # (first: the report must exist and be about this account).
            await report_actions.do_resolve_by_action(tx, viewer, params.report_id, account_id)
        await strikes.do_account_action(
            tx,
            viewer,
            account_id,
            params.type,
            text=params.text,
            report_id=params.report_id,
            send_email=flag(params.send_email_notification),
            # Its text goes before ``text``; an unknown id answers 404.
            warning_preset_id=params.warning_preset_id,
        )
    return JSON({})


@router.post(
    "/api/v1/admin/accounts/{account_id}/unsuspend", responses=answers(schema.AdminAccount)
)
async def unsuspend(
    request: Request, account_id: Id, viewer: Viewer = Depends(staff(WRITE, USERS))
) -> JSON:
    svc = services(request)
    async with svc.db.write() as tx:
        lifted = await moderation.do_unsuspend_account(tx, account_id, by=viewer)
    if not lifted:
        raise Forbidden("The account is not suspended")
    return await _shown(request, viewer, account_id)


async def _lift(request: Request, viewer: Viewer, account_id: int, kind: str) -> JSON:
    """Lift a limit; as on Mastodon, lifting one that is not set is no error."""
    svc = services(request)
    async with svc.db.write() as tx:
        on = await limits.target(tx, account_id)
        limits.check_may_act(viewer, on)
        await limits.do_lift(tx, on, kind, actor=Staff(viewer.account_id, "api"))
    return await _shown(request, viewer, account_id)


@router.post("/api/v1/admin/accounts/{account_id}/enable", responses=answers(schema.AdminAccount))
async def enable(
    request: Request, account_id: Id, viewer: Viewer = Depends(staff(WRITE, USERS))
) -> JSON:
    return await _lift(request, viewer, account_id, "disable")


@router.post(
    "/api/v1/admin/accounts/{account_id}/unsilence", responses=answers(schema.AdminAccount)
)
async def unsilence(
    request: Request, account_id: Id, viewer: Viewer = Depends(staff(WRITE, USERS))
) -> JSON:
    return await _lift(request, viewer, account_id, "silence")


@router.post(
    "/api/v1/admin/accounts/{account_id}/unsensitive", responses=answers(schema.AdminAccount)
)
async def unsensitive(
    request: Request, account_id: Id, viewer: Viewer = Depends(staff(WRITE, USERS))
) -> JSON:
    return await _lift(request, viewer, account_id, "sensitive")


@router.post("/api/v1/admin/accounts/{account_id}/approve", responses=answers(schema.AdminAccount))
async def approve(
    request: Request, account_id: Id, viewer: Viewer = Depends(staff(WRITE, USERS))
) -> JSON:
    svc = services(request)
    async with svc.db.write() as tx:
        await limits.do_approve_signup(tx, viewer, account_id)
    return await _shown(request, viewer, account_id)


@router.post("/api/v1/admin/accounts/{account_id}/reject", responses=answers(schema.AdminAccount))
async def reject(
    request: Request, account_id: Id, viewer: Viewer = Depends(staff(WRITE, USERS))
) -> JSON:
    """The sign-up is refused and the account erased; the answer shows it as it was."""
    svc = services(request)
    async with svc.db.read() as conn:
        view = await moderation.staff_account(conn, viewer, account_id)
    async with svc.db.write() as tx:
        await limits.do_reject_signup(tx, viewer, account_id)
    shown = entities.admin_account(view, svc.settings.base_url)
    await erase_account(svc, account_id, by=Staff(viewer.account_id, "api"))
    return JSON(shown)


DELETE_DATA = Permission.DELETE_USER_DATA


@router.delete("/api/v1/admin/accounts/{account_id}", responses=answers(schema.AdminAccount))
async def delete_account_data(
    request: Request, account_id: Id, viewer: Viewer = Depends(staff(WRITE, DELETE_DATA))
) -> JSON:
    """A suspended account's data is erased (roost/erasure); the answer shows
    the account as it was."""
    svc = services(request)
    async with svc.db.read() as conn:
        view = await moderation.staff_account(conn, viewer, account_id, permission=DELETE_DATA)
    async with svc.db.write() as tx:
        await limits.check_deletable(tx, viewer, account_id)
    shown = entities.admin_account(view, svc.settings.base_url)
    await erase_account(svc, account_id, by=Staff(viewer.account_id, "api"))
    return JSON(shown)
