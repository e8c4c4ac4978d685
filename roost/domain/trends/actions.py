"""Staff decisions on trends: approve (it shows in the public trends while
it trends) or reject (it never shows). A decision can be changed."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import preview_cards, statuses, tags, trend_reviews
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.roles.permissions import Permission, key
from roost.domain.trends.queries import Kind
from roost.errors import NotFound
from roost.ids import new_id

_SUBJECTS = {Kind.TAGS: tags, Kind.STATUSES: statuses, Kind.LINKS: preview_cards}


async def do_review(
    tx: Tx, kind: Kind, subject_id: int, *, approved: bool, by: Staff = CONSOLE
) -> None:
    """Record staff's decision on a hashtag, post or link (NotFound if there
    is no such thing; a post need not be visible to anyone but staff), and
    write it in the audit log."""
    decided_by = by.account_id
    table = _SUBJECTS[kind]
    if (await tx.execute(select(table.c.id).where(table.c.id == subject_id))).first() is None:
        raise NotFound()
    column = kind.column
    await tx.execute(delete(trend_reviews).where(column == subject_id))
    await tx.execute(
        insert(trend_reviews).values(
            {
                "id": new_id(),
                column.name: subject_id,
                "approved": approved,
                "decided_by": decided_by,
                "decided_at": utcnow(),
            }
        )
    )
    await record(
        tx,
        action="trend.approve" if approved else "trend.reject",
        permission=key(Permission.MANAGE_TAXONOMIES),
        by=by,
        subject_type=f"trend_{kind.value}",
        subject_id=subject_id,
    )
