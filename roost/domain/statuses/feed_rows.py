"""The row a timeline page reads for each post (``feed_select``): the post's
changing numbers, the viewer's marks on it, then its author, by position
(``ID``, ``FAVOURITED``, ...); and its author's ``Account`` made from those
columns (``Authors``). roost/domain/statuses/feed.py presents such rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select

from roost.db.fastread import Row
from roost.db.tables import (
    accounts,
    bookmarks,
    conversation_mutes,
    favourites,
    filters,
    pins,
    statuses,
)
from roost.domain.types import ACCOUNT_COLUMNS, Account, Viewer

META_NAMES = (
    "id",
    "account_id",
    "in_reply_to_id",
    "in_reply_to_account_id",
    "reblog_of_id",
    "visibility",
    "replies_count",
    "reblogs_count",
    "favourites_count",
    "edited_at",
)
(ID, AUTHOR_ID, PARENT, PARENT_ACCOUNT, BOOSTED, VISIBILITY, REPLIES, REBLOGS, FAVS, EDITED) = (
    range(len(META_NAMES))
)
# What belongs to the viewer, read with the post itself: one round trip per
# page fewer than asking afterwards. ``has_filters`` is the same on every row.
MARK_NAMES = (
    "favourited",
    "reblogged",
    "bookmarked",
    "pinned",
    "has_filters",
    "has_thread_mutes",
)
FAVOURITED, REBLOGGED, BOOKMARKED, PINNED, HAS_FILTERS, HAS_THREAD_MUTES = range(
    len(META_NAMES), len(META_NAMES) + len(MARK_NAMES)
)
ACCOUNT_NAMES = ACCOUNT_COLUMNS
AUTHOR_AT = len(META_NAMES) + len(MARK_NAMES)


def _marks(viewer: Viewer) -> list[Any]:
    me = viewer.account_id
    if me is None:
        return [false().label(name) for name in MARK_NAMES]

    def marked(table: Any) -> Any:
        return (
            select(table.c.id)
            .where(table.c.account_id == me, table.c.status_id == statuses.c.id)
            .exists()
        )

    boosts = statuses.alias("viewer_boosts")
    return [
        marked(favourites).label("favourited"),
        select(boosts.c.id)
        .where(boosts.c.account_id == me, boosts.c.reblog_of_id == statuses.c.id)
        .exists()
        .label("reblogged"),
        marked(bookmarks).label("bookmarked"),
        marked(pins).label("pinned"),
        select(filters.c.id).where(filters.c.account_id == me).exists().label("has_filters"),
        # The same on every row too: only a viewer who muted a thread has the
        # page's threads looked at (roost/domain/statuses/muted.py).
        select(conversation_mutes.c.id)
        .where(conversation_mutes.c.account_id == me)
        .exists()
        .label("has_thread_mutes"),
    ]


def feed_select(viewer: Viewer) -> Select[Any]:
    """The columns ``present`` reads: a post's numbers, the viewer's marks on
    it, then its author. ``viewer`` is the parametric viewer a ``PolicyRead``
    builds with."""
    return select(
        *(statuses.c[name] for name in META_NAMES),
        *_marks(viewer),
        *(accounts.c[name].label(f"author_{name}") for name in ACCOUNT_NAMES),
    ).select_from(statuses.join(accounts, accounts.c.id == statuses.c.account_id))


class Authors:
    """Accounts from the author columns of raw rows. The same raw values make
    the same (immutable) ``Account``, so it is kept: the serializers cache an
    account's JSON by the object."""

    cache: dict[Row, Account] = {}
    capacity = 10_000

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled

    def get(self, meta: Row) -> Account:
        raw = meta[AUTHOR_AT:]
        found = self.cache.get(raw)
        if found is None:
            if len(self.cache) >= self.capacity:
                del self.cache[next(iter(self.cache))]
            found = self.cache[raw] = Account(*self._compiled.process(raw, AUTHOR_AT))
        return found
