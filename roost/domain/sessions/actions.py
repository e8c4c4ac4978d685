"""Browser sessions: started by a sign-in, ended by signing out, by the owner
from their list of sessions, or all at once (a password reset).

The cookie carries a random token; the table keeps its SHA-256, as for access
tokens, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import web_sessions
from roost.domain.audit import events as audit_events
from roost.domain.oauth.actions import digest
from roost.errors import NotFound
from roost.ids import new_id

MAX_USER_AGENT = 300


@dataclass(frozen=True)
class StartedSession:
    id: int
    token: str  # for the cookie; never stored


async def do_start_session(
    tx: Tx, account_id: int, *, ip: str | None, user_agent: str | None
) -> StartedSession:
    token = secrets.token_urlsafe(32)
    session_id = new_id()
    now = utcnow()
    await tx.execute(
        web_sessions.insert().values(
            id=session_id,
            token_hash=digest(token),
            account_id=account_id,
            created_at=now,
            last_used_at=now,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:MAX_USER_AGENT] or None,
        )
    )
    await audit_events.staff_signed_in(tx, account_id, how="web")
    return StartedSession(session_id, token)


async def do_touch_session(tx: Tx, session_id: int, ip: str | None) -> None:
    await tx.execute(
        update(web_sessions)
        .where(web_sessions.c.id == session_id)
        .values(last_used_at=utcnow(), ip=(ip or "")[:64] or None)
    )


async def do_end_session(tx: Tx, account_id: int, session_id: int) -> None:
    """End one of the account's sessions; NotFound for anyone else's."""
    result = await tx.execute(
        delete(web_sessions).where(
            web_sessions.c.id == session_id, web_sessions.c.account_id == account_id
        )
    )
    if not result.rowcount:
        raise NotFound()


async def do_end_all_sessions(tx: Tx, account_id: int, *, keep: int | None = None) -> int:
    query = delete(web_sessions).where(web_sessions.c.account_id == account_id)
    if keep is not None:
        query = query.where(web_sessions.c.id != keep)
    return int((await tx.execute(query)).rowcount or 0)
