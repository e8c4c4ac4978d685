"""Writing imported posts: the import's own path to the ``statuses`` table.

A published post leaves ``status.published`` in the outbox, which fans it out
to followers' timelines and notifies mentioned accounts and subscribers.
Imported history must do neither, so it does not go through
``do_create_status``: ``do_insert_posts`` writes the same rows (post, tags,
counters) for a batch of tweets, with ids from their original dates, and
enqueues only the search indexing of the batch. The rows are the domain's
(``new_status_row``) and so are the tags (roost/domain/tags/lookup.py); only
the writing is in batches. The caller's transaction holds the batch and the
tweet-to-post records together, so a batch is either wholly imported or not
at all.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Tx
from roost.db.tables import accounts, status_tags, statuses, twitter_imported_tweets
from roost.domain.events import StatusRewritten
from roost.domain.statuses.rows import new_status_row
from roost.domain.tags.lookup import tag_ids, tag_key
from roost.domain.types import Visibility
from roost.ids import id_for_time
from roost.importers.twitter import mapping
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job
from roost.keys.ring import seal

# Keep IN lists well below every engine's limit on bound parameters.
_CHUNK = 500
# Imported ids use the upper half of the 16 low bits; live ids take a random
# value below 4096 there, so an imported post never takes a live post's id.
_SALT_BASE = 0x8000
_SALT_SPAN = 0x8000

LINK_BATCH = _CHUNK


@dataclass(frozen=True)
class IndexImported(Job, kind="import.twitter.index"):
    """Put a batch of imported posts into the search index: they take no other
    way there, since they never pass through ``status.published``."""

    status_ids: tuple[int, ...]

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> IndexImported:
        return cls(tuple(int(i) for i in payload["status_ids"]))


@dataclass(frozen=True, slots=True)
class NewPost:
    """One tweet (with the ids of all its versions) about to become a post."""

    tweet_id: int
    other_ids: tuple[int, ...]
    moment: datetime
    text: str
    visibility: Visibility
    language: str | None = None
    sensitive: bool = False
    parent_tweet_id: int | None = None  # an own tweet this one answers
    linked_tweet_ids: tuple[int, ...] = ()  # own tweets its text links to


@dataclass
class Inserted:
    status_ids: dict[int, int] = field(default_factory=dict)  # tweet id -> post id
    threaded: int = 0


def salt_for(account_id: int, tweet_id: int) -> int:
    """A fixed salt per (account, tweet): an import run again computes the same id."""
    return _SALT_BASE + zlib.crc32(f"{account_id}:{tweet_id}".encode()) % _SALT_SPAN


def chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def imported_posts(
    conn: AsyncConnection, account_id: int, tweet_ids: Iterable[int]
) -> dict[int, int]:
    """tweet id -> post id, for those of ``tweet_ids`` already imported."""
    wanted = sorted(set(tweet_ids))
    found: dict[int, int] = {}
    table = twitter_imported_tweets
    for chunk in chunks(wanted):
        rows = await conn.execute(
            select(table.c.tweet_id, table.c.status_id).where(
                table.c.account_id == account_id, table.c.tweet_id.in_(chunk)
            )
        )
        found.update({int(r.tweet_id): int(r.status_id) for r in rows})
    return found


async def _free_ids(tx: Tx, account_id: int, posts: Sequence[NewPost]) -> list[int]:
    """The post id of each post: from its date and a salt, moved to the next
    salt in the rare case another post already has it."""
    salts = [salt_for(account_id, p.tweet_id) for p in posts]
    while True:
        ids = [id_for_time(p.moment, s) for p, s in zip(posts, salts, strict=True)]
        taken: set[int] = set()
        for chunk in chunks(ids):
            rows = await tx.execute(select(statuses.c.id).where(statuses.c.id.in_(chunk)))
            taken.update(int(r.id) for r in rows)
        seen: set[int] = set()
        clash = False
        for index, candidate in enumerate(ids):
            if candidate in taken or candidate in seen:
                salts[index] = _SALT_BASE + (salts[index] - _SALT_BASE + 1) % _SALT_SPAN
                clash = True
            seen.add(candidate)
        if not clash:
            return ids


async def do_insert_posts(
    tx: Tx, account_id: int, posts: Sequence[NewPost], *, base_url: str, username: str
) -> Inserted:
    """Write a batch of posts and their tweet records; see the module docstring."""
    result = Inserted()
    if not posts:
        return result
    status_ids = await _free_ids(tx, account_id, posts)
    by_tweet = {p.tweet_id: sid for p, sid in zip(posts, status_ids, strict=True)}
    referenced = {p.parent_tweet_id for p in posts if p.parent_tweet_id} | {
        t for p in posts for t in p.linked_tweet_ids
    }
    known = await imported_posts(tx.conn, account_id, referenced - set(by_tweet))
    known.update(by_tweet)
    rows: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    tag_links: list[tuple[int, str]] = []
    parents: dict[int, int] = {}
    for post, status_id in zip(posts, status_ids, strict=True):
        local = {
            t: address(base_url, username, known[t]) for t in post.linked_tweet_ids if t in known
        }
        text = mapping.rewrite_links(post.text, local, own_id=post.tweet_id)
        rendered = mapping.render(text, base_url)
        parent = known.get(post.parent_tweet_id) if post.parent_tweet_id else None
        if parent is not None:
            parents[parent] = parents.get(parent, 0) + 1
            result.threaded += 1
        rows.append(
            new_status_row(
                status_id=status_id,
                account_id=account_id,
                visibility=post.visibility,
                created_at=post.moment,
                text=text,
                html=rendered.html,
                sensitive=post.sensitive,
                language=post.language,
                in_reply_to_id=parent,
                in_reply_to_account_id=account_id if parent is not None else None,
            )
        )
        for tweet_id in (post.tweet_id, *post.other_ids):
            records.append(
                {
                    "account_id": account_id,
                    "tweet_id": tweet_id,
                    "status_id": status_id,
                    "pending_parent_id": (
                        post.parent_tweet_id
                        if parent is None and tweet_id == post.tweet_id
                        else None
                    ),
                    "pending_links": tweet_id == post.tweet_id
                    and any(t not in known for t in post.linked_tweet_ids),
                }
            )
        tag_links.extend((status_id, name) for name in rendered.tags)
        result.status_ids[post.tweet_id] = status_id
    await tx.execute(insert(statuses), rows)
    await tx.execute(insert(twitter_imported_tweets), records)
    if tag_links:
        by_key = await tag_ids(tx, {name for _sid, name in tag_links})
        links = {(sid, by_key[key]) for sid, name in tag_links if (key := tag_key(name)) in by_key}
        await tx.execute(
            insert(status_tags), [{"status_id": s, "tag_id": t} for s, t in sorted(links)]
        )
    await count_replies(tx, parents)
    await _count_posts(tx, account_id, len(rows), max(p.moment for p in posts))
    await enqueue(tx, IndexImported(tuple(status_ids)))
    return result


def address(base_url: str, username: str, status_id: int) -> str:
    return f"{base_url}/@{username}/{status_id}"


async def count_replies(tx: Tx, parents: dict[int, int]) -> None:
    if not parents:
        return
    await tx.execute(
        update(statuses)
        .where(statuses.c.id == bindparam("parent"))
        .values(replies_count=statuses.c.replies_count + bindparam("added")),
        [{"parent": p, "added": n} for p, n in parents.items()],
    )


async def _count_posts(tx: Tx, account_id: int, added: int, newest: datetime) -> None:
    """Posts count up; the last post's date moves only forward (history is older)."""
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(statuses_count=accounts.c.statuses_count + added)
    )
    await tx.execute(
        update(accounts)
        .where(
            accounts.c.id == account_id,
            (accounts.c.last_status_at.is_(None)) | (accounts.c.last_status_at < newest),
        )
        .values(last_status_at=newest)
    )


