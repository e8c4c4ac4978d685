"""Searching: posts (through the search index), accounts and hashtags.

Every post and account a search returns is loaded through the privacy policy;
the index only proposes candidates (roost/search/index.py says which).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope
from roost.db.tables import accounts, follows
from roost.domain import privacy
from roost.domain.accounts.queries import account_id_for_username
from roost.domain.privacy import Visible
from roost.domain.statuses.feed import by_ids
from roost.domain.statuses.queries import statuses_by_ids
from roost.domain.types import StatusView, Viewer
from roost.search.index import Scope, index_for
from roost.search.query import parse

# Paging by offset stops here: deeper than this, narrow the query instead.
MAX_OFFSET = 10_000


def _one_author(*candidates: int | None) -> tuple[bool, int | None]:
    """The single author every given constraint agrees on: (possible, author)."""
    named = {c for c in candidates if c is not None}
    if len(named) > 1:
        return False, None
    return True, next(iter(named), None)


async def search_statuses(
    conn: AsyncConnection | None,
    viewer: Viewer,
    text: str,
    *,
    account_id: int | None = None,
    max_id: int | None = None,
    min_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
    reads: ReadScope | None = None,
) -> list[Visible[StatusView]]:
    """Posts matching ``text`` (see roost/search/query.py), newest first;
    ``reads`` (the request's, over ``conn``) presents them as timelines do
    (``feed.by_ids``). ``conn`` None: ``reads`` opens one if a step needs it
    (most searches need none: the index's reads are prepared on both engines)."""

    async def connect() -> AsyncConnection:
        if conn is not None:
            return conn
        assert reads is not None
        return await reads.conn()

    query = replace(parse(text), below_id=max_id, above_id=min_id)
    if not query.searchable or offset > MAX_OFFSET:
        return []
    me = viewer.account_id
    if query.from_me and me is None:
        return []
    named = None
    if query.from_username is not None:
        named = await account_id_for_username(await connect(), query.from_username)
        if named is None:
            return []
    possible, author = _one_author(account_id, me if query.from_me else None, named)
    if not possible:
        return []
    dialect = conn.dialect if conn is not None else reads.fast.dialect if reads else None
    assert dialect is not None, "a connection or the request's reads"
    index = index_for(dialect.name)
    ids = await index.search(
        connect,
        Scope(searcher=me, author_id=author),
        query,
        window=offset + limit,
        reader=reads.fast if reads is not None else None,
    )
    # Silenced authors are found only by those who follow them.
    heard = (
        await privacy.heard_status_ids_read(reads.fast, viewer, ids)
        if reads is not None
        else await privacy.heard_status_ids(await connect(), viewer, ids)
    )
    shown = heard[offset : offset + limit]
    if reads is not None:
        found = await by_ids(reads, viewer, shown)
        # As a notifications page does (``notification_page``): prepared reads
        # on SQLite run on the loop, and admission control counts its turns.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return found
    return await statuses_by_ids(await connect(), viewer, shown)


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_accounts(
    conn: AsyncConnection,
    viewer: Viewer,
    text: str,
    *,
    local_domain: str,
    following: bool = False,
    limit: int = 40,
    offset: int = 0,
) -> list[Visible[RowMapping]]:
    """Accounts whose username or display name starts with the query.

    The exact username always matches; other matches leave out accounts that
    opted out of discovery or were silenced, unless the viewer follows them. ``following``
    keeps only accounts the viewer follows. Exact match first, then the most
    followed.
    """
    # PostgreSQL text cannot hold NUL; nobody's name contains one.
    username, _, domain = text.replace("\x00", "").strip().lstrip("@").partition("@")
    key = username.strip().lower()
    if not key or offset > MAX_OFFSET:
        return []
    if domain and domain.lower() != local_domain:
        # An account of another server: found by its exact address only.
        remote = (
            select(accounts)
            .where(accounts.c.domain == domain.lower(), func.lower(accounts.c.username) == key)
            .order_by(accounts.c.id.desc())
            .limit(1)
        )
        return [] if offset else await privacy.visible_accounts(conn, viewer, remote)
    me = viewer.account_id
    followed = select(follows.c.target_account_id).where(follows.c.account_id == me)
    exact = accounts.c.username_key == key
    prefix = _like_prefix(key)
    display = func.lower(accounts.c.display_name)
    matches = or_(
        accounts.c.username_key.like(prefix, escape="\\"),
        display.like(prefix, escape="\\"),
        display.like("% " + prefix, escape="\\"),
    )
    conditions: list[Any] = [matches]
    proposed = and_(accounts.c.discoverable.is_(True), accounts.c.silenced_at.is_(None))
    discoverable: list[Any] = [exact, proposed]
    if me is not None:
        discoverable += [accounts.c.id == me, accounts.c.id.in_(followed)]
    conditions.append(or_(*discoverable))
    if following:
        if me is None:
            return []
        conditions.append(accounts.c.id.in_(followed))
    query = (
        select(accounts)
        .where(*conditions)
        .order_by(case((exact, 0), else_=1), accounts.c.followers_count.desc(), accounts.c.id)
        .limit(limit)
        .offset(offset)
    )
    return await privacy.visible_accounts(conn, viewer, query)
