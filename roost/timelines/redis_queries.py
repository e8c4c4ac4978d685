"""The SQL behind the Redis timeline store: ids only, never rows to show.

Whatever these queries pick is loaded again through the privacy policy
(``statuses_by_ids``) before anyone sees it, so a mistake here can only leave a
post out of a timeline or waste a slot, never reveal one.

The home-timeline rule (the same as ``SqlTimelineStore.home``; the store tests
compare the two on random graphs) is: a post belongs on a viewer's home when
  - the viewer wrote it, or follows its author; and
  - it is not a reply, or it replies to the viewer or to someone the viewer
    follows; and
  - it is not a boost, or the viewer's follow of the booster shows boosts.
  - (or it is a public post carrying a hashtag the viewer follows: those are
    merged in at read time, like the posts of accounts too big to fan out).
Fan-out and rebuilds write by that rule; what the viewer's mutes, blocks and
exclusive lists keep off (roost/timelines/mutes.py, reading.py) is applied when
reading, because those can end and the entries must then show again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.fastread import id_list
from roost.db.tables import (
    accounts,
    followed_tags,
    follows,
    list_accounts,
    lists,
    mentions,
    status_tags,
    statuses,
)
from roost.db.types import Id
from roost.domain import privacy
from roost.domain.lists.queries import list_rule
from roost.domain.statuses.feed import feed_select
from roost.domain.types import Viewer, Visibility
from roost.timelines.mutes import home_filter, read_time
from roost.timelines.reading import followed_tag_posts, outside_exclusive_lists

_T = TypeVar("_T")


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
class Post:
    """What fan-out needs to know about a post."""

    id: int
    account_id: int
    reblog_of_id: int | None
    in_reply_to_account_id: int | None
    visibility: Visibility
    author_followers: int


async def post_for_fanout(conn: AsyncConnection, status_id: int) -> Post | None:
    row = (
        await conn.execute(
            select(
                statuses.c.id,
                statuses.c.account_id,
                statuses.c.reblog_of_id,
                statuses.c.in_reply_to_account_id,
                statuses.c.visibility,
                accounts.c.followers_count,
            )
            .join(accounts, accounts.c.id == statuses.c.account_id)
            .where(statuses.c.id == status_id)
        )
    ).first()
    if row is None:
        return None
    return Post(
        id=row.id,
        account_id=row.account_id,
        reblog_of_id=row.reblog_of_id,
        in_reply_to_account_id=row.in_reply_to_account_id,
        visibility=Visibility(row.visibility),
        author_followers=row.followers_count,
    )


async def followers_of(conn: AsyncConnection, account_id: int) -> int:
    count = (
        await conn.execute(select(accounts.c.followers_count).where(accounts.c.id == account_id))
    ).scalar()
    return int(count or 0)


def receiving_followers(post: Post) -> Select[Any]:
    """The followers whose home timeline the post belongs on (the author aside)."""
    query = select(follows.c.account_id).where(follows.c.target_account_id == post.account_id)
    if post.reblog_of_id is not None:
        query = query.where(follows.c.show_reblogs.is_(True))
    answered = post.in_reply_to_account_id
    if answered is not None and answered != post.account_id:
        also = follows.alias("also_follows")
        query = query.where(
            or_(
                follows.c.account_id == answered,
                follows.c.account_id.in_(
                    select(also.c.account_id).where(also.c.target_account_id == answered)
                ),
            )
        )
    if post.visibility == Visibility.DIRECT:
        # Only the people it is addressed to may see it: nobody else gets a
        # slot they could never read.
        query = query.where(
            follows.c.account_id.in_(
                select(mentions.c.account_id).where(mentions.c.status_id == post.id)
            )
        )
    return query.order_by(follows.c.account_id)


def all_followers(account_id: int) -> Select[Any]:
    return (
        select(follows.c.account_id)
        .where(follows.c.target_account_id == account_id)
        .order_by(follows.c.account_id)
    )


def _home_rule(me: int, *, with_tags: bool = True) -> ColumnElement[bool]:
    """Which posts belong on ``me``'s home: the SQL store's rule, term for term."""
    followed = select(follows.c.target_account_id).where(follows.c.account_id == me)
    muted_boosts = select(follows.c.target_account_id).where(
        follows.c.account_id == me, follows.c.show_reblogs.is_(False)
    )
    sources = [statuses.c.account_id == me, statuses.c.account_id.in_(followed)]
    if with_tags:
        sources.append(followed_tag_posts(me))
    return and_(
        or_(*sources),
        or_(
            statuses.c.in_reply_to_account_id.is_(None),
            statuses.c.in_reply_to_account_id == me,
            statuses.c.in_reply_to_account_id.in_(followed),
        ),
        or_(statuses.c.reblog_of_id.is_(None), statuses.c.account_id.not_in(muted_boosts)),
    )


def _kept_on_home(viewer: Viewer, now: Any = None) -> ColumnElement[bool]:
    """What the viewer's own settings keep off home for now (mutes, blocks,
    exclusive lists): hidden while they last, never removed from the cache.
    ``now``: see roost.domain.graph.mutes.muted_ids."""
    assert viewer.account_id is not None
    return and_(home_filter(viewer, now=now), outside_exclusive_lists(viewer.account_id))


# Beyond this many followed accounts a rebuild names them by subquery rather
# than as a list of bound values (drivers cap the number of parameters).
_LISTED_AUTHORS = 5000


async def home_ids(conn: AsyncConnection, viewer: Viewer, limit: int) -> list[int]:
    """The newest ``limit`` ids of the viewer's home timeline: a rebuild's contents.

    Driven by the followed accounts (the (account, id) index), not by walking
    every post newest first: an account that follows few or quiet people would
    otherwise make the database read the whole table.
    """
    me = viewer.account_id
    assert me is not None
    followed = select(follows.c.target_account_id).where(follows.c.account_id == me)
    authors = [me, *(await conn.execute(followed)).scalars()]
    by_author = (
        statuses.c.account_id.in_(authors)
        if len(authors) <= _LISTED_AUTHORS
        else or_(statuses.c.account_id == me, statuses.c.account_id.in_(followed))
    )
    query = (
        select(statuses.c.id)
        .where(by_author, _home_rule(me, with_tags=False), _addressed(me))
        .order_by(statuses.c.id.desc())
        .limit(limit)
    )
    return [int(i) for i in (await conn.execute(query)).scalars()]


def _addressed(me: Any) -> ColumnElement[bool]:
    """Leaves out direct posts to others, the one kind of post by a followed
    account that the viewer can never see; the rest of the policy (suspensions,
    blocks, boosted originals) is applied when the timeline is read, and costs a
    rebuild of 800 entries ten times as much as this."""
    return or_(
        statuses.c.visibility != int(Visibility.DIRECT),
        statuses.c.account_id == me,
        statuses.c.id.in_(select(mentions.c.status_id).where(mentions.c.account_id == me)),
    )


async def author_home_ids(
    conn: AsyncConnection, viewer: Viewer, author_id: int, limit: int
) -> list[int]:
    """The newest posts by one author that belong on the viewer's home (a new follow)."""
    assert viewer.account_id is not None
    query = (
        select(statuses.c.id)
        .where(
            statuses.c.account_id == author_id,
            _home_rule(viewer.account_id, with_tags=False),
            privacy.status_clause(viewer),
        )
        .order_by(statuses.c.id.desc())
        .limit(limit)
    )
    return [int(i) for i in (await conn.execute(query)).scalars()]


