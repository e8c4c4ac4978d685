"""What staff do to accounts: suspend one and lift the suspension, and read the
staff's view of accounts (email, approval, role, suspension).

Suspension itself is ``roost.domain.graph.counts.do_suspend``: the account's
``suspended_at`` is set, so the privacy policy hides its profile and content from
everyone but staff and its tokens stop working, and its follows stop counting
(the counters of the accounts on the other end drop). Lifting it restores both.
Nothing is deleted: undoing a suspension gives everything back.

Who asks: ``by`` is the staff member acting through the API, or None for the
operator at the ``roost`` command. Staff may not suspend an administrator (nor
themselves) through the API; the operator can.

The reason is written to the ``roost.moderation`` log only: there is no column
for it yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Tx
from roost.db.tables import accounts, users
from roost.domain import privacy
from roost.domain.graph.counts import do_suspend, do_unsuspend
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.types import Account, Page, Viewer
from roost.errors import Forbidden, Invalid, NotFound

log = logging.getLogger("roost.moderation")

STATUSES = ("active", "pending", "suspended")


@dataclass(frozen=True)
class _Target:
    id: int
    username: str
    suspended: bool
    admin: bool


async def _target(tx: Tx, account_id: int) -> _Target:
    row = (
        await tx.execute(
            select(accounts.c.id, accounts.c.username, accounts.c.suspended_at, users.c.admin)
            .select_from(accounts.outerjoin(users, users.c.account_id == accounts.c.id))
            .where(accounts.c.id == account_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    return _Target(row.id, row.username, row.suspended_at is not None, bool(row.admin))


def _check_staff(by: Viewer | None) -> None:
    if by is not None and not by.is_admin:
        raise Forbidden("This action is not allowed")


async def do_suspend_account(
    tx: Tx, account_id: int, *, reason: str | None = None, by: Viewer | None = None
) -> bool:
    """Suspend the account. False when it already was (nothing changes);
    NotFound when there is no such account."""
    _check_staff(by)
    target = await _target(tx, account_id)
    if by is not None and target.admin:
        raise Forbidden(
            "An administrator cannot be suspended through the API; "
            "the operator can with `roost accounts suspend`"
        )
    if target.suspended:
        return False
    await do_suspend(tx, account_id)
    log.warning(
        "account suspended: @%s (id %s) by %s; reason: %s",
        target.username,
        target.id,
        "the operator" if by is None else f"account {by.account_id}",
        reason or "(none given)",
    )
    return True


async def do_unsuspend_account(tx: Tx, account_id: int, *, by: Viewer | None = None) -> bool:
    """Lift a suspension. False when the account was not suspended."""
    _check_staff(by)
    target = await _target(tx, account_id)
    if not target.suspended:
        return False
    await do_unsuspend(tx, account_id)
    log.warning(
        "account unsuspended: @%s (id %s) by %s",
        target.username,
        target.id,
        "the operator" if by is None else f"account {by.account_id}",
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
    admin: bool
    reason: str | None  # what they wrote when asking to join

    @property
    def suspended(self) -> bool:
        return self.account.value.suspended_at is not None


def _staff_query() -> Select[Any]:
    return select(
        accounts,
        users.c.email,
        users.c.locale,
        users.c.approved,
        users.c.admin,
        users.c.reason,
    ).select_from(accounts.outerjoin(users, users.c.account_id == accounts.c.id))


def _view(row: Visible[Any]) -> StaffView:
    value = row.value
    return StaffView(
        account=row.derive(Account.from_row),
        email=value["email"],
        locale=value["locale"],
        approved=bool(value["approved"]) if value["approved"] is not None else False,
        admin=bool(value["admin"]),
        reason=value["reason"],
    )


async def staff_account(conn: AsyncConnection, viewer: Viewer, account_id: int) -> StaffView:
    """One account, suspended or not; staff only."""
    _check_staff(viewer)
    rows = await privacy.visible_accounts(
        conn, viewer, _staff_query().where(accounts.c.id == account_id), include_blocked=True
    )
    if not rows:
        raise NotFound()
    return _view(rows[0])


@dataclass(frozen=True)
class StaffFilter:
    status: str | None = None  # one of STATUSES
    username: str | None = None  # a prefix, any case
    staff: bool = False  # administrators only
    nothing: bool = False  # a filter no account here can match (remote, silenced...)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def staff_accounts(
    conn: AsyncConnection, viewer: Viewer, wanted: StaffFilter, page: Page
) -> tuple[list[StaffView], int | None, int | None]:
    """Accounts for staff, newest first, with the ids to page on."""
    _check_staff(viewer)
    if wanted.status is not None and wanted.status not in STATUSES:
        raise Invalid(
            f"Validation failed: status {wanted.status!r} is not supported; "
            f"supported: {', '.join(STATUSES)}"
        )
    if wanted.nothing:
        return [], None, None
    query = _staff_query()
    if wanted.status == "active":
        query = query.where(accounts.c.suspended_at.is_(None), users.c.approved.is_(True))
    elif wanted.status == "pending":
        query = query.where(accounts.c.suspended_at.is_(None), users.c.approved.is_(False))
    elif wanted.status == "suspended":
        query = query.where(accounts.c.suspended_at.is_not(None))
    if wanted.username:
        prefix = _escape_like(wanted.username.lower().lstrip("@"))
        query = query.where(accounts.c.username_key.like(prefix + "%", escape="\\"))
    if wanted.staff:
        query = query.where(users.c.admin.is_(True))
    rows = await privacy.visible_accounts(
        conn, viewer, page_of(query, accounts.c.id, page), include_blocked=True
    )
    views = [_view(row) for row in newest_first(rows, page)]
    if not views:
        return [], None, None
    return views, views[0].account.value.id, views[-1].account.value.id
