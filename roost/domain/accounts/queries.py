"""Reading accounts and users. Account reads for display go through the privacy
policy; these helpers serve sign-in and the CLI, which act on credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.fastread import FastReader, Prepared
from roost.db.tables import accounts, follow_requests, users
from roost.domain import privacy
from roost.domain.privacy import Visible
from roost.domain.roles.permissions import is_staff
from roost.domain.roles.queries import permissions_of
from roost.domain.types import Account, Viewer
from roost.errors import NotFound
from roost.keys.ring import email_index


@dataclass(frozen=True)
class Credentials:
    account_id: int
    username: str
    password_hash: str
    approved: bool
    admin: bool
    suspended: bool
    confirmed: bool = True
    disabled: bool = False


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
                permissions_of(accounts.c.id).label("permissions"),
                users.c.confirmed_at,
                users.c.disabled,
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
        admin=is_staff(int(row.permissions)),
        suspended=row.suspended_at is not None,
        confirmed=row.confirmed_at is not None,
        disabled=bool(row.disabled),
    )


async def password_hash_of(conn: AsyncConnection, account_id: int) -> str | None:
    """The stored password hash of a local account (None: no such user)."""
    stored: str | None = (
        await conn.execute(select(users.c.password_hash).where(users.c.account_id == account_id))
    ).scalar_one_or_none()
    return stored


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
    rows = await conn.execute(_LOCAL_NAMED, {"keys": [u.lower() for u in usernames]})
    return {row.username_key: (row.id, row.username) for row in rows}


# Every post with a mention asks this: built once (SQLAlchemy builds and
# keys a statement anew at each call otherwise).
_LOCAL_NAMED = select(accounts.c.id, accounts.c.username, accounts.c.username_key).where(
    accounts.c.username_key.in_(bindparam("keys", expanding=True)),
    accounts.c.suspended_at.is_(None),
)


async def remote_accounts_named(
    conn: AsyncConnection, accts: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str, str]]:
    """Lower-cased (username, domain) -> (id, username, profile URL) for the
    accounts of other servers stored here under those names and not
    suspended (a suspended server's accounts are). Two actors of one server
    may have had one name (one renamed, another took it): the newest wins."""
    if not accts:
        return {}
    rows = await conn.execute(
        select(
            accounts.c.id, accounts.c.username, accounts.c.domain, accounts.c.url, accounts.c.uri
        )
        .where(
            accounts.c.domain.in_(sorted({d for _, d in accts})),
            func.lower(accounts.c.username).in_(sorted({u for u, _ in accts})),
            accounts.c.suspended_at.is_(None),
        )
        .order_by(accounts.c.id)
    )
    wanted = set(accts)
    found: dict[tuple[str, str], tuple[int, str, str]] = {}
    for row in rows:
        key = (str(row.username).lower(), str(row.domain).lower())
        if key in wanted:
            found[key] = (int(row.id), str(row.username), str(row.url or row.uri))
    return found


@dataclass(frozen=True)
class UserSettings:
    email: str
    locale: str
    default_visibility: str
    default_sensitive: bool
    default_language: str | None
    approved: bool
    admin: bool
    default_quote_policy: str


async def user_settings(conn: AsyncConnection, account_id: int) -> UserSettings | None:
    row = (
        await conn.execute(
            select(users, permissions_of(users.c.account_id).label("permissions")).where(
                users.c.account_id == account_id
            )
        )
    ).first()
    if row is None:
        return None
    return UserSettings(
        email=row.email,
        locale=row.locale,
        default_visibility=row.default_visibility,
        default_sensitive=row.default_sensitive,
        default_language=row.default_language,
        approved=row.approved,
        default_quote_policy=row.default_quote_policy,
        admin=is_staff(int(row.permissions)),
    )


@dataclass(frozen=True)
class PostingDefaults:
    """What a new post takes from its author's settings when it names none."""

    visibility: str
    language: str | None
    quote_policy: str | None


# Every post reads these: a prepared read (roost/db/fastread.py), not a
# SQLAlchemy transaction of its own.
_POSTING_DEFAULTS = Prepared(
    lambda: select(
        users.c.default_visibility, users.c.default_language, users.c.default_quote_policy
    ).where(users.c.account_id == bindparam("account_id"))
)


async def posting_defaults(reader: FastReader, account_id: int) -> PostingDefaults | None:
    """The account's posting defaults (None: not a local user)."""
    rows = await reader.all(_POSTING_DEFAULTS, account_id=account_id)
    return PostingDefaults(*rows[0]) if rows else None


async def count_accounts(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(accounts))).scalar_one())


async def pending_follow_requests(conn: AsyncConnection, account_id: int) -> int:
    """How many follow requests wait for the account's answer."""
    count = await conn.execute(
        select(func.count())
        .select_from(follow_requests)
        .where(follow_requests.c.target_account_id == account_id)
    )
    return int(count.scalar_one())


async def local_account(conn: AsyncConnection, viewer: Viewer, username: str) -> Visible[Account]:
    """The local account named ``username`` (any case, exactly as written), as
    the policy shows accounts to ``viewer`` (blocked ones hidden); NotFound
    otherwise."""
    rows = await privacy.visible_accounts(
        conn,
        viewer,
        select(accounts).where(
            accounts.c.username_key == username.lower(), accounts.c.domain.is_(None)
        ),
    )
    if not rows:
        raise NotFound()
    return rows[0].derive(Account.from_row)


async def remote_account(
    conn: AsyncConnection, viewer: Viewer, username: str, domain: str
) -> Visible[Account]:
    """The stored account ``username@domain`` of another server (any case), as
    the policy shows one account; NotFound otherwise (nothing is fetched:
    roost/domain/federation/remote.py does that)."""
    rows = await privacy.visible_accounts(
        conn,
        viewer,
        select(accounts)
        .where(
            accounts.c.domain == domain.lower(),
            func.lower(accounts.c.username) == username.lower(),
        )
        .order_by(accounts.c.id.desc())
        .limit(1),
        include_blocked=True,
    )
    if not rows:
        raise NotFound()
    return rows[0].derive(Account.from_row)


async def profile(conn: AsyncConnection, viewer: Viewer, username: str) -> Visible[Account]:
    """The local account named ``username`` (any case, with or without ``@``),
    as the policy shows one account; NotFound otherwise."""
    key = username.strip().lower().lstrip("@")
    if not key or len(key) > 30:
        raise NotFound()
    rows = await privacy.visible_accounts(
        conn,
        viewer,
        select(accounts).where(accounts.c.username_key == key, accounts.c.domain.is_(None)),
        include_blocked=True,
    )
    if not rows:
        raise NotFound()
    return rows[0].derive(Account.from_row)


async def username_of(conn: AsyncConnection, account_id: int) -> str:
    """The account's username (NotFound for an unknown id)."""
    found = (
        await conn.execute(select(accounts.c.username).where(accounts.c.id == account_id))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound()
    return str(found)


async def visible_accounts_by_id(
    conn: AsyncConnection, viewer: Viewer, ids: list[int]
) -> dict[int, Visible[Any]]:
    """Those of the accounts ``ids`` the viewer may see, as cleared rows by id."""
    rows = await privacy.visible_accounts(
        conn, viewer, select(accounts).where(accounts.c.id.in_(ids))
    )
    return {r.value["id"]: r for r in rows}