_BIG, _TAG = 1, 2


@dataclass(frozen=True)
class Sources:
    """What a viewer's home merges in at read time."""

    big_accounts: list[int]
    tags: list[int]

    def to_json(self) -> bytes:
        return orjson.dumps([self.big_accounts, self.tags])

    @classmethod
    def from_json(cls, raw: bytes) -> Sources:
        big, tag_ids = orjson.loads(raw)
        return cls([int(i) for i in big], [int(i) for i in tag_ids])


async def merge_sources(conn: AsyncConnection, me: int, threshold: int) -> Sources:
    """Followed accounts too big to fan out, and followed hashtags, in one query."""
    sources = union_all(
        select(literal(_BIG).label("kind"), follows.c.target_account_id.label("ref"))
        .join(accounts, accounts.c.id == follows.c.target_account_id)
        .where(follows.c.account_id == me, accounts.c.followers_count > threshold),
        select(literal(_TAG).label("kind"), followed_tags.c.tag_id.label("ref")).where(
            followed_tags.c.account_id == me
        ),
    )
    rows = (await conn.execute(sources)).all()
    return Sources(
        [int(r.ref) for r in rows if r.kind == _BIG], [int(r.ref) for r in rows if r.kind == _TAG]
    )


async def merged_ids(
    conn: AsyncConnection, me: int, sources: Sources, bounds: Bounds, limit: int
) -> list[int]:
    """Home posts that fan-out does not deliver, read at request time: those of
    followed accounts too big to fan out, and public posts with a followed tag.

    Driven by the sources (usually none: then no query at all), so the post
    queries run on the (account, id) and (tag, post) indexes instead of walking
    every post in id order.
    """
    big, tag_ids = sources.big_accounts, sources.tags
    found: set[int] = set()
    if big:
        query = bounds.apply(
            select(statuses.c.id).where(
                statuses.c.account_id.in_(big), _home_rule(me, with_tags=False)
            ),
            statuses.c.id,
        ).limit(limit)
        found.update(int(i) for i in (await conn.execute(query)).scalars())
    if tag_ids:
        tagged = bounds.apply(
            select(status_tags.c.status_id).where(status_tags.c.tag_id.in_(tag_ids)),
            status_tags.c.status_id,
        ).limit(limit)
        candidates = [int(i) for i in (await conn.execute(tagged)).scalars()]
        if candidates:
            kept = await conn.execute(
                select(statuses.c.id).where(statuses.c.id.in_(candidates), _home_rule(me))
            )
            found.update(int(i) for i in kept.scalars())
    return sorted(found, reverse=not bounds.ascending)[:limit]


