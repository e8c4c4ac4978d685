"""Applying a viewer's filters to posts they are about to be shown.

Runs after the privacy policy, per viewer, on views already cleared. As in
Mastodon, every active filter that matches a post is attached to it
(``StatusView.filtered``, whatever the filter's contexts: apps read the
contexts); and a post matched by a ``hide`` filter for the context being
served is left out here, on the server.

A keyword matches case-insensitively anywhere in the post's content warning,
text or image descriptions; a whole-word keyword only where it starts and ends
at a word boundary ("cat" matches "Cat!" but not "concatenate"). A boost is
judged by the post it boosts. The viewer's own posts are never filtered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import BigInteger, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import ReadScope
from roost.db.fastread import Prepared
from roost.db.tables import filters
from roost.domain.filters.model import (
    ACCOUNT,
    HIDE,
    HOME,
    NOTIFICATIONS,
    PUBLIC,
    THREAD,
    Filter,
    FilterMatch,
)
from roost.domain.filters.queries import filters_of
from roost.domain.privacy import Visible
from roost.domain.types import NotificationView, StatusView, Viewer

__all__ = [
    "ACCOUNT",
    "HOME",
    "NOTIFICATIONS",
    "PUBLIC",
    "THREAD",
    "apply_filters",
    "apply_to_notifications",
    "keyword_pattern",
]


def keyword_pattern(keyword: str, whole_word: bool) -> re.Pattern[str]:
    escaped = re.escape(keyword)
    if whole_word:
        # A boundary only where the keyword itself starts or ends with a word
        # character: "#tag" or "c++" still match as whole words.
        start = r"\b" if re.match(r"\w", keyword[:1]) else ""
        end = r"\b" if re.match(r"\w", keyword[-1:]) else ""
        escaped = f"{start}{escaped}{end}"
    return re.compile(escaped, re.IGNORECASE)


class _Compiled:
    def __init__(self, active: list[Filter], me: int) -> None:
        self.me = me
        self.filters = [
            (f, [(k.keyword, keyword_pattern(k.keyword, k.whole_word)) for k in f.keywords])
            for f in active
        ]

    def matches(self, view: StatusView) -> tuple[FilterMatch, ...]:
        status = view.status
        if status.account_id == self.me:
            return ()  # nobody is hidden from their own posts
        descriptions = "\n".join(m.description or "" for m in view.media)
        text = f"{status.spoiler_text}\n{status.text}\n{descriptions}"
        found: list[FilterMatch] = []
        for f, patterns in self.filters:
            keywords = tuple(k for k, pattern in patterns if pattern.search(text))
            posts = tuple(s.status_id for s in f.statuses if s.status_id == status.id)
            if keywords or posts:
                found.append(FilterMatch(f, keywords or None, posts or None))
        return tuple(found)


# Most people have no filters: one prepared read tells, before the full load.
_ANY_FILTER = Prepared(
    lambda: (
        select(filters.c.id)
        .where(filters.c.account_id == bindparam("me", type_=BigInteger()))
        .limit(1)
    )
)


async def _compiled(conn: AsyncConnection | ReadScope, viewer: Viewer) -> _Compiled | None:
    if viewer.account_id is None:
        return None
    if isinstance(conn, ReadScope):
        known = conn.facts.get("viewer_has_filters")
        if known is None:
            known = bool(await conn.fast.all(_ANY_FILTER, me=viewer.account_id))
        if not known:
            return None
        conn = await conn.conn()
    now = utcnow()
    active = [f for f in await filters_of(conn, viewer) if f.active(now)]
    return _Compiled(active, viewer.account_id) if active else None


def _filtered(view: StatusView, compiled: _Compiled) -> StatusView:
    if view.reblog is not None:
        inner = replace(view.reblog, filtered=compiled.matches(view.reblog))
        return replace(view, reblog=inner, filtered=inner.filtered)
    return replace(view, filtered=compiled.matches(view))


def _hidden(view: StatusView, context: str | None) -> bool:
    return context is not None and any(
        m.filter.action == HIDE and context in m.filter.context for m in view.filtered
    )


async def apply_filters(
    conn: AsyncConnection | ReadScope,
    viewer: Viewer,
    views: Sequence[Visible[StatusView]],
    context: str | None,
) -> list[Visible[StatusView]]:
    """The views with matching filters attached, less those a ``hide`` filter
    removes from ``context`` (None: attach only, remove nothing)."""
    compiled = await _compiled(conn, viewer) if views else None
    if compiled is None:
        return list(views)
    shown: list[Visible[StatusView]] = []
    for cleared in views:
        view = cleared.derive(lambda v: _filtered(v, compiled))
        if not _hidden(view.value, context):
            shown.append(view)
    return shown


async def apply_to_notifications(
    conn: AsyncConnection | ReadScope, viewer: Viewer, views: Sequence[Visible[NotificationView]]
) -> list[Visible[NotificationView]]:
    """Notifications about posts: filters attached, ``hide`` ones removed."""
    compiled = await _compiled(conn, viewer) if views else None
    if compiled is None:
        return list(views)
    shown: list[Visible[NotificationView]] = []
    for cleared in views:
        status = cleared.value.status
        if status is None:
            shown.append(cleared)
            continue
        filtered = _filtered(status, compiled)
        if _hidden(filtered, NOTIFICATIONS):
            continue
        shown.append(cleared.derive(_with_status(filtered)))
    return shown


def _with_status(status: StatusView) -> Callable[[NotificationView], NotificationView]:
    return lambda notification: replace(notification, status=status)
