"""Where the post ids of home and list timelines come from: the ``TimelineStore`` seam.

A store knows ids, never rules. Which posts belong on a timeline, and who may
see them, is the domain's (roost/domain/timelines/): it describes each
timeline to the store as a ``Timeline``, with the reads that apply its rules,
and tells the store what changed (``deliver``, ``withdraw``, ``invalidate``)
from the jobs that a post, a follow or a list change leaves.

Embedded Roost uses ``SqlTimelineStore``: it keeps nothing, and every page is
the timeline's own read over the database (one prepared statement that is
source, rule and policy at once). A scaled deployment puts ``RedisTimelineStore``
in front: per-follower lists of ids written by fan-out, each page checked
against the timeline's rules and the policy of now before anyone sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import orjson
from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope
from roost.paging import Page

T = TypeVar("T")


@dataclass(frozen=True)
class Bounds:
    """An open id interval, walked newest first (``ascending`` for min_id pages)."""

    lower: int | None
    upper: int | None
    ascending: bool = False

    def apply(self, query: Select[Any], column: ColumnElement[int]) -> Select[Any]:
        if self.lower is not None:
            query = query.where(column > self.lower)
        if self.upper is not None:
            query = query.where(column < self.upper)
        return query.order_by(column.asc() if self.ascending else column.desc())


@dataclass(frozen=True)
class Sources:
    """What a timeline merges in at read time instead of receiving it by
    fan-out: accounts with too many followers to fan out, followed hashtags."""

    big_accounts: list[int]
    tags: list[int]

    def to_json(self) -> bytes:
        return orjson.dumps([self.big_accounts, self.tags])

    @classmethod
    def from_json(cls, raw: bytes) -> Sources:
        big, tag_ids = orjson.loads(raw)
        return cls([int(i) for i in big], [int(i) for i in tag_ids])


@dataclass(frozen=True)
class ListRef:
    """A list's timeline: its owner and its id."""

    owner: int
    list_id: int


class Timeline(Protocol[T]):
    """One timeline as the domain defines it, for a store to cache: whose it is
    (``owner``; ``list_id`` None for home) and the reads that apply its rules.
    ``T`` is what a page holds (posts cleared for the owner)."""

    @property
    def owner(self) -> int: ...

    @property
    def list_id(self) -> int | None: ...

    async def fallback(self, reads: ReadScope, page: Page) -> list[T]:
        """The page from the database alone."""

    async def sources(self, conn: AsyncConnection, threshold: int) -> Sources:
        """What is merged in at read time instead of fanned out (``threshold``:
        the most followers an account may have and still be fanned out)."""

    async def merged(
        self, reads: ReadScope, sources: Sources, bounds: Bounds, limit: int
    ) -> list[int]:
        """The newest ``limit`` ids within ``bounds`` from ``sources``."""

    async def shown(self, reads: ReadScope, ids: Sequence[int]) -> list[T]:
        """Those of ``ids`` that belong on it now, cleared, newest first."""

    async def gone(self, reads: ReadScope, ids: Sequence[int]) -> list[int]:
        """Those of ``ids`` to remove from a cache (not merely hidden for now)."""

    async def contents(self, conn: AsyncConnection, limit: int) -> list[int]:
        """A rebuild's entries: the newest ``limit`` ids, newest first."""


class TimelineStore(Protocol):
    @property
    def caches(self) -> bool:
        """Whether it keeps timelines, and so must hear of every change."""

    @property
    def fanout_max_followers(self) -> int:
        """Authors with more followers than this are not fanned out; their
        posts are merged in at read time."""

    @property
    def max_entries(self) -> int:
        """The most ids a kept timeline holds."""

    async def read(self, reads: ReadScope, timeline: Timeline[T], page: Page) -> list[T]:
        """One page of ``timeline``."""

    async def deliver(
        self, status_ids: Sequence[int], homes: Sequence[int], lists: Sequence[ListRef]
    ) -> None:
        """Add posts to these home timelines (by owner) and lists, where kept."""

    async def withdraw(
        self, status_ids: Sequence[int], homes: Sequence[int], lists: Sequence[ListRef]
    ) -> None:
        """Remove posts from these home timelines and lists."""

    async def invalidate(self, *, sources_of: Sequence[int], lists: Sequence[ListRef]) -> None:
        """Forget the merge sources of these homes, and these lists whole (the
        next read rebuilds them)."""

    async def forget(self, status_ids: Sequence[int]) -> int:
        """Remove posts from every timeline kept, whoever's (erasure); returns
        the timelines changed."""