def shown_on_home_read(viewer: Viewer) -> Select[Any]:
    """Those of the ids (parameter ``ids``) that belong on the viewer's home at
    the time ``now``, as a prepared read (roost/db/fastread.py); the caller
    adds the privacy policy."""
    assert viewer.account_id is not None
    return (
        feed_select(viewer)
        .where(
            id_list(statuses.c.id, "ids"),
            _home_rule(viewer.account_id),
            _kept_on_home(viewer, now=read_time()),
        )
        .order_by(statuses.c.id.desc())
    )


@dataclass(frozen=True)
class Checked:
    """Timeline entries checked against the database of now."""

    shown: list[int]  # belong, and no mute or block keeps them off
    gone: list[int]  # deleted, or no longer belong (an unfollow): drop them


async def check_entries(conn: AsyncConnection, viewer: Viewer, ids: Sequence[int]) -> Checked:
    """Which cached entries to show, in the order given.

    The follow rule is applied against the follows of *now*, so an entry written
    before an unfollow stops showing at once. Mutes (which can expire) only hide
    an entry; they do not remove it, so it shows again when the mute ends, as it
    does on the SQL timeline.
    """
    assert viewer.account_id is not None
    if not ids:
        return Checked([], [])
    rows = (
        await conn.execute(
            select(
                statuses.c.id,
                case((_home_rule(viewer.account_id), True), else_=False).label("belongs"),
                case((_kept_on_home(viewer), True), else_=False).label("unmuted"),
            ).where(statuses.c.id.in_(list(ids)))
        )
    ).all()
    found = {row.id: row for row in rows}
    shown = [i for i in ids if i in found and found[i].belongs and found[i].unmuted]
    gone = [i for i in ids if i not in found or not found[i].belongs]
    return Checked(shown, gone)


# -- list timelines ------------------------------------------------------------
#
# A post belongs on a list's timeline by ``list_rule`` (roost/domain/lists/
# queries.py), the SQL store's own rule: fan-out, rebuilds and reads here all
# apply it, the reads with the membership and follows of now. Direct posts go
# only to lists whose owner they address, as on home.


@dataclass(frozen=True)
class ListRef:
    owner: int
    list_id: int


