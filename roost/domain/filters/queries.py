"""Reading an account's filters. Another account's filter is not found."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import filter_keywords, filter_statuses, filters
from roost.domain.filters.model import Filter, FilterKeyword, FilterStatus
from roost.domain.types import Viewer
from roost.errors import NotFound


async def _assemble(conn: AsyncConnection, rows: Sequence[Any]) -> list[Filter]:
    ids = [int(r.id) for r in rows]
    keywords: dict[int, list[FilterKeyword]] = {}
    statuses: dict[int, list[FilterStatus]] = {}
    if ids:
        for k in await conn.execute(
            select(filter_keywords)
            .where(filter_keywords.c.filter_id.in_(ids))
            .order_by(filter_keywords.c.id)
        ):
            keywords.setdefault(k.filter_id, []).append(
                FilterKeyword(
                    id=k.id, filter_id=k.filter_id, keyword=k.keyword, whole_word=k.whole_word
                )
            )
        for s in await conn.execute(
            select(filter_statuses)
            .where(filter_statuses.c.filter_id.in_(ids))
            .order_by(filter_statuses.c.id)
        ):
            statuses.setdefault(s.filter_id, []).append(
                FilterStatus(id=s.id, filter_id=s.filter_id, status_id=s.status_id)
            )
    return [
        Filter(
            id=int(r.id),
            title=r.title,
            context=tuple(r.context),
            action=r.action,
            expires_at=r.expires_at,
            keywords=tuple(keywords.get(int(r.id), [])),
            statuses=tuple(statuses.get(int(r.id), [])),
        )
        for r in rows
    ]


async def filters_of(conn: AsyncConnection, viewer: Viewer) -> list[Filter]:
    """Every filter of the viewer, expired ones included (apps show them)."""
    rows = (
        await conn.execute(
            select(filters).where(filters.c.account_id == viewer.account_id).order_by(filters.c.id)
        )
    ).all()
    return await _assemble(conn, rows)


async def owned_filter(conn: AsyncConnection, viewer: Viewer, filter_id: int) -> Filter:
    rows = (
        await conn.execute(
            select(filters).where(
                filters.c.id == filter_id, filters.c.account_id == viewer.account_id
            )
        )
    ).all()
    if not rows:
        raise NotFound()
    return (await _assemble(conn, rows))[0]


async def owned_keyword(
    conn: AsyncConnection, viewer: Viewer, keyword_id: int
) -> tuple[FilterKeyword, Filter]:
    """A keyword of one of the viewer's filters, with its filter."""
    row = (
        await conn.execute(
            select(filter_keywords.c.filter_id)
            .join(filters, filters.c.id == filter_keywords.c.filter_id)
            .where(filter_keywords.c.id == keyword_id, filters.c.account_id == viewer.account_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    owner = await owned_filter(conn, viewer, int(row.filter_id))
    return next(k for k in owner.keywords if k.id == keyword_id), owner


async def owned_status_filter(
    conn: AsyncConnection, viewer: Viewer, status_filter_id: int
) -> FilterStatus:
    row = (
        await conn.execute(
            select(filter_statuses)
            .join(filters, filters.c.id == filter_statuses.c.filter_id)
            .where(
                filter_statuses.c.id == status_filter_id,
                filters.c.account_id == viewer.account_id,
            )
        )
    ).first()
    if row is None:
        raise NotFound()
    return FilterStatus(id=row.id, filter_id=row.filter_id, status_id=row.status_id)
