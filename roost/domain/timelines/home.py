"""A page of the home timeline read from the database, driven by its sources.

Whose posts can come home is known before any post is read: the viewer, the
accounts they follow and the hashtags they follow (rules.py,
``home_sources``). So a page is read source by source, never by walking
every post newest first, nor by gathering every post of every followed
account and sorting them:

1. **Candidates**: the newest ``k`` posts of each source within the page's
   bounds, each an index range of its own ((account, id) for an account,
   (tag, post) for a hashtag). One prepared read for them all.
2. **Complete range**: a source that gave fewer than ``k`` has nothing more
   in the bounds. For the others, everything newer than their ``k``-th post is
   among the candidates; so every candidate at or above the highest such
   ``k``-th post (the *floor*) is all there is down to there, of every source.
3. **Shown**: those candidates go through the home rule, the viewer's mutes
   and blocks and the privacy policy (``shown_on_home``, the same read that
   checks a cached page's entries), newest first.
4. If that leaves the page short while some source had more, the same is
   done again below the floor.

Why: with one statement over ``statuses``, SQLite's planner chooses between
walking the newest posts (fine when the followed accounts post often,
the whole table when they are quiet) and reading every post of every
followed account to sort them (fine when they post little, seconds when
they are prolific: 2.4 to 8.5 s at 1M posts, holding the event loop). Here
the work is bounded by the number of sources times ``k`` whatever the data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, literal, select, true, union_all

from roost.db.engine import ReadScope
from roost.db.fastread import FastReader, IdList, Prepared, id_list
from roost.db.tables import followed_tags, follows, status_tags, statuses
from roost.db.types import Id
from roost.domain.graph.mutes import mute_time
from roost.domain.privacy import PolicyRead, Visible
from roost.domain.statuses.feed import present
from roost.domain.statuses.feed_rows import feed_select
from roost.domain.timelines.pages import on_home
from roost.domain.timelines.quiet import read_time
from roost.domain.types import Page, StatusView, Viewer

# Candidates per source: a full page from one source alone needs no second
# round; beyond this many sources fewer each, so that a read stays near
# ``_CANDIDATES`` index entries (more rounds are cheaper than one huge one).
_CANDIDATES = 2000
_MIN_PER_SOURCE = 4
# Candidates checked per shown read, at most (a bound on its parameters).
_SHOWN_AT_ONCE = 200
_ACCOUNT, _TAG = 1, 2


def _shown_on_home(viewer: Viewer) -> Select[Any]:
    """Those of the ids (parameter ``ids``) that belong on the viewer's home at
    the time ``now``, newest first; ``PolicyRead`` adds the policy."""
    return (
        feed_select(viewer)
        .where(id_list(statuses.c.id, "ids"), on_home(viewer, now=read_time()))
        .order_by(statuses.c.id.desc())
    )


SHOWN_ON_HOME = PolicyRead(_shown_on_home)


def _bounded(column: Any, shape: tuple[bool, bool, bool]) -> list[Any]:
    _, has_high, has_low = shape
    found = []
    if has_high:
        found.append(column < bindparam("high", type_=Id))
    if has_low:
        found.append(column > bindparam("low", type_=Id))
    return found


def _newest(column: Any, shape: tuple[bool, bool, bool]) -> Any:
    return column.asc() if shape[0] else column.desc()


def _candidates(lateral: bool, shape: tuple[bool, bool, bool]) -> Any:
    """(kind, source, post id): up to ``k`` posts per source, nearest the
    page's start first. SQLite has no LATERAL; there the per-source range is
    an ``IN`` subquery over the row's own source, which it runs once per
    source on the index."""
    me = bindparam("me", type_=Id)
    k = bindparam("k", type_=Integer())
    authors = union_all(
        select(me.label("a")),
        select(follows.c.target_account_id).where(follows.c.account_id == me),
    ).subquery("authors")
    tagged = select(followed_tags.c.tag_id.label("t")).where(followed_tags.c.account_id == me)
    tagged_sub = tagged.subquery("followed")
    posts = statuses.alias("source_posts")
    by_author = (
        select(posts.c.id)
        .where(posts.c.account_id == authors.c.a, *_bounded(posts.c.id, shape))
        .order_by(_newest(posts.c.id, shape))
        .limit(k)
    )
    rows = status_tags.alias("source_tags")
    by_tag = (
        select(rows.c.status_id)
        .where(rows.c.tag_id == tagged_sub.c.t, *_bounded(rows.c.status_id, shape))
        .order_by(_newest(rows.c.status_id, shape))
        .limit(k)
    )
    if lateral:
        author_posts = by_author.lateral("author_posts")
        tag_posts = by_tag.lateral("tag_posts")
        return union_all(
            select(literal(_ACCOUNT), authors.c.a, author_posts.c.id).select_from(
                authors.join(author_posts, true())
            ),
            select(literal(_TAG), tagged_sub.c.t, tag_posts.c.status_id).select_from(
                tagged_sub.join(tag_posts, true())
            ),
        )
    return union_all(
        select(literal(_ACCOUNT), authors.c.a, statuses.c.id)
        .select_from(authors)
        .join(statuses, statuses.c.account_id == authors.c.a)
        .where(statuses.c.id.in_(by_author)),
        select(literal(_TAG), tagged_sub.c.t, status_tags.c.status_id)
        .select_from(tagged_sub)
        .join(status_tags, status_tags.c.tag_id == tagged_sub.c.t)
        .where(status_tags.c.status_id.in_(by_tag)),
    )


_CANDIDATE_READS = {
    (lateral, shape): Prepared(partial(_candidates, lateral, shape))
    for lateral in (False, True)
    for shape in (
        (ascending, high, low)
        for ascending in (False, True)
        for high in (False, True)
        for low in (False, True)
    )
}


def complete_range(
    found: dict[tuple[int, int], list[int]], k: int, *, ascending: bool
) -> tuple[list[int], int | None]:
    """The candidates that are all there is of every source in their range,
    nearest the page's start first, and the floor below which a further
    round must look (None: every source gave all it had)."""
    ends = [ids[-1] for ids in found.values() if len(ids) >= k]
    every = sorted({i for ids in found.values() for i in ids}, reverse=not ascending)
    if not ends:
        return every, None
    floor = min(ends) if ascending else max(ends)
    if ascending:
        return [i for i in every if i <= floor], floor
    return [i for i in every if i >= floor], floor


async def _sources(
    reader: FastReader, me: int, k: int, shape: tuple[bool, bool, bool], **bounds: int
) -> dict[tuple[int, int], list[int]]:
    lateral = reader.dialect.name != "sqlite"
    rows = await reader.all(_CANDIDATE_READS[lateral, shape], raw=True, me=me, k=k, **bounds)
    found: dict[tuple[int, int], list[int]] = defaultdict(list)
    for kind, source, post in rows:
        found[int(kind), int(source)].append(int(post))
    ascending = shape[0]
    for ids in found.values():
        ids.sort(reverse=not ascending)
    return found


async def shown_on_home(
    reader: FastReader, viewer: Viewer, ids: Sequence[int]
) -> list[Visible[Any]]:
    """The rows of those of ``ids`` the viewer's home shows now, newest first."""
    if not ids:
        return []
    return await SHOWN_ON_HOME.rows(reader, viewer, raw=True, ids=IdList(ids), now=mute_time())