def receiving_lists(post: Post) -> Select[Any]:
    """(owner, list id) of the lists the post belongs on (those holding its author)."""
    owned = lists.alias("fanout_lists")
    held = list_accounts.alias("fanout_members")
    return (
        select(owned.c.account_id, owned.c.id)
        .select_from(
            statuses.join(held, held.c.account_id == statuses.c.account_id).join(
                owned, owned.c.id == held.c.list_id
            )
        )
        .where(
            statuses.c.id == post.id,
            list_rule(owned.c.account_id, owned.c.id, owned.c.replies_policy),
            _addressed(owned.c.account_id),
        )
        .order_by(owned.c.id)
    )


def lists_holding(account_id: int) -> Select[Any]:
    """(owner, list id) of every list ``account_id`` is in."""
    return (
        select(lists.c.account_id, lists.c.id)
        .join(list_accounts, list_accounts.c.list_id == lists.c.id)
        .where(list_accounts.c.account_id == account_id)
        .order_by(lists.c.id)
    )


def lists_following_replies(owner: int) -> Select[Any]:
    """The owner's lists whose replies policy depends on the owner's follows."""
    return select(lists.c.account_id, lists.c.id).where(
        lists.c.account_id == owner, lists.c.replies_policy == "followed"
    )


async def list_contents(conn: AsyncConnection, ref: ListRef, policy: str, limit: int) -> list[int]:
    """The newest ``limit`` ids of a list's timeline: a rebuild's contents.

    Driven by the members (the (account, id) index), as ``home_ids`` is by the
    followed accounts.
    """
    members = [
        int(i)
        for i in (
            await conn.execute(
                select(list_accounts.c.account_id).where(list_accounts.c.list_id == ref.list_id)
            )
        ).scalars()
    ]
    if not members:
        return []
    by_member = statuses.c.account_id.in_(members) if len(members) <= _LISTED_AUTHORS else true()
    query = (
        select(statuses.c.id)
        .where(by_member, list_rule(ref.owner, ref.list_id, policy), _addressed(ref.owner))
        .order_by(statuses.c.id.desc())
        .limit(limit)
    )
    return [int(i) for i in (await conn.execute(query)).scalars()]


async def list_sources(conn: AsyncConnection, list_id: int, threshold: int) -> Sources:
    """The list's members too big to fan out: merged in at read time."""
    big = await conn.execute(
        select(list_accounts.c.account_id)
        .join(accounts, accounts.c.id == list_accounts.c.account_id)
        .where(list_accounts.c.list_id == list_id, accounts.c.followers_count > threshold)
        .order_by(list_accounts.c.account_id)
    )
    return Sources([int(i) for i in big.scalars()], [])


async def list_merged_ids(
    conn: AsyncConnection,
    ref: ListRef,
    policy: str,
    sources: Sources,
    bounds: Bounds,
    limit: int,
) -> list[int]:
    """The posts of the list's big members (not fanned out), read at request time."""
    if not sources.big_accounts:
        return []
    query = bounds.apply(
        select(statuses.c.id).where(
            statuses.c.account_id.in_(sources.big_accounts),
            list_rule(ref.owner, ref.list_id, policy),
        ),
        statuses.c.id,
    ).limit(limit)
    return [int(i) for i in (await conn.execute(query)).scalars()]


def shown_on_list_read(policy: str, viewer: Viewer) -> Select[Any]:
    """The cached entries of a list (its owner the viewer) that belong on it now,
    as a prepared read: the ids are the parameter ``ids``, the list ``list_id``,
    the time ``now``; the caller adds the policy."""
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


async def list_gone(
    conn: AsyncConnection, ref: ListRef, policy: str, ids: Sequence[int]
) -> list[int]:
    """Cached entries to drop: deleted, or no longer on the list (a member
    removed); those a mute hides stay, as on home."""
    if not ids:
        return []
    rows = await conn.execute(
        select(
            statuses.c.id,
            case((list_rule(ref.owner, ref.list_id, policy), True), else_=False).label("belongs"),
        ).where(statuses.c.id.in_(list(ids)))
    )
    belongs = {row.id: bool(row.belongs) for row in rows}
    return [i for i in ids if not belongs.get(i, False)]


def chunks(ids: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
