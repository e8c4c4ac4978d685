"""The rest of an archive that is kept but not published: likes, the lists of
followers, following, blocks and mutes (Twitter ids only), and direct messages.

Each ``do_add_*`` writes a batch and returns how many rows were new, so
importing the same archive again adds (and counts) nothing. Rows are read from
the archive by the ``*_from_json`` functions, which return None for an entry
that does not have what a row needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import twitter_direct_messages, twitter_likes, twitter_relations
from roost.ids import new_id
from roost.importers.twitter.mapping import TWITTER, expand
from roost.importers.twitter.tweets import parse_date
from roost.keys.ring import seal


@dataclass(frozen=True, slots=True)
class Like:
    tweet_id: int
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class DirectMessage:
    message_id: int
    conversation_id: str
    sender_id: int | None
    recipient_id: int | None
    text: str
    created_at: datetime


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _inner(element: Any) -> dict[str, Any] | None:
    """The one object an archive entry wraps: ``{"like": {...}}`` -> ``{...}``."""
    if isinstance(element, dict) and len(element) == 1:
        (value,) = element.values()
        if isinstance(value, dict):
            return value
    return None


def like_from_json(element: Any) -> Like | None:
    like = _inner(element)
    tweet_id = _int(like.get("tweetId")) if like else None
    if like is None or tweet_id is None:
        return None
    text = like.get("fullText")
    url = like.get("expandedUrl")
    return Like(
        tweet_id=tweet_id,
        text=expand(text, {}) if isinstance(text, str) else "",
        url=url if isinstance(url, str) and url else f"{TWITTER}/i/web/status/{tweet_id}",
    )


def relation_from_json(element: Any) -> int | None:
    """The Twitter account id of a follower.js / following.js / block.js / mute.js entry."""
    inner = _inner(element)
    return _int(inner.get("accountId")) if inner else None


def is_message(event: Any) -> bool:
    """A message, not another event of a conversation (a join, a rename)."""
    return isinstance(event, dict) and isinstance(event.get("messageCreate"), dict)


def message_from_json(conversation_id: str, event: Any) -> DirectMessage | None:
    """A message of a direct-messages file; None for other events (joins, renames)."""
    message = event.get("messageCreate") if isinstance(event, dict) else None
    if not isinstance(message, dict):
        return None
    message_id = _int(message.get("id"))
    text = message.get("text")
    created = message.get("createdAt")
    if message_id is None or not isinstance(text, str) or not isinstance(created, str):
        return None
    try:
        created_at = parse_date(created)
    except ValueError:
        return None
    urls = {
        u["url"]: u.get("expanded") or u["url"]
        for u in message.get("urls") or []
        if isinstance(u, dict) and isinstance(u.get("url"), str)
    }
    return DirectMessage(
        message_id=message_id,
        conversation_id=conversation_id[:100] or "unknown",
        sender_id=_int(message.get("senderId")),
        recipient_id=_int(message.get("recipientId")),
        text=expand(text, urls),
        created_at=created_at,
    )


async def _present(tx: Tx, table: Table, account_id: int, column: str, keys: list[int]) -> set[int]:
    rows = await tx.execute(
        select(table.c[column]).where(table.c.account_id == account_id, table.c[column].in_(keys))
    )
    return {int(r[0]) for r in rows}


async def insert_absent(tx: Tx, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert, leaving out rows another writer added since they were checked."""
    if not rows:
        return
    statement: Any
    if tx.conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        statement = postgres_insert(table).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing()
    await tx.execute(statement, rows)


async def do_add_likes(tx: Tx, account_id: int, likes: Sequence[Like]) -> int:
    unique = list({like.tweet_id: like for like in likes}.values())
    keys = [like.tweet_id for like in unique]
    present = await _present(tx, twitter_likes, account_id, "tweet_id", keys)
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "account_id": account_id,
            "tweet_id": like.tweet_id,
            "text": seal(account_id, like.text),
            "url": seal(account_id, like.url[:2000]),
            "created_at": now,
        }
        for like in unique
        if like.tweet_id not in present
    ]
    await insert_absent(tx, twitter_likes, rows)
    return len(rows)


async def do_add_relations(tx: Tx, account_id: int, kind: str, twitter_ids: Sequence[int]) -> int:
    wanted = sorted(set(twitter_ids))
    table = twitter_relations
    present = {
        int(r.twitter_account_id)
        for r in await tx.execute(
            select(table.c.twitter_account_id).where(
                table.c.account_id == account_id,
                table.c.kind == kind,
                table.c.twitter_account_id.in_(wanted),
            )
        )
    }
    rows = [
        {"account_id": account_id, "kind": kind, "twitter_account_id": twitter_id}
        for twitter_id in wanted
        if twitter_id not in present
    ]
    await insert_absent(tx, table, rows)
    return len(rows)


async def do_add_messages(tx: Tx, account_id: int, messages: Sequence[DirectMessage]) -> int:
    unique = list({m.message_id: m for m in messages}.values())
    table = twitter_direct_messages
    present = await _present(tx, table, account_id, "message_id", [m.message_id for m in unique])
    rows = [
        {
            "id": new_id(),
            "account_id": account_id,
            "message_id": m.message_id,
            "conversation_id": m.conversation_id,
            "sender_id": m.sender_id,
            "recipient_id": m.recipient_id,
            "text": seal(account_id, m.text),
            "created_at": m.created_at,
        }
        for m in unique
        if m.message_id not in present
    ]
    await insert_absent(tx, table, rows)
    return len(rows)
