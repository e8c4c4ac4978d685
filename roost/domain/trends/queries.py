"""Trending hashtags, posts and links: ranked from recent public activity
(scoring.py), shown to everyone only once staff approved them, and offered
to staff for review until then (as Mastodon does).

Activity counted (the posts pass ``privacy.trendable_post``: public, not a
boost, by a discoverable account that is not suspended):
- a hashtag: the accounts whose posts used it;
- a link: the accounts whose posts show its card;
- a post (not a reply, not sensitive or behind a content warning): the
  accounts other than its author that favourited or boosted it, none of them
  suspended.

Ranking reads the activity of the window in one query per kind and is kept
for ``CACHE_S`` seconds per database, or until new posts, favourites or cards
arrive (a cheap fingerprint read on each call), so the decay moves on and
new activity shows at once. Reviews are read fresh on every call. Posts that
trend are then read for each viewer through the privacy policy, so a viewer
never sees a trending post they may not see.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.tables import (
    favourites,
    preview_cards,
    status_cards,
    status_tags,
    statuses,
    tags,
    trend_reviews,
)
from roost.domain import privacy
from roost.domain.cards.model import PreviewCard
from roost.domain.privacy import Visible
from roost.domain.statuses.queries import statuses_by_ids
from roost.domain.tags.queries import HISTORY_DAYS, DayUse, TagView, tag_views
from roost.domain.trends.scoring import WINDOW, Trend, rank
from roost.domain.types import StatusView, Viewer
from roost.ids import min_id_for_time

CACHE_S = 60.0
# Trending links a link timeline is looked for among (Mastodon shows 10 at a time).
MAX_LINKS_LOOKED_UP = 200
# Accounts counted must be ones anybody may be shown: not suspended.
_NOBODY = Viewer(account_id=None)


class Kind(StrEnum):
    TAGS = "tags"
    STATUSES = "statuses"
    LINKS = "links"

    @property
    def column(self) -> Any:
        return {
            Kind.TAGS: trend_reviews.c.tag_id,
            Kind.STATUSES: trend_reviews.c.status_id,
            Kind.LINKS: trend_reviews.c.card_id,
        }[self]


def _tag_uses(since: datetime) -> Select[Any]:
    return (
        select(status_tags.c.tag_id, statuses.c.account_id, statuses.c.created_at, statuses.c.id)
        .join(statuses, statuses.c.id == status_tags.c.status_id)
        .where(statuses.c.id >= min_id_for_time(since), privacy.trendable_post())
    )


def _link_uses(since: datetime) -> Select[Any]:
    return (
        select(status_cards.c.card_id, statuses.c.account_id, statuses.c.created_at, statuses.c.id)
        .join(statuses, statuses.c.id == status_cards.c.status_id)
        .where(statuses.c.id >= min_id_for_time(since), privacy.trendable_post())
    )


def _status_interactions(since: datetime) -> Any:
    target = statuses.alias("trend_target")
    boost = statuses.alias("trend_boost")
    eligible = [
        privacy.trendable_post(target),
        target.c.in_reply_to_id.is_(None),
        target.c.sensitive.is_(False),
        target.c.id >= min_id_for_time(since),
    ]
    favourited = (
        select(favourites.c.status_id, favourites.c.account_id, favourites.c.created_at)
        .join(target, target.c.id == favourites.c.status_id)
        .where(
            *eligible,
            favourites.c.created_at >= since,
            favourites.c.account_id != target.c.account_id,
            privacy.listed_account_id(_NOBODY, favourites.c.account_id),
        )
    )
    boosted = (
        select(boost.c.reblog_of_id, boost.c.account_id, boost.c.created_at)
        .join(target, target.c.id == boost.c.reblog_of_id)
        .where(
            *eligible,
            boost.c.id >= min_id_for_time(since),
            boost.c.account_id != target.c.account_id,
            privacy.listed_account_id(_NOBODY, boost.c.account_id),
        )
    )
    return union_all(favourited, boosted)


async def _events(
    conn: AsyncConnection, kind: Kind, since: datetime
) -> list[tuple[int, int, datetime]]:
    if kind is Kind.TAGS:
        query: Any = _tag_uses(since)
    elif kind is Kind.LINKS:
        query = _link_uses(since)
    else:
        query = _status_interactions(since)
    return [(int(r[0]), int(r[1]), _aware(r[2])) for r in await conn.execute(query)]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass
class _Ranked:
    at: float
    fingerprint: tuple[Any, ...]
    trends: list[Trend]


_RANKED: dict[tuple[str, Kind], _Ranked] = {}


async def _fingerprint(conn: AsyncConnection, since: datetime) -> tuple[Any, ...]:
    """What changes when activity arrives: the newest post and favourite, and
    how many posts of the window show a card (cards arrive after their
    posts). Each is read from an index."""
    recent_cards = select(func.count()).where(status_cards.c.status_id >= min_id_for_time(since))
    row = (
        await conn.execute(
            select(
                select(func.max(statuses.c.id)).scalar_subquery(),
                select(func.max(favourites.c.id)).scalar_subquery(),
                recent_cards.scalar_subquery(),
            )
        )
    ).one()
    return tuple(row)


async def ranked(conn: AsyncConnection, kind: Kind) -> list[Trend]:
    """Everything trending of ``kind`` now, approved or not, best first."""
    key = (str(conn.engine.url), kind)
    fingerprint = await _fingerprint(conn, utcnow() - WINDOW)
    kept = _RANKED.get(key)
    if (
        kept is not None
        and kept.fingerprint == fingerprint
        and time.monotonic() - kept.at < CACHE_S
    ):
        return kept.trends
    now = utcnow()
    trends = rank(await _events(conn, kind, now - WINDOW), now)
    _RANKED[key] = _Ranked(time.monotonic(), fingerprint, trends)
    return trends


def forget_ranked() -> None:
    _RANKED.clear()


async def decisions(conn: AsyncConnection, kind: Kind, ids: Sequence[int]) -> dict[int, bool]:
    """Staff's decision on each of ``ids`` (approved or not); undecided ones left out."""
    if not ids:
        return {}
    column = kind.column
    rows = await conn.execute(select(column, trend_reviews.c.approved).where(column.in_(list(ids))))
    return {int(r[0]): bool(r[1]) for r in rows}


