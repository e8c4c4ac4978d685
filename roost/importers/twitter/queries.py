"""Reading what an import kept for its owner: the liked tweets and the direct
messages. Every function takes the owner's account id and reads only that
account's rows: there is no way here to ask for someone else's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import twitter_direct_messages, twitter_likes
from roost.importers.twitter.records import DirectMessage, Like

MAX_LIMIT = 80


@dataclass(frozen=True, slots=True)
class LikesPage:
    likes: list[Like]
    oldest_tweet_id: int | None  # where the next page starts (``max_id``)


_SCAN_BATCH = 500


async def liked_tweets(
    conn: AsyncConnection, account_id: int, *, q: str = "", max_id: int | None, limit: int
) -> LikesPage:
    """The owner's liked tweets, newest tweet first; ``q`` keeps those whose text
    or link holds every word of it (any case).

    Text and link are sealed (roost/keys), so SQL cannot search them: the
    owner's likes are read newest first, in batches, and matched here."""
    table = twitter_likes
    words = [word.lower() for word in q.split()[:8]]
    found: list[Like] = []
    before = max_id
    while len(found) < limit:
        query = select(table.c.tweet_id, table.c.text, table.c.url).where(
            table.c.account_id == account_id
        )
        if before is not None:
            query = query.where(table.c.tweet_id < before)
        batch = limit if not words else _SCAN_BATCH
        rows = (await conn.execute(query.order_by(table.c.tweet_id.desc()).limit(batch))).all()
        for r in rows:
            haystack = f"{r.text}\n{r.url}".lower()
            if all(word in haystack for word in words):
                found.append(Like(int(r.tweet_id), r.text, r.url))
                if len(found) == limit:
                    break
        if len(rows) < batch:
            break
        before = int(rows[-1].tweet_id)
    return LikesPage(found, found[-1].tweet_id if len(found) == limit else None)


async def direct_messages(
    conn: AsyncConnection,
    account_id: int,
    *,
    conversation_id: str | None,
    max_id: int | None,
    limit: int,
) -> list[DirectMessage]:
    """The owner's imported messages, newest first."""
    table = twitter_direct_messages
    query = select(table).where(table.c.account_id == account_id)
    if conversation_id:
        query = query.where(table.c.conversation_id == conversation_id)
    if max_id is not None:
        query = query.where(table.c.message_id < max_id)
    rows = await conn.execute(query.order_by(table.c.message_id.desc()).limit(limit))
    return [
        DirectMessage(
            message_id=int(r.message_id),
            conversation_id=r.conversation_id,
            sender_id=r.sender_id,
            recipient_id=r.recipient_id,
            text=r.text,
            created_at=r.created_at,
        )
        for r in rows
    ]
