"""Home and list timelines described to a store that caches their ids.

``HomeTimeline`` and ``ListTimeline`` are the ``Timeline``s of
roost/timelines/store.py: the store keeps ids and asks these for everything
that takes a rule. Whatever a cache holds is read again through ``shown``
(the timeline's rule of now, the viewer's mutes and blocks, the privacy
policy) before anyone sees it, so a stale or wrong id can only go missing or
waste a slot, never reveal a post.

Rebuilds and merges (``contents``, ``merged``) are driven by the followed
accounts, members and hashtags (the (account, id) and (tag, post) indexes),
never by walking every post newest first: an account that follows few or
quiet people would otherwise make the database read the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope
from roost.db.fastread import IdList, Prepared, id_list
from roost.db.tables import accounts, followed_tags, follows, list_accounts, status_tags, statuses
from roost.db.types import Id
from roost.domain.graph.mutes import mute_time
from roost.domain.lists.queries import REPLIES_POLICIES, ListInfo, list_rule
from roost.domain.pagination import newest_first
from roost.domain.privacy import PolicyRead, Visible
from roost.domain.statuses.feed import present
from roost.domain.statuses.feed_pages import PagedRead
from roost.domain.statuses.feed_rows import feed_select
from roost.domain.timelines.by_source import (
    RANGE_SHAPES,
    bounded,
    nearest_first,
    timeline_rows,
)
from roost.domain.timelines.home import home_page, shown_on_home
from roost.domain.timelines.quiet import home_filter, read_time
from roost.domain.timelines.rules import addressed, home_rule
from roost.domain.types import Page, StatusView, Viewer
from roost.timelines.store import Bounds, Sources

# Beyond this many followed accounts (or members) a rebuild names them by
# subquery rather than as a list of bound values (drivers cap the number of
# parameters).
_LISTED_AUTHORS = 5000
_BIG, _TAG = 1, 2


def _shown_on_list(policy: str, viewer: Viewer) -> Select[Any]:
    """The entries of a list (its owner the viewer) that belong on it now: the
    ids are the parameter ``ids``, the list ``list_id``, the time ``now``."""
    assert viewer.account_id is not None
    return (
        feed_select(viewer)
        .where(
            id_list(statuses.c.id, "ids"),
            list_rule(viewer.account_id, bindparam("list_id", type_=Id), policy),
            home_filter(viewer, now=read_time()),
        )
        .order_by(statuses.c.id.desc())
    )


def _on_list(policy: str, viewer: Viewer) -> Select[Any]:
    """A list's rule asked of every post of the page's range at once (the
    list ``list_id``, the time ``now``)."""
    assert viewer.account_id is not None
    return feed_select(viewer).where(
        list_rule(viewer.account_id, bindparam("list_id", type_=Id), policy),
        home_filter(viewer, now=read_time()),
    )


_WALK_LIST = {policy: PagedRead(partial(_on_list, policy)) for policy in REPLIES_POLICIES}
_SHOWN_ON_LIST = {
    policy: PolicyRead(partial(_shown_on_list, policy)) for policy in REPLIES_POLICIES
}


async def _ids(conn: AsyncConnection, query: Select[Any]) -> list[int]:
    return [int(i) for i in (await conn.execute(query)).scalars()]


# Merges and cache checks are asked of every read of a cached home or list
# with big sources: built once per shape (the page's bounds) as prepared
# reads. Built per call, the rule's subqueries and aliases cost more of the
# process's time than everything else such a read did (at 1M posts, home
# took 22 CPU ms a request, most of it making these statements).
_Shape = tuple[bool, bool, bool]


def _bounds(bounds: Bounds, limit: int) -> tuple[_Shape, dict[str, int]]:
    """The prepared shape of ``bounds`` (by_source.py's: ascending, has high,
    has low) and its parameters."""
    values = {"limit": limit}
    if bounds.upper is not None:
        values["high"] = bounds.upper
    if bounds.lower is not None:
        values["low"] = bounds.lower
    return (bounds.ascending, bounds.upper is not None, bounds.lower is not None), values


def _newest_ids(column: Any, shape: _Shape, *conditions: Any) -> Select[Any]:
    """``column`` where ``conditions`` hold within the page's range, nearest
    its start first, at most ``limit``."""
    return (
        select(column)
        .where(*conditions, *bounded(column, shape))
        .order_by(nearest_first(column, shape))
        .limit(bindparam("limit", type_=Integer()))
    )


def _me() -> Any:
    return bindparam("me", type_=Id)


def _by_account(shape: _Shape, lateral: bool, *conditions: Any) -> Select[Any]:
    """The newest posts (within the bounds, at most ``limit``) of the accounts
    passed as ``accounts`` where ``conditions`` hold. PostgreSQL: each
    account's own walk down its (account, id) index, joined laterally; asked
    of all of them at once it read every post of the account to sort them
    (10,000 rows, 40 ms, at 1M posts). SQLite: a list of values, which its
    planner walks account by account itself."""
    if not lateral:
        return _newest_ids(
            statuses.c.id, shape, id_list(statuses.c.account_id, "accounts"), *conditions
        )
    big = (
        func.unnest(cast(bindparam("accounts"), ARRAY(BigInteger())))
        .table_valued("account_id")
        .render_derived(name="big")
    )
    newest = _newest_ids(
        statuses.c.id, shape, statuses.c.account_id == big.c.account_id, *conditions
    ).lateral("newest")
    return (
        select(newest.c.id)
        .select_from(big.join(newest, true()))
        .order_by(nearest_first(newest.c.id, shape))
        .limit(bindparam("limit", type_=Integer()))
    )


def _home_big(shape: _Shape, lateral: bool) -> Select[Any]:
    # ``addressed`` as a rebuild applies it: a direct post to others would
    # only be filtered out when shown, and leave the page a post short.
    return _by_account(shape, lateral, home_rule(_me(), with_tags=False), addressed(_me()))


def _tagged(shape: _Shape) -> Select[Any]:
    return _newest_ids(status_tags.c.status_id, shape, id_list(status_tags.c.tag_id, "tags"))


def _on_home() -> Select[Any]:
    return select(statuses.c.id).where(
        id_list(statuses.c.id, "ids"), home_rule(_me()), addressed(_me())
    )


def _belongs(rule: Any) -> Select[Any]:
    return select(statuses.c.id, case((rule, True), else_=False)).where(
        id_list(statuses.c.id, "ids")
    )


def _list_rule(policy: str) -> Any:
    return list_rule(_me(), bindparam("list_id", type_=Id), policy)


def _home_belongs() -> Select[Any]:
    return _belongs(home_rule(_me()))


def _list_big(policy: str, shape: _Shape, lateral: bool) -> Select[Any]:
    return _by_account(shape, lateral, _list_rule(policy), addressed(_me()))


def _list_belongs(policy: str) -> Select[Any]:
    return _belongs(_list_rule(policy))


_HOME_BIG = {
    (shape, lateral): Prepared(partial(_home_big, shape, lateral))
    for shape in RANGE_SHAPES
    for lateral in (False, True)
}
_TAGGED = {shape: Prepared(partial(_tagged, shape)) for shape in RANGE_SHAPES}
_ON_HOME = Prepared(_on_home)
_HOME_BELONGS = Prepared(_home_belongs)
_LIST_BIG = {
    (policy, shape, lateral): Prepared(partial(_list_big, policy, shape, lateral))
    for policy in REPLIES_POLICIES
    for shape in RANGE_SHAPES
    for lateral in (False, True)
}
_LIST_BELONGS = {policy: Prepared(partial(_list_belongs, policy)) for policy in REPLIES_POLICIES}


async def _prepared_ids(reads: ReadScope, read: Prepared, **values: Any) -> list[int]:
    return [int(row[0]) for row in await reads.fast.all(read, raw=True, **values)]


def _gone(ids: Sequence[int], rows: Sequence[Any]) -> list[int]:
    belongs = {int(row[0]): bool(row[1]) for row in rows}
    return [i for i in ids if not belongs.get(i, False)]


@dataclass(frozen=True)
class HomeTimeline:
    """The viewer's home (``viewer`` reads as a timeline does)."""

    viewer: Viewer
    list_id: None = None

    @property
    def owner(self) -> int:
        assert self.viewer.account_id is not None
        return self.viewer.account_id

    async def fallback(self, reads: ReadScope, page: Page) -> list[Visible[StatusView]]:
        return await home_page(reads, self.viewer, page)

    async def sources(self, conn: AsyncConnection, threshold: int) -> Sources:
        """Followed accounts too big to fan out, and followed hashtags, in one query."""
        me = self.owner
        found = union_all(
            select(literal(_BIG).label("kind"), follows.c.target_account_id.label("ref"))
            .join(accounts, accounts.c.id == follows.c.target_account_id)
            .where(follows.c.account_id == me, accounts.c.followers_count > threshold),
            select(literal(_TAG).label("kind"), followed_tags.c.tag_id.label("ref")).where(
                followed_tags.c.account_id == me
            ),
        )
        rows = (await conn.execute(found)).all()
        return Sources(
            [int(r.ref) for r in rows if r.kind == _BIG],
            [int(r.ref) for r in rows if r.kind == _TAG],
        )

    async def merged(
        self, reads: ReadScope, sources: Sources, bounds: Bounds, limit: int
    ) -> list[int]:
        """Home posts that fan-out does not deliver: those of followed accounts
        too big to fan out, and public posts with a followed hashtag."""
        found: set[int] = set()
        shape, values = _bounds(bounds, limit)
        if sources.big_accounts:
            found.update(
                await _prepared_ids(
                    reads,
                    _HOME_BIG[shape, not reads.fast.sqlite],
                    me=self.owner,
                    accounts=IdList(sources.big_accounts),
                    **values,
                )
            )
        if sources.tags:
            candidates = await _prepared_ids(
                reads, _TAGGED[shape], tags=IdList(sources.tags), **values
            )
            if candidates:
                found.update(
                    await _prepared_ids(reads, _ON_HOME, me=self.owner, ids=IdList(candidates))
                )
        return sorted(found, reverse=not bounds.ascending)[:limit]

    async def shown(self, reads: ReadScope, ids: Sequence[int]) -> list[Visible[StatusView]]:
        rows = await shown_on_home(reads.fast, self.viewer, ids)
        return await present(reads, self.viewer, rows)

    async def gone(self, reads: ReadScope, ids: Sequence[int]) -> list[int]:
        """Deleted, or no longer belonging by the follows of now (an unfollow).
        Mutes, which can end, only hide an entry: it stays, to show again."""
        if not ids:
            return []
        rows = await reads.fast.all(_HOME_BELONGS, raw=True, me=self.owner, ids=IdList(ids))
        return _gone(ids, rows)

    async def contents(self, conn: AsyncConnection, limit: int) -> list[int]:
        me = self.owner
        followed = select(follows.c.target_account_id).where(follows.c.account_id == me)
        authors = [me, *(await conn.execute(followed)).scalars()]
        by_author = (
            statuses.c.account_id.in_(authors)
            if len(authors) <= _LISTED_AUTHORS
            else or_(statuses.c.account_id == me, statuses.c.account_id.in_(followed))
        )
        query = (
            select(statuses.c.id)
            .where(by_author, home_rule(me, with_tags=False), addressed(me))
            .order_by(statuses.c.id.desc())
            .limit(limit)
        )
        return await _ids(conn, query)


