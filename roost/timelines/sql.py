"""Timelines read from the database alone: the embedded default.

Nothing is kept: each page is the timeline's own read (roost/domain/timelines/),
one prepared statement over ``statuses`` that is the source of the ids, the
timeline's rule and the privacy policy at once, so a post needs no fan-out and
the hot path stays a single read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from roost.db.engine import ReadScope
from roost.paging import Page
from roost.timelines.store import ListRef, Timeline

T = TypeVar("T")


class SqlTimelineStore:
    caches = False
    fanout_max_followers = 0
    max_entries = 0

    async def read(self, reads: ReadScope, timeline: Timeline[T], page: Page) -> list[T]:
        return await timeline.fallback(reads, page)

    async def deliver(
        self, status_ids: Sequence[int], homes: Sequence[int], lists: Sequence[ListRef]
    ) -> None:
        return None

    async def withdraw(
        self, status_ids: Sequence[int], homes: Sequence[int], lists: Sequence[ListRef]
    ) -> None:
        return None

    async def invalidate(self, *, sources_of: Sequence[int], lists: Sequence[ListRef]) -> None:
        return None

    async def forget(self, status_ids: Sequence[int]) -> int:
        return 0


__all__ = ["SqlTimelineStore"]
