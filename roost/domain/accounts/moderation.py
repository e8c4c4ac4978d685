"""What staff do to accounts: suspend one and lift the suspension, and read the
staff's view of accounts (email, approval, role, suspension, the limits of
roost/domain/accounts/limits.py), listed with Mastodon's filters.

Suspension itself is ``roost.domain.graph.counts.do_suspend``: the account's
``suspended_at`` is set, so the privacy policy hides its profile and content from
everyone but staff and its tokens stop working, and its follows stop counting
(the counters of the accounts on the other end drop). Lifting it restores both.
Nothing is deleted: undoing a suspension gives everything back.

Who asks: ``by`` is the staff member acting through the API (their role must
grant ``manage_users``), or None for the operator at the ``roost`` command.
Staff may not suspend a staff member (nor themselves) through the API; the
operator can.

Each suspension and its lifting is an entry of the audit log
(roost/domain/audit/chain.py), the reason in its personal part.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Tx
from roost.db.tables import account_roles, accounts, invites, roles, users
from roost.domain import privacy
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.graph.counts import do_suspend, do_unsuspend
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.roles.permissions import STAFF, Permission, is_staff, key
from roost.domain.roles.queries import Role, permissions_of, roles_of
from roost.domain.types import Account, Page, Viewer
from roost.errors import Forbidden, NotFound, RuleBroken
from roost.keys.ring import email_index

log = logging.getLogger("roost.moderation")

STATUSES = ("active", "pending", "disabled", "silenced", "suspended")


@dataclass(frozen=True)
class _Target:
    id: int
    username: str
    suspended: bool
    admin: bool


async def _target(tx: Tx, account_id: int) -> _Target:
    row = (
        await tx.execute(
            select(
                accounts.c.id,
                accounts.c.username,
                accounts.c.suspended_at,
                permissions_of(accounts.c.id).label("permissions"),
            ).where(accounts.c.id == account_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    return _Target(
        row.id, row.username, row.suspended_at is not None, is_staff(int(row.permissions))
    )


MANAGE_USERS = Permission.MANAGE_USERS


def _check_staff(by: Viewer | None) -> None:
    if by is not None and not by.may(MANAGE_USERS):
        raise Forbidden("This action is not allowed")


def _who(staff: Staff) -> str:
    return "the operator" if staff.account_id is None else f"account {staff.account_id}"


def staff_of(by: Viewer | None, via: str = "api") -> Staff:
    """The audit log's actor for ``by`` (None: the operator at the console)."""
    return CONSOLE if by is None else Staff(by.account_id, via)


async def do_suspend_account(
    tx: Tx,
    account_id: int,
    *,
    reason: str | None = None,
    by: Viewer | None = None,
    actor: Staff | None = None,
) -> bool:
    """Suspend the account. False when it already was (nothing changes);
    NotFound when there is no such account. ``actor`` names who acts at the
    console (``roost accounts suspend --as``) when ``by`` is None."""
    _check_staff(by)
    target = await _target(tx, account_id)
    if by is not None and target.admin:
        raise Forbidden(
            "A staff member cannot be suspended through the API; "
            "the operator can with `roost accounts suspend`"
        )
    if target.suspended:
        return False
    await do_suspend(tx, account_id)
    await record(
        tx,
        action="account.suspend",
        permission=key(MANAGE_USERS),
        by=actor or staff_of(by),
        subject_type="account",
        target_account_id=account_id,
        personal={"username": target.username, "reason": reason},
    )
    log.warning(
        "account suspended: @%s (id %s) by %s; reason: %s",
        target.username,
        target.id,
        _who(actor or staff_of(by)),
        reason or "(none given)",
    )
    return True


async def do_unsuspend_account(
    tx: Tx, account_id: int, *, by: Viewer | None = None, actor: Staff | None = None
) -> bool:
    """Lift a suspension. False when the account was not suspended."""
    _check_staff(by)
    target = await _target(tx, account_id)
    if not target.suspended:
        return False
    await do_unsuspend(tx, account_id)
    await record(
        tx,
        action="account.unsuspend",
        permission=key(MANAGE_USERS),
        by=actor or staff_of(by),
        subject_type="account",
        target_account_id=account_id,
        personal={"username": target.username},
    )
    log.warning(
        "account unsuspended: @%s (id %s) by %s",
        target.username,
        target.id,
        _who(actor or staff_of(by)),
    )
    return True


async def check_account_exists(conn: AsyncConnection, viewer: Viewer, account_id: int) -> None:
    """For actions that change nothing (Mastodon's ``none``): the account must exist."""
    _check_staff(viewer)
    await privacy.check_account(conn, viewer, account_id)


@dataclass(frozen=True)
class StaffView:
    """An account as staff see it."""

    account: Visible[Account]
    email: str | None
    locale: str | None
    approved: bool
    role: Role | None
    reason: str | None  # what they wrote when asking to join
    silenced: bool = False
    sensitized: bool = False
    disabled: bool = False
    confirmed: bool = True
    invited_by: int | None = None  # who made the invite it signed up with

    @property
    def suspended(self) -> bool:
        return self.account.value.suspended_at is not None


