"""Staff limits short of suspension (Mastodon's ``silence``, ``sensitive`` and
``disable``), each set and lifted here, each an entry of the audit log.

- **Silenced** (``accounts.silenced_at``): the account is heard only by those
  who follow it. Its posts leave the public, local and hashtag timelines,
  trends and search for everyone else, it is not proposed in account search
  (an exact username still finds it), and its notifications to accounts that
  do not follow it are held back under their ``for_limited_accounts`` policy
  (roost/domain/privacy.py ``heard``, roost/domain/notifications/policy.py).
- **Sensitized** (``accounts.sensitized_at``): every post of the account,
  those made before too, is shown sensitive to everyone but its author, as
  Mastodon shows it; decided when a post is shown
  (roost/domain/types.py ``shown_sensitive``), so lifting it restores what
  each post carries. Media it posts or edits in while sensitized is also
  stored sensitive (roost/domain/statuses/actions.py), which stays.
- **Disabled** (``users.disabled``): the login is off. No password sign-in,
  no token, no session works ("Your login is currently disabled"); the
  account, its posts and its follows stay visible as they were.

``by`` is the staff member acting (their role must grant ``manage_users``), or
None for the operator at the ``roost`` command. Staff may not limit a staff
member through the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, users
from roost.domain.accounts.actions import do_approve
from roost.domain.audit.chain import Staff, record
from roost.domain.events import AccountChanged
from roost.domain.roles.permissions import Permission, is_staff, key
from roost.domain.roles.queries import permissions_of
from roost.domain.types import Viewer
from roost.errors import Forbidden, NotFound

MANAGE_USERS = Permission.MANAGE_USERS
LIMITS = ("silence", "sensitive", "disable")


@dataclass(frozen=True)
class Target:
    """An account as the staff actions see it."""

    id: int
    username: str
    staff: bool
    suspended: bool
    silenced: bool
    sensitized: bool
    disabled: bool
    approved: bool
    local: bool  # has a login here (a ``users`` row)


async def target(tx: Tx, account_id: int) -> Target:
    """NotFound when there is no such account."""
    row = (
        await tx.execute(
            select(
                accounts.c.id,
                accounts.c.username,
                accounts.c.suspended_at,
                accounts.c.silenced_at,
                accounts.c.sensitized_at,
                users.c.account_id.label("user_id"),
                users.c.disabled,
                users.c.approved,
                permissions_of(accounts.c.id).label("permissions"),
            )
            .select_from(accounts.outerjoin(users, users.c.account_id == accounts.c.id))
            .where(accounts.c.id == account_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    return Target(
        id=int(row.id),
        username=row.username,
        staff=is_staff(int(row.permissions or 0)),
        suspended=row.suspended_at is not None,
        silenced=row.silenced_at is not None,
        sensitized=row.sensitized_at is not None,
        disabled=bool(row.disabled),
        approved=bool(row.approved) if row.user_id is not None else True,
        local=row.user_id is not None,
    )


def check_may_act(by: Viewer | None, on: Target) -> None:
    """Staff acting through the API or the web need ``manage_users``, and may
    not limit another staff member (the operator can, at the console)."""
    if by is None:
        return
    if not by.may(MANAGE_USERS):
        raise Forbidden("This action is not allowed")
    if on.staff:
        raise Forbidden(
            "A staff member cannot be limited through the API; "
            "the operator can with the roost command"
        )


def actor_of(by: Viewer | None, actor: Staff | None, via: str = "api") -> Staff:
    if actor is not None:
        return actor
    return Staff(None, "console") if by is None else Staff(by.account_id, via)


async def _audit(tx: Tx, action: str, on: Target, actor: Staff, reason: str | None) -> None:
    personal: dict[str, str | None] = {"username": on.username}
    if reason:
        personal["reason"] = reason
    await record(
        tx,
        action=action,
        permission=key(MANAGE_USERS),
        by=actor,
        subject_type="account",
        target_account_id=on.id,
        personal=personal,
    )


async def do_limit(
    tx: Tx, on: Target, kind: str, *, actor: Staff, reason: str | None = None
) -> bool:
    """Set limit ``kind`` (one of LIMITS); False when it was already set."""
    now = utcnow()
    if kind == "silence":
        if on.silenced:
            return False
        await tx.execute(update(accounts).where(accounts.c.id == on.id).values(silenced_at=now))
    elif kind == "sensitive":
        if on.sensitized:
            return False
        await tx.execute(update(accounts).where(accounts.c.id == on.id).values(sensitized_at=now))
    elif kind == "disable":
        if on.disabled or not on.local:
            return False
        await tx.execute(update(users).where(users.c.account_id == on.id).values(disabled=True))
    else:
        raise ValueError(f"unknown limit {kind!r}")
    tx.emit(AccountChanged(on.id))
    await _audit(tx, f"account.{kind}", on, actor, reason)
    return True


# The action that lifts each limit, as Mastodon names its routes.
LIFTS = {"silence": "unsilence", "sensitive": "unsensitive", "disable": "enable"}


async def do_lift(tx: Tx, on: Target, kind: str, *, actor: Staff) -> bool:
    """Lift limit ``kind``; False when it was not set."""
    if kind == "silence":
        if not on.silenced:
            return False
        await tx.execute(update(accounts).where(accounts.c.id == on.id).values(silenced_at=None))
    elif kind == "sensitive":
        if not on.sensitized:
            return False
        await tx.execute(update(accounts).where(accounts.c.id == on.id).values(sensitized_at=None))
    elif kind == "disable":
        if not on.disabled:
            return False
        await tx.execute(update(users).where(users.c.account_id == on.id).values(disabled=False))
    else:
        raise ValueError(f"unknown limit {kind!r}")
    tx.emit(AccountChanged(on.id))
    await _audit(tx, f"account.{LIFTS[kind]}", on, actor, None)
    return True


async def is_sensitized(tx: Tx, account_id: int) -> bool:
    value = (
        await tx.execute(select(accounts.c.sensitized_at).where(accounts.c.id == account_id))
    ).scalar()
    return value is not None


async def do_approve_signup(tx: Tx, by: Viewer | None, account_id: int) -> None:
    """Let a sign-up awaiting approval in. Forbidden when it is not awaiting it
    (as Mastodon answers)."""
    if by is not None and not by.may(MANAGE_USERS):
        raise Forbidden("This action is not allowed")
    on = await target(tx, account_id)
    if not on.local or on.approved:
        raise Forbidden("The account is not awaiting approval")
    await do_approve(tx, account_id, by=actor_of(by, None))


async def do_reject_signup(tx: Tx, by: Viewer | None, account_id: int) -> Target:
    """Record the refusal of a sign-up awaiting approval; the caller then
    erases the account (roost/erasure), in a transaction of its own."""
    if by is not None and not by.may(MANAGE_USERS):
        raise Forbidden("This action is not allowed")
    on = await target(tx, account_id)
    if not on.local or on.approved:
        raise Forbidden("The account is not awaiting approval")
    await _audit(tx, "account.reject", on, actor_of(by, None), None)
    return on


async def check_deletable(tx: Tx, by: Viewer | None, account_id: int) -> Target:
    """Deleting an account's data (Mastodon's ``DELETE /api/v1/admin/accounts/:id``)
    needs ``delete_user_data`` and a suspended account."""
    if by is not None and not by.may(Permission.DELETE_USER_DATA):
        raise Forbidden("This action is not allowed")
    on = await target(tx, account_id)
    if not on.suspended:
        raise Forbidden("The account must be suspended before its data is deleted")
    await record(
        tx,
        action="account.delete_data",
        permission=key(Permission.DELETE_USER_DATA),
        by=actor_of(by, None),
        subject_type="account",
        target_account_id=on.id,
        personal={"username": on.username},
    )
    return on
