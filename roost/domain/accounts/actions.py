"""Every change to accounts and their sign-in credentials."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import account_roles, accounts, users
from roost.domain.accounts import passwords, retired
from roost.domain.accounts.verification import VerifyProfileLinks
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.events import AccountChanged
from roost.domain.quotes.rules import POLICIES
from roost.domain.roles.permissions import OWNER_ROLE_ID, Permission, key
from roost.domain.search.jobs import ReindexAccount
from roost.domain.statuses.content import field_html, note_html
from roost.errors import FieldsInvalid, NotFound, Problem, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.keys.ring import email_index, seal

USERNAME = re.compile(r"^[a-zA-Z0-9_]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_USERNAME = 30
MAX_EMAIL = 320
MAX_REASON = 1000
MAX_FIELDS = 4
MAX_DISPLAY_NAME = 30
MAX_NOTE = 500
# Names a stranger signing up may not take: they would pass for the staff.
# (An operator creating an account from the command line may use them.)
RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "root", "support", "help", "webmaster", "mod", "moderator"}
)


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    password: str
    # The Owner role (every permission): the operator's own first account.
    admin: bool = False
    locked: bool = False
    approved: bool = True
    reason: str | None = None
    locale: str = "en"
    # Someone signing up (not an operator creating the account): they must
    # accept the rules, and reserved names are not theirs to take.
    signed_up: bool = False
    agreement: bool = False
    # False for people signing themselves up: they confirm their address by
    # the link mailed to them before they can sign in with their password.
    confirmed: bool = True


def _too_long(limit: int) -> str:
    return f"is too long (maximum is {limit} characters)"


async def check_new_account(tx: Tx, new: NewAccount) -> None:
    """FieldsInvalid (422) naming every problem of every field at once."""
    problems: dict[str, list[Problem]] = {}

    def refuse(field: str, kind: str, description: str) -> None:
        problems.setdefault(field, []).append(Problem(kind, description))

    name = new.username
    if not name:
        refuse("username", "blank", "can't be blank")
    elif len(name) > MAX_USERNAME:
        refuse("username", "too_long", _too_long(MAX_USERNAME))
    elif not USERNAME.match(name):
        refuse("username", "invalid", "must contain only letters, numbers and underscores")
    elif new.signed_up and name.lower() in RESERVED_USERNAMES:
        refuse("username", "reserved", "is reserved")
    else:
        taken = await tx.execute(
            select(accounts.c.id).where(accounts.c.username_key == name.lower())
        )
        if taken.first() is not None or await retired.is_retired(tx.conn, name):
            # A retired name (an erased account's) is taken for good.
            refuse("username", "taken", "is already taken")
    if not new.email:
        refuse("email", "blank", "can't be blank")
    elif len(new.email) > MAX_EMAIL:
        refuse("email", "too_long", _too_long(MAX_EMAIL))
    elif not EMAIL.match(new.email):
        refuse("email", "invalid", "is invalid")
    else:
        email_taken = await tx.execute(
            select(users.c.account_id).where(users.c.email_key == email_index(new.email))
        )
        if email_taken.first() is not None:
            refuse("email", "taken", "is already taken")
    if not new.password:
        refuse("password", "blank", "can't be blank")
    elif len(new.password) < passwords.MIN_LENGTH:
        refuse(
            "password",
            "too_short",
            f"is too short (minimum is {passwords.MIN_LENGTH} characters)",
        )
    elif len(new.password) > passwords.MAX_LENGTH:
        refuse("password", "too_long", _too_long(passwords.MAX_LENGTH))
    if new.signed_up and not new.agreement:
        refuse("agreement", "accepted", "must be accepted")
    if new.reason is not None and len(new.reason) > MAX_REASON:
        refuse("reason", "too_long", _too_long(MAX_REASON))
    if problems:
        raise FieldsInvalid(problems)


async def do_create_account(tx: Tx, new: NewAccount) -> int:
    """Create an account and its local user; returns the account id."""
    await check_new_account(tx, new)
    password_hash = await passwords.hash_password(new.password)
    now = utcnow()
    account_id = new_id()
    await tx.execute(
        accounts.insert().values(
            id=account_id,
            username=new.username,
            username_key=new.username.lower(),
            display_name="",
            note="",
            note_html="",
            fields=[],
            locked=new.locked,
            bot=False,
            discoverable=True,
            indexable=False,
            hide_collections=False,
            followers_count=0,
            following_count=0,
            statuses_count=0,
            created_at=now,
        )
    )
    await tx.execute(
        users.insert().values(
            account_id=account_id,
            # The address is sealed under the account's key; the blind index
            # finds it at sign-in and keeps it unique.
            email=seal(account_id, new.email),
            email_key=email_index(new.email),
            password_hash=password_hash,
            approved=new.approved,
            locale=new.locale,
            default_visibility="public",
            default_sensitive=False,
            reason=new.reason,
            created_at=now,
            confirmed_at=now if new.confirmed else None,
        )
    )
    if new.admin:
        await tx.execute(
            account_roles.insert().values(
                account_id=account_id, role_id=OWNER_ROLE_ID, granted_at=now
            )
        )
        await record(
            tx,
            action="role.grant",
            permission=key(Permission.MANAGE_ROLES),
            by=CONSOLE,
            subject_type="role",
            subject_id=OWNER_ROLE_ID,
            target_account_id=account_id,
            details={"role": "Owner", "previous": None, "new_account": True},
        )
    return account_id


@dataclass(frozen=True)
class ProfileChange:
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    hide_collections: bool | None = None
    fields: list[tuple[str, str]] | None = None
    default_visibility: str | None = None
    default_sensitive: bool | None = None
    default_language: str | None = None
    # Who may quote new posts that name no policy: public, followers, nobody.
    default_quote_policy: str | None = None


def check_profile_change(change: ProfileChange) -> None:
    if change.display_name is not None and len(change.display_name) > MAX_DISPLAY_NAME:
        raise RuleBroken(f"Display name is too long (maximum is {MAX_DISPLAY_NAME})")
    if change.note is not None and len(change.note) > MAX_NOTE:
        raise RuleBroken(f"Note is too long (maximum is {MAX_NOTE} characters)")
    if change.fields is not None:
        if len(change.fields) > MAX_FIELDS:
            raise RuleBroken(f"at most {MAX_FIELDS} profile fields")
        for name, value in change.fields:
            if len(name) > 255 or len(value) > 255:
                raise RuleBroken("profile field names and values are 255 at most")
    if change.default_visibility is not None and change.default_visibility not in {
        "public",
        "unlisted",
        "private",
        "direct",
    }:
        raise RuleBroken("unknown default visibility")
    if change.default_quote_policy is not None and change.default_quote_policy not in POLICIES:
        raise RuleBroken("quote_policy must be one of " + ", ".join(POLICIES))


async def do_update_profile(tx: Tx, account_id: int, change: ProfileChange) -> None:
    check_profile_change(change)
    values: dict[str, Any] = {}
    for name in ("display_name", "locked", "bot", "discoverable", "indexable", "hide_collections"):
        value = getattr(change, name)
        if value is not None:
            values[name] = value
    if change.note is not None:
        values["note"] = seal(account_id, change.note)
        values["note_html"] = seal(account_id, note_html(change.note))
    if change.fields is not None:
        # A link's verification (roost/domain/accounts/verification.py) stays
        # while its address does; the job checks the fields again.
        before = (
            await tx.execute(select(accounts.c.fields).where(accounts.c.id == account_id))
        ).scalar() or []
        verified = {f.get("value"): f["verified_at"] for f in before if f.get("verified_at")}
        values["fields"] = [
            {"name": name, "value": value, "value_html": field_html(value)}
            | ({"verified_at": verified[value]} if value in verified else {})
            for name, value in change.fields
            if name or value
        ]
        await enqueue(tx, VerifyProfileLinks(account_id))
    if change.indexable is not None:
        was = (
            await tx.execute(select(accounts.c.indexable).where(accounts.c.id == account_id))
        ).scalar()
        if was is not None and bool(was) != change.indexable:
            # Whether strangers may find these posts by search changed with it.
            await enqueue(tx, ReindexAccount(account_id))
    if values:
        result = await tx.execute(
            update(accounts).where(accounts.c.id == account_id).values(**values)
        )
        if result.rowcount == 0:
            raise NotFound()
    tx.emit(AccountChanged(account_id))
    user_values = {
        name: getattr(change, name)
        for name in (
            "default_visibility",
            "default_sensitive",
            "default_language",
            "default_quote_policy",
        )
        if getattr(change, name) is not None
    }
    if user_values:
        await tx.execute(
            update(users).where(users.c.account_id == account_id).values(**user_values)
        )


async def do_approve(tx: Tx, account_id: int, *, by: Staff = CONSOLE) -> None:
    """Approve a sign-up (an audit entry: staff let someone in)."""
    await tx.execute(update(users).where(users.c.account_id == account_id).values(approved=True))
    await record(
        tx,
        action="account.approve",
        permission=key(Permission.MANAGE_USERS),
        by=by,
        subject_type="account",
        target_account_id=account_id,
    )


async def do_confirm_email(tx: Tx, account_id: int) -> bool:
    """Mark the address confirmed; False when it already was (or no such user)."""
    result = await tx.execute(
        update(users)
        .where(users.c.account_id == account_id, users.c.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
    )
    return bool(result.rowcount)


async def do_record_sign_in(tx: Tx, account_id: int) -> None:
    await tx.execute(
        update(users).where(users.c.account_id == account_id).values(last_sign_in_at=utcnow())
    )
