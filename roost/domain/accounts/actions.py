"""Every change to accounts and their sign-in credentials."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, users
from roost.domain.accounts import passwords
from roost.domain.statuses.content import note_html
from roost.errors import Conflict, Invalid, NotFound
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.keys.ring import email_index, seal

USERNAME = re.compile(r"^[a-zA-Z0-9_]{1,30}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FIELDS = 4
MAX_DISPLAY_NAME = 30
MAX_NOTE = 500


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    password: str
    admin: bool = False
    locked: bool = False
    approved: bool = True
    reason: str | None = None
    locale: str = "en"


async def check_new_account(tx: Tx, new: NewAccount) -> None:
    if not USERNAME.match(new.username):
        raise Invalid("Validation failed: Username must be 1 to 30 letters, digits or underscores")
    if not EMAIL.match(new.email) or len(new.email) > 320:
        raise Invalid("Validation failed: Email is not a valid address")
    if not passwords.MIN_LENGTH <= len(new.password) <= passwords.MAX_LENGTH:
        raise Invalid(
            f"Validation failed: Password must be at least {passwords.MIN_LENGTH} characters"
        )
    taken = await tx.execute(
        select(accounts.c.id).where(accounts.c.username_key == new.username.lower())
    )
    if taken.first() is not None:
        raise Conflict(f"Validation failed: Username {new.username} is already taken")
    email_taken = await tx.execute(
        select(users.c.account_id).where(users.c.email_key == email_index(new.email))
    )
    if email_taken.first() is not None:
        raise Conflict(f"Validation failed: Email {new.email} is already registered")


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
            admin=new.admin,
            approved=new.approved,
            locale=new.locale,
            default_visibility="public",
            default_sensitive=False,
            reason=new.reason,
            created_at=now,
        )
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


def check_profile_change(change: ProfileChange) -> None:
    if change.display_name is not None and len(change.display_name) > MAX_DISPLAY_NAME:
        raise Invalid(
            f"Validation failed: Display name is too long (maximum is {MAX_DISPLAY_NAME})"
        )
    if change.note is not None and len(change.note) > MAX_NOTE:
        raise Invalid(f"Validation failed: Note is too long (maximum is {MAX_NOTE} characters)")
    if change.fields is not None:
        if len(change.fields) > MAX_FIELDS:
            raise Invalid(f"Validation failed: at most {MAX_FIELDS} profile fields")
        for name, value in change.fields:
            if len(name) > 255 or len(value) > 255:
                raise Invalid("Validation failed: profile field names and values are 255 at most")
    if change.default_visibility is not None and change.default_visibility not in {
        "public",
        "unlisted",
        "private",
        "direct",
    }:
        raise Invalid("Validation failed: unknown default visibility")


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
        values["fields"] = [
            {"name": name, "value": value, "value_html": note_html(value)}
            for name, value in change.fields
            if name or value
        ]
    if change.indexable is not None:
        was = (
            await tx.execute(select(accounts.c.indexable).where(accounts.c.id == account_id))
        ).scalar()
        if was is not None and bool(was) != change.indexable:
            # Whether strangers may find these posts by search changed with it.
            await enqueue(tx, "search.reindex_account", {"account_id": account_id})
    if values:
        result = await tx.execute(
            update(accounts).where(accounts.c.id == account_id).values(**values)
        )
        if result.rowcount == 0:
            raise NotFound()
    user_values = {
        name: getattr(change, name)
        for name in ("default_visibility", "default_sensitive", "default_language")
        if getattr(change, name) is not None
    }
    if user_values:
        await tx.execute(
            update(users).where(users.c.account_id == account_id).values(**user_values)
        )


async def do_approve(tx: Tx, account_id: int) -> None:
    await tx.execute(update(users).where(users.c.account_id == account_id).values(approved=True))


async def do_record_sign_in(tx: Tx, account_id: int) -> None:
    await tx.execute(
        update(users).where(users.c.account_id == account_id).values(last_sign_in_at=utcnow())
    )
