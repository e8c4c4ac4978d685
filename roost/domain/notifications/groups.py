"""Which notifications share a group in the v2 lists (Mastodon 4.3's rule).

Favourites of one post, boosts of one post, and follows, are grouped: a new
one joins the newest group of its kind if that group had a notification in
the last ``GROUP_SPAN``, else it starts a group named after its hour. Every
other type stands alone (``ungrouped-<id>``), and so does a groupable one when
the client does not ask for its type in ``grouped_types``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from roost.db.engine import Tx
from roost.db.tables import notifications

GROUPABLE = ("favourite", "reblog", "follow")
GROUP_SPAN = timedelta(hours=12)
_UNGROUPED = "ungrouped-"


def _prefix(type: str, status_id: int | None) -> str | None:
    if type == "follow":
        return "follow"
    if type in ("favourite", "reblog") and status_id is not None:
        return f"{type}-{status_id}"
    return None


async def group_key_for(
    tx: Tx, type: str, account_id: int, status_id: int | None, now: datetime
) -> str | None:
    """The stored group of a new notification; None for a type never grouped."""
    prefix = _prefix(type, status_id)
    if prefix is None:
        return None
    recent = (
        await tx.execute(
            select(notifications.c.group_key)
            .where(
                notifications.c.account_id == account_id,
                notifications.c.group_key.like(f"{prefix}-%"),
                notifications.c.created_at > now - GROUP_SPAN,
            )
            .order_by(notifications.c.id.desc())
            .limit(1)
        )
    ).first()
    if recent is not None and recent.group_key is not None:
        return str(recent.group_key)
    return f"{prefix}-{int(now.timestamp()) // 3600}"


def shown_key(
    notification_id: int, type: str, stored: str | None, grouped_types: frozenset[str]
) -> str:
    """The group key a client sees, given the types it asked to group."""
    if stored is None or type not in grouped_types:
        return f"{_UNGROUPED}{notification_id}"
    return stored


def ungrouped_id(group_key: str) -> int | None:
    """The notification id of an ``ungrouped-<id>`` key, else None."""
    if not group_key.startswith(_UNGROUPED):
        return None
    digits = group_key[len(_UNGROUPED) :]
    return int(digits) if digits.isdigit() and len(digits) <= 19 else None
