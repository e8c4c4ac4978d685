"""Id-based paging over any query, the Mastodon way.

Newest first. ``max_id`` pages backwards; ``since_id`` stops at a known point;
``min_id`` asks for the page just newer than it (read ascending, then turned
around). Because ids are unique and time-sortable, pages never overlap or skip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select

from roost.domain.types import Page

T = TypeVar("T")

MAX_LIMIT = 40
DEFAULT_LIMIT = 20


def page_of(query: Select[Any], key: ColumnElement[int], page: Page) -> Select[Any]:
    if page.max_id is not None:
        query = query.where(key < page.max_id)
    if page.since_id is not None:
        query = query.where(key > page.since_id)
    if page.min_id is not None:
        return query.where(key > page.min_id).order_by(key.asc()).limit(page.limit)
    return query.order_by(key.desc()).limit(page.limit)


def newest_first(rows: Sequence[T], page: Page) -> list[T]:
    """Rows of ``page_of`` in display order (newest first)."""
    return list(reversed(rows)) if page.min_id is not None else list(rows)


def make_page(
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
    limit: int | None = None,
    max_limit: int = MAX_LIMIT,
    default_limit: int = DEFAULT_LIMIT,
) -> Page:
    if limit is None or limit <= 0:
        limit = default_limit
    return Page(max_id=max_id, since_id=since_id, min_id=min_id, limit=min(limit, max_limit))
