"""Reading accounts and users. Account reads for display go through the privacy
policy; these helpers serve sign-in and the CLI, which act on credentials."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, users
from roost.keys.ring import email_index


@dataclass(frozen=True)
class Credentials:
    account_id: int
    username: str
    password_hash: str
    approved: bool
    admin: bool
    suspended: bool


async def credentials_for(conn: AsyncConnection, login: str) -> Credentials | None:
    """By email or username, case-insensitively."""
    key = login.strip().lower().removeprefix("@")
    row = (
        await conn.execute(
            select(
                accounts.c.id,
                accounts.c.username,
                accounts.c.suspended_at,
                users.c.password_hash,
                users.c.approved,
                users.c.admin,
            )
            .join(users, users.c.account_id == accounts.c.id)
            .where(or_(users.c.email_key == email_index(key), accounts.c.username_key == key))
        )
    ).first()
    if row is None:
        return None
    return Credentials(
        account_id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        approved=row.approved,
        admin=row.admin,
        suspended=row.suspended_at is not None,
    )


async def account_id_for_username(conn: AsyncConnection, username: str) -> int | None:
    row = (
        await conn.execute(
            select(accounts.c.id).where(accounts.c.username_key == username.lower().lstrip("@"))
        )
    ).first()
    return None if row is None else int(row.id)


async def local_accounts_named(
    conn: AsyncConnection, usernames: list[str]
) -> dict[str, tuple[int, str]]:
    """username key -> (id, username) for the names that exist and are active."""
    if not usernames:
        return {}
    rows = await conn.execute(
        select(accounts.c.id, accounts.c.username, accounts.c.username_key).where(
            accounts.c.username_key.in_([u.lower() for u in usernames]),
            accounts.c.suspended_at.is_(None),
        )
    )
    return {row.username_key: (row.id, row.username) for row in rows}


@dataclass(frozen=True)
class UserSettings:
    email: str
    locale: str
    default_visibility: str
    default_sensitive: bool
    default_language: str | None
    approved: bool
    admin: bool


async def user_settings(conn: AsyncConnection, account_id: int) -> UserSettings | None:
    row = (await conn.execute(select(users).where(users.c.account_id == account_id))).first()
    if row is None:
        return None
    return UserSettings(
        email=row.email,
        locale=row.locale,
        default_visibility=row.default_visibility,
        default_sensitive=row.default_sensitive,
        default_language=row.default_language,
        approved=row.approved,
        admin=row.admin,
    )


async def count_accounts(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(accounts))).scalar_one())
