"""Timeline pages read from the database, bounded whatever the data: home
and lists.

Whose posts can come onto a home or a list is known before any post is read:
for home the viewer, the accounts they follow and the hashtags they follow
(rules.py, ``home_sources``); for a list its members. A page is read in two
steps, each of which does work bounded by the page, never by the table:

1. **The newest posts first** (``walk``): the timeline's single statement
   (rule, mutes and policy at once) asked only of the newest ``_WINDOW``
   posts of the page's range. When the sources post often, as on most
   homes, that fills the page, in one statement.
2. **Source by source**, below that window, when it did not:
   a. *candidates*: the newest ``k`` posts of each source within the range,
      each an index range of its own ((account, id) for an account, (tag,
      post) for a hashtag), in one prepared read;
   b. *the complete range*: a source that gave fewer than ``k`` has nothing
      more in the range. For the others, everything newer than their
      ``k``-th post is among the candidates; so every candidate at or above
      the highest such ``k``-th post (the *floor*) is all there is down to
      there, of every source;
   c. *shown*: those candidates go through the rule, the viewer's mutes and
      blocks and the policy (``shown``: the same read that checks a cached
      page's entries, roost/domain/timelines/cached.py), newest first;
   d. and again below the floor, while the page is short and a source had
      more.

Why: asked of every post at once, SQLite's planner chooses between walking
the newest posts (the whole table when the followed accounts are quiet) and
reading every post of every followed account to sort them (seconds when
they are prolific: 2.4 to 8.5 s at 1M posts, holding the event loop). The
first step alone is the first plan with a bound; the second alone costs the
number of sources times ``k`` even when the newest posts would have done
(six times the single statement for a viewer following 200 active
accounts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal

from sqlalchemy import Integer, Table, bindparam, func, literal, select, true, union_all

from roost.db.fastread import FastReader, Prepared
from roost.db.tables import followed_tags, follows, list_accounts, status_tags, statuses
from roost.db.types import Id
from roost.domain.privacy import Visible
from roost.domain.types import Page

Kind = Literal["home", "list"]
Shown = Callable[[Sequence[int]], Awaitable[list[Visible[Any]]]]
Walk = Callable[[Page], Awaitable[list[Visible[Any]]]]

# The newest posts of a page's range the first step asks the rule of.
_WINDOW = 400

# Candidates per source: a full page from one source alone needs no second
# round; beyond this many sources fewer each, so that a read stays near
# ``_CANDIDATES`` index entries (more rounds are cheaper than one huge one).
_CANDIDATES = 2000
_MIN_PER_SOURCE = 4
# Candidates checked per shown read, at most (a bound on its parameters).
_SHOWN_AT_ONCE = 200
_ACCOUNT, _TAG = 1, 2


def bounded(column: Any, shape: tuple[bool, bool, bool]) -> list[Any]:
    """``column`` within a page's range, for a shape (ascending, has high,
    has low): below parameter ``high`` (max_id), above ``low``."""
    _, has_high, has_low = shape
    found = []
    if has_high:
        found.append(column < bindparam("high", type_=Id))
    if has_low:
        found.append(column > bindparam("low", type_=Id))
    return found


def nearest_first(column: Any, shape: tuple[bool, bool, bool]) -> Any:
    """The order that reads a range from its start (newest first, or oldest
    first for min_id pages)."""
    return column.asc() if shape[0] else column.desc()


def _authors(kind: Kind) -> Any:
    if kind == "list":
        members = list_accounts.c.list_id == bindparam("list_id", type_=Id)
        return select(list_accounts.c.account_id.label("a")).where(members).subquery("authors")
    me = bindparam("me", type_=Id)
    return union_all(
        select(me.label("a")),
        select(follows.c.target_account_id).where(follows.c.account_id == me),
    ).subquery("authors")


def _per_source(
    marker: int,
    sources: Any,
    source: Any,
    table: Table,
    key: str,
    post: str,
    lateral: bool,
    shape: tuple[bool, bool, bool],
) -> Any:
    """(``marker``, source, post id): up to ``k`` rows of ``table`` for each
    row of ``sources``, those whose ``key`` is its ``source``, nearest the
    page's start first by ``post``. SQLite has no LATERAL; there the range
    is an ``IN`` subquery over the row's own source, which it runs once per
    source on the (key, post) index."""
    inner = table.alias(f"source_{table.name}")
    newest = (
        select(inner.c[post])
        .where(inner.c[key] == source, *bounded(inner.c[post], shape))
        .order_by(nearest_first(inner.c[post], shape))
        .limit(bindparam("k", type_=Integer()))
    )
    if lateral:
        found = newest.lateral(f"newest_{table.name}")
        return select(literal(marker), source, found.c[post]).select_from(
            sources.join(found, true())
        )
    return (
        select(literal(marker), source, table.c[post])
        .select_from(sources)
        .join(table, table.c[key] == source)
        .where(table.c[post].in_(newest))
    )


def _candidates(kind: Kind, lateral: bool, shape: tuple[bool, bool, bool]) -> Any:
    """Up to ``k`` posts per source: each account's (the viewer's, those
    they follow, or a list's members) and, for home, each followed hashtag's."""
    authors = _authors(kind)
    parts = [
        _per_source(_ACCOUNT, authors, authors.c.a, statuses, "account_id", "id", lateral, shape)
    ]
    if kind == "home":
        followed = (
            select(followed_tags.c.tag_id.label("t"))
            .where(followed_tags.c.account_id == bindparam("me", type_=Id))
            .subquery("followed")
        )
        parts.append(
            _per_source(
                _TAG, followed, followed.c.t, status_tags, "tag_id", "status_id", lateral, shape
            )
        )
    return union_all(*parts)


# A page's range as prepared reads take it: (ascending, has high, has low).
RANGE_SHAPES = [
    (ascending, high, low)
    for ascending in (False, True)
    for high in (False, True)
    for low in (False, True)
]
_CANDIDATE_READS = {
    (kind, lateral, shape): Prepared(partial(_candidates, kind, lateral, shape))
    for kind in ("home", "list")
    for lateral in (False, True)
    for shape in RANGE_SHAPES
}


def _source_count(kind: Kind) -> Any:
    if kind == "list":
        return select(func.count()).where(list_accounts.c.list_id == bindparam("list_id", type_=Id))
    me = bindparam("me", type_=Id)
    followed = select(func.count()).select_from(follows).where(follows.c.account_id == me)
    tags = select(func.count()).select_from(followed_tags).where(followed_tags.c.account_id == me)
    # The viewer's own posts are a source too.
    return select(1 + followed.scalar_subquery() + tags.scalar_subquery())


_SOURCE_COUNTS = {kind: Prepared(partial(_source_count, kind)) for kind in ("home", "list")}


def per_source(limit: int, sources: int) -> int:
    """Candidates per source: a page's worth while that stays near
    ``_CANDIDATES`` in all, fewer (but at least ``_MIN_PER_SOURCE``) beyond."""
    return max(_MIN_PER_SOURCE, min(limit, _CANDIDATES // max(1, sources)))


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
    reader: FastReader, kind: Kind, k: int, shape: tuple[bool, bool, bool], **values: int
) -> dict[tuple[int, int], list[int]]:
    lateral = not reader.sqlite
    rows = await reader.all(_CANDIDATE_READS[kind, lateral, shape], raw=True, k=k, **values)
    found: dict[tuple[int, int], list[int]] = defaultdict(list)
    for source_kind, source, post in rows:
        found[int(source_kind), int(source)].append(int(post))
    for ids in found.values():
        ids.sort(reverse=not shape[0])
    return found


@dataclass(frozen=True)
class _Range:
    """A page's bounds as the reads here take them: ``high`` (max_id) and
    ``low`` (since_id or min_id, the higher), and which way it is read."""

    ascending: bool
    high: int | None
    low: int | None

    @classmethod
    def of(cls, page: Page) -> _Range:
        lows = [b for b in (page.since_id, page.min_id) if b is not None]
        return cls(page.min_id is not None, page.max_id, max(lows) if lows else None)

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        return (self.ascending, self.high is not None, self.low is not None)

    @property
    def bounds(self) -> dict[str, int]:
        return {
            name: value
            for name, value in (("high", self.high), ("low", self.low))
            if value is not None
        }


def _edge(shape: tuple[bool, bool, bool]) -> Any:
    """The id ``_WINDOW`` posts into the range from its start (none when the
    range holds fewer): the primary key's own order, read and not sorted."""
    return (
        select(statuses.c.id)
        .where(*bounded(statuses.c.id, shape))
        .order_by(nearest_first(statuses.c.id, shape))
        .limit(1)
        .offset(bindparam("window", type_=Integer()))
    )


