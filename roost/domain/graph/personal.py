"""What one keeps about other accounts for oneself: a private note, and the
accounts one endorses (features on one's profile)."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import account_notes, endorsements, follows
from roost.domain import privacy
from roost.domain.types import Viewer
from roost.errors import RuleBroken
from roost.ids import new_id

MAX_NOTE = 2000


async def do_set_note(tx: Tx, viewer: Viewer, target_id: int, comment: str) -> None:
    """Keep (or, with an empty comment, drop) a private note about an account."""
    me = viewer.account_id
    assert me is not None
    if len(comment) > MAX_NOTE:
        raise RuleBroken(f"a note is {MAX_NOTE} characters at most")
    await privacy.check_account(tx.conn, viewer, target_id)
    mine = (account_notes.c.account_id == me, account_notes.c.target_account_id == target_id)
    if not comment:
        await tx.execute(delete(account_notes).where(*mine))
        return
    existing = (await tx.execute(select(account_notes.c.id).where(*mine))).first()
    if existing is not None:
        await tx.execute(update(account_notes).where(*mine).values(comment=comment))
        return
    await tx.execute(
        account_notes.insert().values(
            id=new_id(),
            account_id=me,
            target_account_id=target_id,
            comment=comment,
            created_at=utcnow(),
        )
    )


async def do_endorse(tx: Tx, viewer: Viewer, target_id: int) -> None:
    """Feature an account one follows on one's profile. Idempotent."""
    me = viewer.account_id
    assert me is not None
    await privacy.check_account(tx.conn, viewer, target_id)
    following = (
        await tx.execute(
            select(follows.c.id).where(
                follows.c.account_id == me, follows.c.target_account_id == target_id
            )
        )
    ).first()
    if following is None:
        raise RuleBroken("you can only endorse accounts you follow")
    existing = (
        await tx.execute(
            select(endorsements.c.id).where(
                endorsements.c.account_id == me, endorsements.c.target_account_id == target_id
            )
        )
    ).first()
    if existing is None:
        await tx.execute(
            endorsements.insert().values(
                id=new_id(), account_id=me, target_account_id=target_id, created_at=utcnow()
            )
        )


async def do_unendorse(tx: Tx, viewer: Viewer, target_id: int) -> None:
    me = viewer.account_id
    assert me is not None
    await privacy.check_account(tx.conn, viewer, target_id)
    await tx.execute(
        delete(endorsements).where(
            endorsements.c.account_id == me, endorsements.c.target_account_id == target_id
        )
    )