def _staff_query() -> Select[Any]:
    return select(
        accounts,
        users.c.email,
        users.c.locale,
        users.c.approved,
        users.c.reason,
        users.c.disabled,
        users.c.confirmed_at,
        invites.c.created_by.label("invited_by"),
    ).select_from(
        accounts.outerjoin(users, users.c.account_id == accounts.c.id).outerjoin(
            invites, invites.c.id == users.c.invite_id
        )
    )


def _view(row: Visible[Any], held: dict[int, Role]) -> StaffView:
    value = row.value
    return StaffView(
        account=row.derive(Account.from_row),
        email=value["email"],
        locale=value["locale"],
        approved=bool(value["approved"]) if value["approved"] is not None else False,
        role=held.get(value["id"]),
        reason=value["reason"],
        silenced=value["silenced_at"] is not None,
        sensitized=value["sensitized_at"] is not None,
        disabled=bool(value["disabled"]),
        confirmed=value["confirmed_at"] is not None,
        invited_by=value["invited_by"],
    )


async def staff_account(
    conn: AsyncConnection,
    viewer: Viewer,
    account_id: int,
    *,
    permission: Permission = MANAGE_USERS,
) -> StaffView:
    """One account, suspended or not; for staff whose role grants ``permission``
    (``manage_reports`` for the accounts a report names)."""
    if not viewer.may(permission):
        raise Forbidden("This action is not allowed")
    rows = await privacy.visible_accounts(
        conn, viewer, _staff_query().where(accounts.c.id == account_id), include_blocked=True
    )
    if not rows:
        raise NotFound()
    return _view(rows[0], await roles_of(conn, [account_id]))


@dataclass(frozen=True)
class StaffFilter:
    """Mastodon's v2 filters (and the v1 booleans, mapped onto them)."""

    status: str | None = None  # one of STATUSES
    username: str | None = None  # a prefix, any case
    display_name: str | None = None  # a part, any case
    email: str | None = None  # the whole address (stored sealed: no partial match)
    staff: bool = False  # staff only (a role granting a staff permission)
    role_ids: tuple[int, ...] = ()
    sensitized: bool = False
    invited_by: int | None = None  # signed up with an invite this account made
    nothing: bool = False  # a filter no account here can match (remote, an IP...)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _status_clause(status: str) -> Any:
    if status == "active":
        return and_(
            accounts.c.suspended_at.is_(None),
            users.c.approved.is_(True),
            users.c.disabled.is_(False),
        )
    if status == "pending":
        return and_(accounts.c.suspended_at.is_(None), users.c.approved.is_(False))
    if status == "disabled":
        return users.c.disabled.is_(True)
    if status == "silenced":
        return accounts.c.silenced_at.is_not(None)
    return accounts.c.suspended_at.is_not(None)


async def staff_accounts(
    conn: AsyncConnection, viewer: Viewer, wanted: StaffFilter, page: Page
) -> tuple[list[StaffView], int | None, int | None]:
    """Accounts for staff, newest first, with the ids to page on."""
    _check_staff(viewer)
    if wanted.status is not None and wanted.status not in STATUSES:
        raise RuleBroken(
            f"status {wanted.status!r} is not supported; supported: {', '.join(STATUSES)}"
        )
    if wanted.nothing:
        return [], None, None
    query = _staff_query()
    if wanted.status is not None:
        query = query.where(_status_clause(wanted.status))
    if wanted.sensitized:
        query = query.where(accounts.c.sensitized_at.is_not(None))
    if wanted.username:
        prefix = _escape_like(wanted.username.lower().lstrip("@"))
        query = query.where(accounts.c.username_key.like(prefix + "%", escape="\\"))
    if wanted.display_name:
        part = _escape_like(wanted.display_name.lower())
        query = query.where(func.lower(accounts.c.display_name).like("%" + part + "%", escape="\\"))
    if wanted.email:
        query = query.where(users.c.email_key == email_index(wanted.email.strip().lower()))
    if wanted.staff:
        query = query.where(
            accounts.c.id.in_(
                select(account_roles.c.account_id)
                .join(roles, roles.c.id == account_roles.c.role_id)
                .where(roles.c.permissions.op("&")(int(STAFF)) != 0)
            )
        )
    if wanted.invited_by is not None:
        query = query.where(invites.c.created_by == wanted.invited_by)
    if wanted.role_ids:
        query = query.where(
            accounts.c.id.in_(
                select(account_roles.c.account_id).where(
                    account_roles.c.role_id.in_(wanted.role_ids)
                )
            )
        )
    rows = await privacy.visible_accounts(
        conn, viewer, page_of(query, accounts.c.id, page), include_blocked=True
    )
    ordered = newest_first(rows, page)
    held = await roles_of(conn, [row.value["id"] for row in ordered])
    views = [_view(row, held) for row in ordered]
    if not views:
        return [], None, None
    return views, views[0].account.value.id, views[-1].account.value.id
