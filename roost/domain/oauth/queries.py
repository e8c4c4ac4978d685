"""Looking up who a bearer token belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.fastread import FastReader, Prepared
from roost.db.tables import accounts, applications, oauth_tokens, users
from roost.domain.oauth.actions import RegisteredApp, app_from_row, digest
from roost.domain.roles.permissions import is_staff
from roost.domain.roles.queries import permissions_of
from roost.domain.types import Viewer


class PendingApproval(Exception):
    """The token is valid but its account awaits a moderator's approval."""


class LoginDisabled(PendingApproval):
    """The token is valid but staff disabled its account's login (Mastodon
    answers 403 "Your login is currently disabled")."""


class PendingConfirmation(PendingApproval):
    """The token is valid but its account has not confirmed its address yet
    (Mastodon answers such tokens 403 until it has)."""

    def __init__(self, viewer: Viewer) -> None:
        super().__init__("unconfirmed")
        self.viewer = viewer


def _token_lookup() -> Select[Any]:
    return select(
        oauth_tokens.c.id,
        oauth_tokens.c.account_id,
        oauth_tokens.c.application_id,
        oauth_tokens.c.scopes,
        oauth_tokens.c.revoked_at,
        accounts.c.suspended_at,
        permissions_of(oauth_tokens.c.account_id).label("permissions"),
        users.c.approved,
        users.c.confirmed_at,
        users.c.disabled,
    ).select_from(
        oauth_tokens.outerjoin(accounts, accounts.c.id == oauth_tokens.c.account_id).outerjoin(
            users, users.c.account_id == oauth_tokens.c.account_id
        )
    )


# Every authenticated request may need this when its token is not cached:
# a prepared read, so a busy server's cache refreshes cost no thread hops.
_TOKEN_LOOKUP = Prepared(
    lambda: _token_lookup().where(oauth_tokens.c.token_hash == bindparam("token_hash"))
)


async def viewer_for_token(conn: AsyncConnection, token: str) -> Viewer | None:
    """The viewer a token stands for, or None for an unknown, revoked or dead token."""
    row = (
        await conn.execute(_token_lookup().where(oauth_tokens.c.token_hash == digest(token)))
    ).first()
    return None if row is None else _viewer_from(tuple(row))


async def viewer_for_token_fast(reader: FastReader, token: str) -> Viewer | None:
    """``viewer_for_token`` as a prepared read (roost/db/fastread.py)."""
    rows = await reader.all(_TOKEN_LOOKUP, token_hash=digest(token))
    return _viewer_from(rows[0]) if rows else None


def _viewer_from(row: tuple[Any, ...]) -> Viewer | None:
    (token_id, account_id, application_id, scopes, revoked_at, suspended_at, mask, approved) = row[
        :8
    ]
    confirmed_at, disabled = row[8], row[9]
    if revoked_at is not None:
        return None
    viewer = Viewer(
        account_id=account_id,
        scopes=frozenset(scopes.split()),
        application_id=application_id,
        token_id=token_id,
        is_admin=is_staff(int(mask or 0)),
        permissions=int(mask or 0),
    )
    if account_id is not None:
        if suspended_at is not None:
            return None
        if confirmed_at is None:
            raise PendingConfirmation(viewer)
        if not approved:
            raise PendingApproval()
        if disabled:
            raise LoginDisabled()
    return viewer


async def app_by_client_id(conn: AsyncConnection, client_id: str) -> RegisteredApp | None:
    row = (
        await conn.execute(select(applications).where(applications.c.client_id == client_id))
    ).first()
    return None if row is None else app_from_row(row)


async def app_by_id(conn: AsyncConnection, app_id: int) -> RegisteredApp | None:
    row = (await conn.execute(select(applications).where(applications.c.id == app_id))).first()
    return None if row is None else app_from_row(row)