async def do_take_newer_version(
    tx: Tx, account_id: int, status_id: int, post: NewPost, *, base_url: str, username: str
) -> None:
    """An earlier version of this edited tweet was imported before: its post
    takes the newest text, and answers to every version's id."""
    known = await imported_posts(tx.conn, account_id, post.linked_tweet_ids)
    local = {t: address(base_url, username, sid) for t, sid in known.items()}
    text = mapping.rewrite_links(post.text, local, own_id=post.tweet_id)
    await tx.execute(
        update(statuses)
        .where(statuses.c.id == status_id, statuses.c.account_id == account_id)
        .values(
            text=seal(account_id, text),
            content=seal(account_id, mapping.render(text, base_url).html),
        )
    )
    tx.emit(StatusRewritten(status_id))
    ids = (post.tweet_id, *post.other_ids)
    mapped = await imported_posts(tx.conn, account_id, ids)
    rows = [
        {
            "account_id": account_id,
            "tweet_id": tweet_id,
            "status_id": status_id,
            "pending_parent_id": None,
            "pending_links": tweet_id == post.tweet_id
            and any(t not in known for t in post.linked_tweet_ids),
        }
        for tweet_id in ids
        if tweet_id not in mapped
    ]
    if rows:
        await tx.execute(insert(twitter_imported_tweets), rows)
    await enqueue(tx, IndexImported((status_id,)))