@dataclass(frozen=True)
class ListTimeline:
    """A list's timeline, read by its owner (the list is known to be theirs).
    A post belongs by ``list_rule``; direct posts only to lists whose owner
    they address, as on home."""

    viewer: Viewer
    info: ListInfo

    @property
    def owner(self) -> int:
        assert self.viewer.account_id is not None
        return self.viewer.account_id

    @property
    def list_id(self) -> int:
        return self.info.id

    def _rule(self) -> Any:
        return list_rule(self.owner, self.info.id, self.info.replies_policy)

    async def fallback(self, reads: ReadScope, page: Page) -> list[Visible[StatusView]]:
        """The list's page as home's is read (by_source.py): its newest posts,
        then member by member."""
        rows = await timeline_rows(
            reads.fast,
            "list",
            page,
            partial(self._walk, reads),
            partial(self._shown_rows, reads),
            list_id=self.info.id,
        )
        return await present(reads, self.viewer, newest_first(rows, page))

    async def _walk(self, reads: ReadScope, page: Page) -> list[Visible[Any]]:
        read = _WALK_LIST[self.info.replies_policy]
        return await read.rows(reads.fast, self.viewer, page, list_id=self.info.id, now=mute_time())

    async def _shown_rows(self, reads: ReadScope, ids: Sequence[int]) -> list[Visible[Any]]:
        if not ids:
            return []
        return await _SHOWN_ON_LIST[self.info.replies_policy].rows(
            reads.fast,
            self.viewer,
            raw=True,
            ids=IdList(ids),
            list_id=self.info.id,
            now=mute_time(),
        )

    async def sources(self, conn: AsyncConnection, threshold: int) -> Sources:
        """The list's members too big to fan out: merged in at read time."""
        big = await conn.execute(
            select(list_accounts.c.account_id)
            .join(accounts, accounts.c.id == list_accounts.c.account_id)
            .where(list_accounts.c.list_id == self.info.id, accounts.c.followers_count > threshold)
            .order_by(list_accounts.c.account_id)
        )
        return Sources([int(i) for i in big.scalars()], [])

    async def merged(
        self, reads: ReadScope, sources: Sources, bounds: Bounds, limit: int
    ) -> list[int]:
        if not sources.big_accounts:
            return []
        shape, values = _bounds(bounds, limit)
        return await _prepared_ids(
            reads,
            _LIST_BIG[self.info.replies_policy, shape, not reads.fast.sqlite],
            me=self.owner,
            list_id=self.info.id,
            accounts=IdList(sources.big_accounts),
            **values,
        )

    async def shown(self, reads: ReadScope, ids: Sequence[int]) -> list[Visible[StatusView]]:
        return await present(reads, self.viewer, await self._shown_rows(reads, ids))

    async def gone(self, reads: ReadScope, ids: Sequence[int]) -> list[int]:
        """Deleted, or no longer on the list (a member removed); those a mute
        hides stay, as on home."""
        if not ids:
            return []
        rows = await reads.fast.all(
            _LIST_BELONGS[self.info.replies_policy],
            raw=True,
            me=self.owner,
            list_id=self.info.id,
            ids=IdList(ids),
        )
        return _gone(ids, rows)

    async def contents(self, conn: AsyncConnection, limit: int) -> list[int]:
        members = await _ids(
            conn, select(list_accounts.c.account_id).where(list_accounts.c.list_id == self.info.id)
        )
        if not members:
            return []
        listed = len(members) <= _LISTED_AUTHORS
        by_member = statuses.c.account_id.in_(members) if listed else true()
        query = (
            select(statuses.c.id)
            .where(by_member, self._rule(), addressed(self.owner))
            .order_by(statuses.c.id.desc())
            .limit(limit)
        )
        return await _ids(conn, query)
