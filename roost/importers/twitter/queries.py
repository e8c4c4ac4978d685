"""Reading what an import kept for its owner: the liked tweets and the direct
messages. Every function takes the owner's account id and reads only that
account's rows: there is no way here to ask for someone else's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import twitter_direct_messages, twitter_likes
from roost.importers.twitter.records import DirectMessage, Like

MAX_LIMIT = 80


@dataclass(frozen=True, slots=True)
class LikesPage:
    likes: list[Like]
    oldest_tweet_id: int | None  # where the next page starts (``max_id``)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def liked_tweets(
    conn: AsyncConnection, account_id: int, *, q: str = "", max_id: int | None, limit: int
) -> LikesPage:
    """The owner's liked tweets, newest tweet first; ``q`` keeps those whose text
    or link holds every word of it (any case)."""
    table = twitter_likes
    query = select(table.c.tweet_id, table.c.text, table.c.url).where(
        table.c.account_id == account_id
    )
    for word in q.split()[:8]:
        pattern = f"%{_escaped(word.lower())}%"
        query = query.where(
            or_(
                func.lower(table.c.text).like(pattern, escape="\\"),
                func.lower(table.c.url).like(pattern, escape="\\"),
            )
        )
    if max_id is not None:
        query = query.where(table.c.tweet_id < max_id)
    rows = (await conn.execute(query.order_by(table.c.tweet_id.desc()).limit(limit))).all()
    likes = [Like(int(r.tweet_id), r.text, r.url) for r in rows]
    return LikesPage(likes, likes[-1].tweet_id if len(likes) == limit else None)


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
