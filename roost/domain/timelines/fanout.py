"""Telling a store that caches timelines what changed (run from jobs).

Who receives a post is the home rule asked from the post's side
(``rules.receiving_followers``) and the list rule asked of the lists holding
its author; this module reads those ids and hands them to the store, which
only writes them. A store that keeps nothing (``caches`` False: the embedded
default) is never asked, and costs these jobs no query.

Authors with more than the store's ``fanout_max_followers`` followers are not
fanned out, to home timelines or lists; their posts are merged in at read time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Database
from roost.db.tables import accounts, follows, list_accounts, lists, statuses
from roost.domain import privacy
from roost.domain.lists.queries import list_rule
from roost.domain.timelines.rules import Post, addressed, home_rule, receiving_followers
from roost.domain.types import Viewer, Visibility
from roost.timelines.store import ListRef, TimelineStore


async def _post(conn: AsyncConnection, status_id: int) -> Post | None:
    row = (
        await conn.execute(
            select(
                statuses.c.id,
                statuses.c.account_id,
                statuses.c.in_reply_to_account_id,
                statuses.c.reblog_of_id,
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
        in_reply_to_account_id=row.in_reply_to_account_id,
        reblog_of_id=row.reblog_of_id,
        visibility=Visibility(row.visibility),
        author_followers=row.followers_count,
    )


def _receiving_lists(post: Post) -> Select[Any]:
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
            addressed(owned.c.account_id),
        )
        .order_by(owned.c.id)
    )


def _refs(rows: Any) -> list[ListRef]:
    return [ListRef(int(owner), int(list_id)) for owner, list_id in rows]


async def published(db: Database, store: TimelineStore, status_id: int) -> None:
    """A post was committed: into its author's home and its receivers'."""
    if not store.caches:
        return
    async with db.read() as conn:
        post = await _post(conn, status_id)
        if post is None:
            return  # deleted before its fan-out ran
        followers: list[int] = []
        receiving: list[ListRef] = []
        if post.author_followers <= store.fanout_max_followers:
            followers = list((await conn.execute(receiving_followers(post))).scalars())
            receiving = _refs((await conn.execute(_receiving_lists(post))).all())
    await store.deliver([post.id], [post.account_id, *followers], receiving)


async def deleted(db: Database, store: TimelineStore, status_id: int, author_id: int) -> None:
    """A post was deleted: out of every timeline of its author's followers and
    lists (whether it was delivered there or not)."""
    if not store.caches:
        return
    async with db.read() as conn:
        followers = (
            await conn.execute(
                select(follows.c.account_id)
                .where(follows.c.target_account_id == author_id)
                .order_by(follows.c.account_id)
            )
        ).scalars()
        homes = [author_id, *followers]
        holding = _refs(
            (
                await conn.execute(
                    select(lists.c.account_id, lists.c.id)
                    .join(list_accounts, list_accounts.c.list_id == lists.c.id)
                    .where(list_accounts.c.account_id == author_id)
                    .order_by(lists.c.id)
                )
            ).all()
        )
    await store.withdraw([status_id], homes, holding)


async def followed(db: Database, store: TimelineStore, account_id: int, target_id: int) -> None:
    """A new follow: the followed account's recent posts come into the
    follower's home (if it is kept; one not kept is rebuilt whole when next
    read), its merge sources are looked up again, and the follower's lists
    that show replies to followed accounts are dropped (rebuilt when read)."""
    if not store.caches:
        return
    async with db.read() as conn:
        stale = _refs(
            (
                await conn.execute(
                    select(lists.c.account_id, lists.c.id).where(
                        lists.c.account_id == account_id, lists.c.replies_policy == "followed"
                    )
                )
            ).all()
        )
    await store.invalidate(sources_of=[account_id], lists=stale)
    viewer = Viewer(account_id=account_id, scopes=frozenset())
    async with db.read() as conn:
        count = (
            await conn.execute(select(accounts.c.followers_count).where(accounts.c.id == target_id))
        ).scalar()
        if int(count or 0) > store.fanout_max_followers:
            return  # merged at read time, like everything this account posts
        ids = [
            int(i)
            for i in (
                await conn.execute(
                    select(statuses.c.id)
                    .where(
                        statuses.c.account_id == target_id,
                        home_rule(account_id, with_tags=False),
                        privacy.status_clause(viewer),
                    )
                    .order_by(statuses.c.id.desc())
                    .limit(store.max_entries)
                )
            ).scalars()
        ]
    if ids:
        await store.deliver(ids, [account_id], [])


async def list_changed(store: TimelineStore, owner: int, list_id: int) -> None:
    """A list's members or replies policy changed, or it was deleted: its kept
    timeline is dropped, and the next read rebuilds it from the database."""
    if store.caches:
        await store.invalidate(sources_of=[], lists=[ListRef(owner, list_id)])