def _source_count() -> Any:
    me = bindparam("me", type_=Id)
    return select(
        select(func.count())
        .select_from(follows)
        .where(follows.c.account_id == me)
        .scalar_subquery()
        + select(func.count())
        .select_from(followed_tags)
        .where(followed_tags.c.account_id == me)
        .scalar_subquery()
    )


_SOURCE_COUNT = Prepared(_source_count)


def per_source(limit: int, sources: int) -> int:
    """Candidates per source: a page's worth while that stays near
    ``_CANDIDATES`` in all, fewer (but at least ``_MIN_PER_SOURCE``) beyond."""
    return max(_MIN_PER_SOURCE, min(limit, _CANDIDATES // max(1, sources)))


async def home_rows(reader: FastReader, viewer: Viewer, page: Page) -> list[Visible[Any]]:
    """The page's rows in paging order (oldest first for ``min_id``)."""
    assert viewer.account_id is not None
    ascending = page.min_id is not None
    lows = [b for b in (page.since_id, page.min_id) if b is not None]
    low = max(lows) if lows else None
    high = page.max_id
    counted = await reader.all(_SOURCE_COUNT, raw=True, me=viewer.account_id)
    k = per_source(page.limit, 1 + int(counted[0][0]))
    shown: list[Visible[Any]] = []
    while True:
        bounds = {
            name: value for name, value in (("high", high), ("low", low)) if value is not None
        }
        shape = (ascending, high is not None, low is not None)
        found = await _sources(reader, viewer.account_id, k, shape, **bounds)
        ids, floor = complete_range(found, k, ascending=ascending)
        start = 0
        while start < len(ids):
            # Most candidates are usually shown: ask for a little more than
            # the page lacks, then more at a time if the rules took many.
            wanted = page.limit - len(shown)
            step = min(_SHOWN_AT_ONCE, wanted + wanted // 2 + 4 if start == 0 else 4 * wanted)
            rows = await shown_on_home(reader, viewer, ids[start : start + step])
            start += step
            if ascending:
                rows.reverse()
            shown += rows
            if len(shown) >= page.limit:
                return shown[: page.limit]
        if floor is None:
            return shown
        # Below (above, for min_id) the floor, which was itself shown or not.
        if ascending:
            low = floor
        else:
            high = floor


async def home_page(reads: ReadScope, viewer: Viewer, page: Page) -> list[Visible[StatusView]]:
    """``viewer`` reads as a timeline does (``privacy.timeline_reader``)."""
    rows = await home_rows(reads.fast, viewer, page)
    if page.min_id is not None:
        rows.reverse()
    return await present(reads, viewer, rows)
