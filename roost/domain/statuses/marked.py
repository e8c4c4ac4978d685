"""The viewer's favourites and bookmarks, paged by when they acted: the page's
ids in one prepared read, the posts through the policy and the feed presenter
(``feed.by_ids``), as timelines read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, bindparam, select

from roost.db.engine import ReadScope
from roost.db.fastread import Prepared
from roost.db.tables import bookmarks, favourites
from roost.db.types import Id
from roost.domain.pagination import newest_first
from roost.domain.privacy import Visible
from roost.domain.statuses.feed import by_ids
from roost.domain.statuses.queries import Marks
from roost.domain.types import Page, StatusView, Viewer

_MARKED = {"favourites": favourites, "bookmarks": bookmarks}
Shape = tuple[str, bool, bool, bool]


def _marks_page(shape: Shape) -> Select[Any]:
    kind, has_max, has_since, has_min = shape
    table = _MARKED[kind]
    key = table.c.id
    query = select(table.c.id, table.c.status_id).where(
        table.c.account_id == bindparam("me", type_=Id)
    )
    if has_max:
        query = query.where(key < bindparam("max_id", type_=Id))
    if has_since:
        query = query.where(key > bindparam("since_id", type_=Id))
    limit = bindparam("limit", type_=Integer())
    if has_min:
        return query.where(key > bindparam("min_id", type_=Id)).order_by(key.asc()).limit(limit)
    return query.order_by(key.desc()).limit(limit)


_READS: dict[Shape, Prepared] = {}


async def marked_page(
    reads: ReadScope, viewer: Viewer, kind: Marks, page: Page
) -> tuple[list[Visible[StatusView]], int | None, int | None]:
    """The views, and the favourite or bookmark ids at both ends (for Link
    headers), as ``queries.interaction_list`` gives them."""
    assert viewer.account_id is not None
    shape = (kind, page.max_id is not None, page.since_id is not None, page.min_id is not None)
    read = _READS.get(shape)
    if read is None:
        read = _READS[shape] = Prepared(lambda: _marks_page(shape))
    values: dict[str, Any] = {"me": viewer.account_id, "limit": page.limit}
    for name in ("max_id", "since_id", "min_id"):
        if getattr(page, name) is not None:
            values[name] = getattr(page, name)
    rows = newest_first(await reads.fast.all(read, raw=True, **values), page)
    views = await by_ids(reads, viewer, [int(status_id) for _id, status_id in rows])
    if not rows:
        return views, None, None
    return views, int(rows[0][0]), int(rows[-1][0])