_EDGES = {shape: Prepared(partial(_edge, shape)) for shape in RANGE_SHAPES}


async def timeline_rows(
    reader: FastReader, kind: Kind, page: Page, walk: Walk, shown: Shown, **values: int
) -> list[Visible[Any]]:
    """The page's rows in paging order (oldest first for ``min_id``).
    ``walk`` reads a page as the timeline's single statement; ``shown`` keeps
    those of some ids that the timeline shows, newest first; ``values`` name
    the sources (``me`` for home, ``list_id`` for a list)."""
    span = _Range.of(page)
    found = await reader.all(_EDGES[span.shape], raw=True, window=_WINDOW, **span.bounds)
    if not found:
        # Fewer than the window's posts in the range: the statement is bounded.
        return await walk(page)
    edge = int(found[0][0])
    if span.ascending:
        # ``id <= edge`` is ``id < edge + 1``.
        top = edge + 1 if span.high is None else min(span.high, edge + 1)
        window = Page(min_id=span.low, max_id=top, limit=page.limit)
    else:
        # ``id >= edge`` is ``id > edge - 1``.
        bottom = edge - 1 if span.low is None else max(span.low, edge - 1)
        window = Page(max_id=span.high, since_id=bottom, limit=page.limit)
    rows = await walk(window)
    if len(rows) >= page.limit:
        return rows
    # Beyond the window, source by source.
    beyond = _Range(True, span.high, edge) if span.ascending else _Range(False, edge, span.low)
    return rows + await _by_source(reader, kind, beyond, page.limit - len(rows), shown, values)


async def _by_source(
    reader: FastReader,
    kind: Kind,
    span: _Range,
    limit: int,
    shown: Shown,
    values: dict[str, int],
) -> list[Visible[Any]]:
    counted = await reader.all(_SOURCE_COUNTS[kind], raw=True, **values)
    k = per_source(limit, int(counted[0][0]))
    kept: list[Visible[Any]] = []
    while True:
        found = await _sources(reader, kind, k, span.shape, **values, **span.bounds)
        ids, floor = complete_range(found, k, ascending=span.ascending)
        start = 0
        while start < len(ids):
            # Most candidates are usually shown: ask for a little more than
            # the page lacks, then more at a time if the rules took many.
            wanted = limit - len(kept)
            step = min(_SHOWN_AT_ONCE, wanted + wanted // 2 + 4 if start == 0 else 4 * wanted)
            rows = await shown(ids[start : start + step])
            start += step
            if span.ascending:
                rows.reverse()
            kept += rows
            if len(kept) >= limit:
                return kept[:limit]
        if floor is None:
            return kept
        # Below (above, for min_id) the floor, which was itself looked at.
        span = replace(span, low=floor) if span.ascending else replace(span, high=floor)
