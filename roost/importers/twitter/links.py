"""Threads and links that wait for a tweet not yet imported.

A reply whose parent comes later in the files (tweets.js lists the newest
first), in another part, or only in a later archive, is written without its
parent and marked; so is a post linking to an own tweet not imported yet.
After every import the marked ones whose targets are now here are joined:
replies get their ``in_reply_to_id`` (and the parent its count), links point
at the imported post. What still waits is counted in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Tx
from roost.db.tables import statuses, twitter_imported_tweets
from roost.domain.events import StatusRewritten
from roost.importers.twitter import mapping
from roost.importers.twitter.store import (
    LINK_BATCH,
    address,
    chunks,
    count_replies,
    imported_posts,
)
from roost.keys.ring import seal


async def do_link_replies(tx: Tx, account_id: int, *, limit: int = LINK_BATCH) -> int:
    """Join replies to parents imported since they were; returns how many were
    joined (fewer than ``limit``: none are left that can be joined now)."""
    child, parent = twitter_imported_tweets.alias("child"), twitter_imported_tweets.alias("parent")
    ready = (
        await tx.execute(
            select(child.c.tweet_id, child.c.status_id, parent.c.status_id.label("parent_id"))
            .join(
                parent,
                and_(
                    parent.c.account_id == child.c.account_id,
                    parent.c.tweet_id == child.c.pending_parent_id,
                ),
            )
            .where(child.c.account_id == account_id, child.c.pending_parent_id.is_not(None))
            .limit(limit)
        )
    ).all()
    if not ready:
        return 0
    await tx.execute(
        update(statuses)
        .where(statuses.c.id == bindparam("child"))
        .values(in_reply_to_id=bindparam("parent"), in_reply_to_account_id=account_id),
        [{"child": r.status_id, "parent": r.parent_id} for r in ready],
    )
    counts: dict[int, int] = {}
    for r in ready:
        counts[int(r.parent_id)] = counts.get(int(r.parent_id), 0) + 1
    await count_replies(tx, counts)
    await _clear(tx, account_id, [int(r.tweet_id) for r in ready], "pending_parent_id", None)
    return len(ready)


async def _clear(tx: Tx, account_id: int, tweet_ids: list[int], column: str, value: Any) -> None:
    table = twitter_imported_tweets
    for chunk in chunks(tweet_ids):
        await tx.execute(
            update(table)
            .where(table.c.account_id == account_id, table.c.tweet_id.in_(chunk))
            .values({column: value})
        )


async def do_relink(
    tx: Tx,
    account_id: int,
    *,
    base_url: str,
    username: str,
    is_own: Callable[[str | None, int], bool],
    after: int = -1,
    limit: int = LINK_BATCH,
) -> tuple[int, int | None]:
    """Posts whose links to own tweets were left for later: point the links to
    tweets imported since at their posts here. A post stays marked while a link
    to one of the owner's tweets is unresolved (a later import may bring it).

    Works through the marked posts in tweet order from ``after``; returns how
    many posts changed and where to go on from (None: the end).
    """
    table = twitter_imported_tweets
    waiting = (
        await tx.execute(
            select(table.c.tweet_id, statuses.c.id, statuses.c.text)
            .join(statuses, statuses.c.id == table.c.status_id)
            .where(
                table.c.account_id == account_id,
                table.c.pending_links.is_(True),
                table.c.tweet_id > after,
            )
            .order_by(table.c.tweet_id)
            .limit(limit)
        )
    ).all()
    if not waiting:
        return 0, None
    targets = {tid for row in waiting for _n, tid in mapping.status_links(row.text)}
    known = await imported_posts(tx.conn, account_id, targets)
    local = {t: address(base_url, username, sid) for t, sid in known.items()}
    rewritten: list[dict[str, Any]] = []
    finished: list[int] = []
    for row in waiting:
        text = mapping.rewrite_links(row.text, local, own_id=int(row.tweet_id))
        if text != row.text:
            rewritten.append(
                {
                    "post_id": row.id,
                    "new_text": seal(account_id, text),
                    "new_content": seal(account_id, mapping.render(text, base_url).html),
                }
            )
        unresolved = [
            tid
            for name, tid in mapping.status_links(text)
            if tid != row.tweet_id and tid not in known and is_own(name, tid)
        ]
        if not unresolved:
            finished.append(int(row.tweet_id))
    if rewritten:
        # One statement for the batch (the names differ from the columns').
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == bindparam("post_id"))
            .values(text=bindparam("new_text"), content=bindparam("new_content")),
            rewritten,
        )
        for done in rewritten:
            tx.emit(StatusRewritten(done["post_id"]))
    await _clear(tx, account_id, finished, "pending_links", False)
    following = int(waiting[-1].tweet_id) if len(waiting) == limit else None
    return len(rewritten), following


async def waiting_counts(conn: AsyncConnection, account_id: int) -> tuple[int, int]:
    """(replies whose parent is not imported, posts with links not yet local)."""
    table = twitter_imported_tweets
    parents = (
        await conn.execute(
            select(func.count()).where(
                table.c.account_id == account_id, table.c.pending_parent_id.is_not(None)
            )
        )
    ).scalar_one()
    links = (
        await conn.execute(
            select(func.count()).where(
                table.c.account_id == account_id, table.c.pending_links.is_(True)
            )
        )
    ).scalar_one()
    return int(parents), int(links)
