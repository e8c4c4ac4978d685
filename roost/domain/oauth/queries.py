"""Looking up who a bearer token belongs to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, applications, oauth_tokens, users
from roost.domain.oauth.actions import RegisteredApp, app_from_row, digest
from roost.domain.types import Viewer


class PendingApproval(Exception):
    """The token is valid but its account awaits a moderator's approval."""


async def viewer_for_token(conn: AsyncConnection, token: str) -> Viewer | None:
    """The viewer a token stands for, or None for an unknown, revoked or dead token."""
    row = (
        await conn.execute(
            select(
                oauth_tokens.c.id,
                oauth_tokens.c.account_id,
                oauth_tokens.c.application_id,
                oauth_tokens.c.scopes,
                oauth_tokens.c.revoked_at,
                accounts.c.suspended_at,
                users.c.admin,
                users.c.approved,
            )
            .select_from(
                oauth_tokens.outerjoin(
                    accounts, accounts.c.id == oauth_tokens.c.account_id
                ).outerjoin(users, users.c.account_id == oauth_tokens.c.account_id)
            )
            .where(oauth_tokens.c.token_hash == digest(token))
        )
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.account_id is not None:
        if row.suspended_at is not None:
            return None
        if not row.approved:
            raise PendingApproval()
    return Viewer(
        account_id=row.account_id,
        scopes=frozenset(row.scopes.split()),
        application_id=row.application_id,
        token_id=row.id,
        is_admin=bool(row.admin),
    )


async def app_by_client_id(conn: AsyncConnection, client_id: str) -> RegisteredApp | None:
    row = (
        await conn.execute(select(applications).where(applications.c.client_id == client_id))
    ).first()
    return None if row is None else app_from_row(row)


async def app_by_id(conn: AsyncConnection, app_id: int) -> RegisteredApp | None:
    row = (await conn.execute(select(applications).where(applications.c.id == app_id))).first()
    return None if row is None else app_from_row(row)
