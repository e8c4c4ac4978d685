"""A page of a timeline in one prepared read per paging shape: ``PagedRead``
(roost/domain/timelines/pages.py makes one per timeline)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import Integer, Select, bindparam

from roost.db.engine import ReadScope
from roost.db.fastread import FastReader
from roost.db.tables import statuses
from roost.db.types import Id
from roost.domain.pagination import newest_first
from roost.domain.privacy import PolicyRead, Visible
from roost.domain.statuses.feed import present
from roost.domain.types import Page, StatusView, Viewer


class PagedRead:
    """A page of a timeline: ``build``'s rows, newest first, paged as
    roost/domain/pagination.py pages, through the policy, then ``present``ed.

    One prepared statement per paging shape (which of max_id, since_id and
    min_id are given), each compiled once.
    """

    def __init__(self, build: Callable[[Viewer], Select[Any]]) -> None:
        self._build = build
        self._reads: dict[tuple[bool, bool, bool], PolicyRead] = {}

    async def page(
        self, reads: ReadScope, viewer: Viewer, page: Page, **values: Any
    ) -> list[Visible[StatusView]]:
        rows = await self.rows(reads.fast, viewer, page, **values)
        return await present(reads, viewer, newest_first(rows, page))

    async def rows(
        self, reader: FastReader, viewer: Viewer, page: Page, **values: Any
    ) -> list[Visible[Any]]:
        """The page's raw rows, cleared, in paging order (oldest first for
        ``min_id``), not yet presented."""
        shape = (page.max_id is not None, page.since_id is not None, page.min_id is not None)
        read = self._reads.get(shape)
        if read is None:
            read = self._reads[shape] = PolicyRead(partial(_paged, self._build, shape))
        values["limit"] = page.limit
        for name in ("max_id", "since_id", "min_id"):
            if getattr(page, name) is not None:
                values[name] = getattr(page, name)
        return await read.rows(reader, viewer, raw=True, **values)


def _paged(
    build: Callable[[Viewer], Select[Any]], shape: tuple[bool, bool, bool], viewer: Viewer
) -> Select[Any]:
    query = build(viewer)
    key = statuses.c.id
    has_max, has_since, has_min = shape
    if has_max:
        query = query.where(key < bindparam("max_id", type_=Id))
    if has_since:
        query = query.where(key > bindparam("since_id", type_=Id))
    limit = bindparam("limit", type_=Integer())
    if has_min:
        return query.where(key > bindparam("min_id", type_=Id)).order_by(key.asc()).limit(limit)
    return query.order_by(key.desc()).limit(limit)