async def approved(conn: AsyncConnection, kind: Kind, offset: int, limit: int) -> list[Trend]:
    """What trends publicly: approved by staff, best first."""
    trends = await ranked(conn, kind)
    decided = await decisions(conn, kind, [t.subject_id for t in trends])
    return [t for t in trends if decided.get(t.subject_id) is True][offset : offset + limit]


async def trending_link(conn: AsyncConnection, url: str) -> int | None:
    """The card of ``url`` (as posts link it, or the page's own address) when
    it trends publicly now (approved by staff); None otherwise."""
    trending = await approved(conn, Kind.LINKS, 0, MAX_LINKS_LOOKED_UP)
    if not trending:
        return None
    rows = await conn.execute(
        select(preview_cards.c.id).where(
            preview_cards.c.id.in_([t.subject_id for t in trending]),
            or_(preview_cards.c.url == url, preview_cards.c.shown_url == url),
        )
    )
    found = rows.first()
    return None if found is None else int(found.id)


async def awaiting_review(conn: AsyncConnection, kind: Kind) -> list[Trend]:
    """Trending but not yet decided on: what staff are asked to review."""
    trends = await ranked(conn, kind)
    decided = await decisions(conn, kind, [t.subject_id for t in trends])
    return [t for t in trends if t.subject_id not in decided]


# -- what the trends show ------------------------------------------------------


async def tags_of(conn: AsyncConnection, viewer: Viewer, trends: Sequence[Trend]) -> list[TagView]:
    ids = [t.subject_id for t in trends]
    if not ids:
        return []
    rows = {
        int(r.id): r
        for r in await conn.execute(select(tags.c.id, tags.c.name).where(tags.c.id.in_(ids)))
    }
    return await tag_views(conn, viewer, [rows[i] for i in ids if i in rows])


async def statuses_of(
    conn: AsyncConnection, viewer: Viewer, trends: Sequence[Trend]
) -> list[Visible[StatusView]]:
    """The trending posts this viewer may see, through the policy."""
    return await statuses_by_ids(conn, viewer, [t.subject_id for t in trends])


@dataclass(frozen=True)
class TrendingLink:
    card: PreviewCard
    history: list[DayUse]


async def links_of(conn: AsyncConnection, trends: Sequence[Trend]) -> list[TrendingLink]:
    """Trending links' cards, each with its use per day over the last week
    (trendable posts only, as the ranking counts them)."""
    ids = [t.subject_id for t in trends]
    if not ids:
        return []
    cards = {
        int(r["id"]): PreviewCard.from_row(r)
        for r in (
            await conn.execute(select(preview_cards).where(preview_cards.c.id.in_(ids)))
        ).mappings()
    }
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS)]
    uses: dict[tuple[int, datetime], int] = {}
    seen: dict[tuple[int, datetime], set[int]] = {}
    rows = await conn.execute(_link_uses(days[-1]).where(status_cards.c.card_id.in_(ids)))
    for card_id, account_id, created_at, _status_id in rows:
        moment = _aware(created_at)
        day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
        uses[(card_id, day)] = uses.get((card_id, day), 0) + 1
        seen.setdefault((card_id, day), set()).add(account_id)
    return [
        TrendingLink(
            cards[i],
            [DayUse(d, uses.get((i, d), 0), len(seen.get((i, d), ()))) for d in days],
        )
        for i in ids
        if i in cards
    ]


async def describe(conn: AsyncConnection, kind: Kind, subject_id: int) -> str | None:
    """A line naming a trend's subject for staff (the CLI); None if it is gone."""
    if kind is Kind.TAGS:
        name = (await conn.execute(select(tags.c.name).where(tags.c.id == subject_id))).scalar()
        return None if name is None else f"#{name}"
    if kind is Kind.LINKS:
        row = (
            await conn.execute(
                select(preview_cards.c.shown_url, preview_cards.c.title).where(
                    preview_cards.c.id == subject_id
                )
            )
        ).first()
        return None if row is None else f"{row.title} <{row.shown_url}>"
    staff = Viewer(account_id=None, is_admin=True)
    found = await statuses_by_ids(conn, staff, [subject_id])
    if not found:
        return None
    view = found[0].value
    words = " ".join(view.status.text.split())
    return f"@{view.account.username}: {words[:80]}"
