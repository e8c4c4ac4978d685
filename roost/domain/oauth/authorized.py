"""The applications an account has authorized (its live access tokens,
grouped by app), and taking an app's access away."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import applications, oauth_tokens
from roost.domain.audit import events as audit_events
from roost.errors import NotFound


@dataclass(frozen=True)
class AuthorizedApp:
    application_id: int | None  # None: tokens made by the operator (`roost tokens create`)
    name: str
    website: str | None
    scopes: list[str]
    tokens: int
    authorized_at: datetime
    last_used_at: datetime | None


@dataclass
class _Group:
    name: str
    website: str | None
    authorized_at: datetime
    scopes: set[str] = field(default_factory=set)
    tokens: int = 0
    last_used_at: datetime | None = None


async def authorized_apps(conn: AsyncConnection, account_id: int) -> list[AuthorizedApp]:
    rows = await conn.execute(
        select(
            oauth_tokens.c.application_id,
            applications.c.name,
            applications.c.website,
            oauth_tokens.c.scopes,
            oauth_tokens.c.created_at,
            oauth_tokens.c.last_used_at,
        )
        .select_from(
            oauth_tokens.outerjoin(applications, applications.c.id == oauth_tokens.c.application_id)
        )
        .where(oauth_tokens.c.account_id == account_id, oauth_tokens.c.revoked_at.is_(None))
        .order_by(oauth_tokens.c.created_at)
    )
    grouped: dict[int | None, _Group] = {}
    for row in rows:
        group = grouped.get(row.application_id)
        if group is None:
            group = grouped[row.application_id] = _Group(
                row.name or "Tokens made on the server", row.website, row.created_at
            )
        group.scopes.update(row.scopes.split())
        group.tokens += 1
        if row.last_used_at is not None and (
            group.last_used_at is None or row.last_used_at > group.last_used_at
        ):
            group.last_used_at = row.last_used_at
    return [
        AuthorizedApp(
            application_id=app_id,
            name=g.name,
            website=g.website,
            scopes=sorted(g.scopes),
            tokens=g.tokens,
            authorized_at=g.authorized_at,
            last_used_at=g.last_used_at,
        )
        for app_id, g in grouped.items()
    ]


async def do_revoke_app(tx: Tx, account_id: int, application_id: int | None) -> int:
    """Revoke every live token the account gave the app; NotFound if none."""
    app_match = (
        oauth_tokens.c.application_id.is_(None)
        if application_id is None
        else oauth_tokens.c.application_id == application_id
    )
    result = await tx.execute(
        update(oauth_tokens)
        .where(
            oauth_tokens.c.account_id == account_id, app_match, oauth_tokens.c.revoked_at.is_(None)
        )
        .values(revoked_at=utcnow())
    )
    if not result.rowcount:
        raise NotFound()
    await audit_events.tokens_revoked(tx, account_id, int(result.rowcount), how="api")
    return int(result.rowcount)


async def count_live_tokens(conn: AsyncConnection, account_id: int) -> int:
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(oauth_tokens)
                .where(oauth_tokens.c.account_id == account_id, oauth_tokens.c.revoked_at.is_(None))
            )
        ).scalar_one()
    )
