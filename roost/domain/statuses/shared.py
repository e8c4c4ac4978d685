"""Posts' parts that every viewer sees the same, cached: ``SHARED``, this
process's, and under it, in scaled mode, the cache every process shares.

What does not depend on the viewer or change without an edit (text, rendered
HTML, mentions, hashtags, media, application) is kept per process by the
post's id *and* its ``edited_at``: an edit makes a new key, so no stale
version can be served, whichever process wrote the edit. Deleted posts are
never asked for (the page reads find no row), and ``forget`` drops them so
their text does not linger in memory. Under it, in scaled mode, a cache every
process shares (``ReadScope.shared_bytes``, kept in Redis by
roost/timelines/redis_posts.py) holds the same parts as bytes that name their
version, so a process that just started asks the database only for posts no
process has read lately. The feed presenter (roost/domain/statuses/feed.py)
asks ``shared_for`` for the posts of each page.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select

from roost.caching import SharedBytes
from roost.db.engine import ReadScope
from roost.db.tables import statuses
from roost.domain.cards.model import PreviewCard
from roost.domain.events import StatusDeleted, StatusEdited, StatusRewritten
from roost.domain.media import queries as media_queries
from roost.domain.types import AppInfo, MediaAttachment, Status, Visibility
from roost.keys import ring
from roost.streaming.events import STATUS_DELETED, STATUS_REWRITTEN

log = logging.getLogger("roost.feed")

# One version of a post, as a page row names it: (post id, author id, the
# row's raw ``edited_at``).
Version = tuple[int, int, Any]


@dataclass(frozen=True, slots=True)
class Shared:
    """What every viewer sees the same of one version of a post."""

    status: Status
    mentions: tuple[int, ...]  # the accounts named, in order; read as they are now
    tags: tuple[str, ...]
    application: AppInfo | None
    media: tuple[MediaAttachment, ...]
    card: PreviewCard | None = None


class SharedParts:
    """Process-local cache of ``Shared`` by (post id, edited_at)."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._entries: dict[tuple[int, Any], Shared] = {}
        self._keys_of: dict[int, tuple[int, Any]] = {}

    def get(self, status_id: int, edited_at: Any) -> Shared | None:
        return self._entries.get((status_id, edited_at))

    def put(self, status_id: int, edited_at: Any, shared: Shared) -> None:
        old = self._keys_of.get(status_id)
        if old is not None:
            self._entries.pop(old, None)
        while len(self._entries) >= self.capacity:
            oldest = next(iter(self._entries))
            del self._entries[oldest]
            self._keys_of.pop(oldest[0], None)
        key = (status_id, edited_at)
        self._entries[key] = shared
        self._keys_of[status_id] = key

    def forget(self, status_ids: Iterable[int]) -> None:
        for status_id in status_ids:
            key = self._keys_of.pop(status_id, None)
            if key is not None:
                self._entries.pop(key, None)

    def forget_account(self, account_id: int) -> None:
        """Drop every post by, or mentioning, ``account_id`` (erasure)."""
        doomed = [
            sid
            for (sid, _edited), shared in self._entries.items()
            if shared.status.account_id == account_id or account_id in shared.mentions
        ]
        self.forget(doomed)

    def clear(self) -> None:
        self._entries.clear()
        self._keys_of.clear()

    def __len__(self) -> int:
        return len(self._entries)


SHARED = SharedParts()


async def forget_deleted_elsewhere(bus: Any) -> None:
    """Run for the life of a server: posts deleted or rewritten (a new link
    card) through *other* processes (scaled mode: events arrive over the Redis
    bus) leave this process's cache too. Deleted rows are never read again
    anyway; this is so their text does not stay in memory, and so a new card
    shows everywhere. Falling behind (an overflowed queue) clears it all."""
    while True:
        async with bus.subscribe() as subscription:
            while not subscription.overflowed:
                event = await subscription.next(30.0)
                if (
                    event is not None
                    and event.kind in (STATUS_DELETED, STATUS_REWRITTEN)
                    and event.status_id
                ):
                    SHARED.forget([event.status_id])
        SHARED.clear()


async def forget_changed_posts(event: object) -> None:
    """A database listener: a deleted post's text leaves this process's cache
    as soon as the deletion commits, and so do the old words of a post that
    an import rewrote (no edit: its ``edited_at``, and so its key, stays)."""
    if isinstance(event, (StatusDeleted, StatusRewritten)):
        SHARED.forget([event.status_id])


def forget_changed_posts_in(cache: SharedBytes) -> Callable[[object], Awaitable[None]]:
    """A database listener for the cache every process shares: an edited,
    rewritten or deleted post's entry goes as soon as the change commits."""

    async def listener(event: object) -> None:
        if isinstance(event, (StatusDeleted, StatusEdited, StatusRewritten)):
            await cache.forget([event.status_id])

    return listener


def _from_cache(versions: Sequence[Version], found: dict[int, Shared]) -> list[Version]:
    """Fill ``found`` from the cache; the versions it does not hold."""
    missing: list[Version] = []
    for version in versions:
        status_id, _author, edited_at = version
        part = SHARED.get(status_id, edited_at)
        if part is None:
            missing.append(version)
        else:
            found[status_id] = part
    return missing


async def shared_for(reads: ReadScope, versions: Sequence[Version]) -> dict[int, Shared]:
    """The parts of these versions of posts, by post id: from this process's
    cache, the cache every process shares, or the database (a post deleted
    meanwhile is left out)."""
    found: dict[int, Shared] = {}
    missing = _from_cache(versions, found)
    if not missing:
        return found
    kept: dict[int, bytes] = {}
    # One cold load at a time: after a restart, every request in flight
    # wants the same newest posts; the ones that waited find them cached.
    async with _cold_load_lock():
        missing = _from_cache(missing, found)
        if missing and reads.shared_bytes is not None:
            missing = await _from_shared_bytes(reads, missing, found)
        if missing:
            loaded = await _load_shared(reads, [status_id for status_id, _, _ in missing])
            for status_id, _author, edited_at in missing:
                part = loaded.get(status_id)
                if part is None:
                    continue  # deleted between the page read and this one: left out
                found[status_id] = part
                if not _same_version(edited_at, part.status.edited_at):
                    # Loaded from another moment than the page row (an edit
                    # in between): shown this once, kept nowhere.
                    continue
                SHARED.put(status_id, edited_at, part)
                if reads.shared_bytes is not None:
                    encoded = _encoded(part, edited_at)
                    if encoded is not None:
                        kept[status_id] = encoded
    if kept and reads.shared_bytes is not None:
        await reads.shared_bytes.put_many(kept)
    return found


def _same_version(page_edited_at: Any, loaded: datetime | None) -> bool:
    """Whether a page row's raw ``edited_at`` (a string from SQLite, a naive
    UTC datetime from PostgreSQL) is the loaded post's (aware, UTC)."""
    if page_edited_at is None or loaded is None:
        return page_edited_at is None and loaded is None
    if isinstance(page_edited_at, str):
        page_edited_at = datetime.fromisoformat(page_edited_at)
    return bool(page_edited_at.replace(tzinfo=None) == loaded.astimezone(UTC).replace(tzinfo=None))


def _encoded(part: Shared, edited_at: Any) -> bytes | None:
    try:
        return encode_shared(part, edited_at)
    except Exception:
        # E.g. a post restored from a backup older than its author's erasure,
        # whose key is a tombstone: it cannot be sealed again. It is served
        # as the database has it, and not kept in the shared cache.
        log.warning("post %s not kept in the shared cache", part.status.id, exc_info=True)
        return None


async def _from_shared_bytes(
    reads: ReadScope, versions: Sequence[Version], found: dict[int, Shared]
) -> list[Version]:
    """Fill ``found`` (and this process's cache) from the cache every process
    shares; the versions it does not hold."""
    assert reads.shared_bytes is not None
    entries = await reads.shared_bytes.get_many([status_id for status_id, _, _ in versions])
    missing: list[Version] = []
    for version, data in zip(versions, entries, strict=True):
        status_id, author_id, edited_at = version
        part = decode_shared(data, edited_at) if data is not None else None
        if part is None or part.status.id != status_id or part.status.account_id != author_id:
            missing.append(version)
        else:
            SHARED.put(status_id, edited_at, part)
            found[status_id] = part
    return missing


# -- the shared parts as bytes, for the cache every process shares ------------
#
# Text is sealed as the database seals it (roost/keys/ring.py): a post's words,
# spoiler and media descriptions under its author's key, so an erased account's
# words are no more readable in the cache than in a backup. Mentioned accounts
# are named by id only, and read as they are now with each page.

_FORMAT = 5
_SEALED_STATUS = ("text", "content", "spoiler_text")


def _version(edited_at: Any) -> str:
    # As the page read hands it over (raw), so both sides compare alike.
    return "" if edited_at is None else str(edited_at)


def encode_shared(part: Shared, edited_at: Any) -> bytes:
    status = asdict(part.status)
    author = part.status.account_id
    for name in _SEALED_STATUS:
        status[name] = ring.seal(author, status[name])
    status["visibility"] = int(part.status.visibility)
    media = []
    for attachment in part.media:
        fields = asdict(attachment)
        fields["description"] = ring.seal_optional(attachment.account_id, attachment.description)
        media.append(fields)
    app = part.application
    return orjson.dumps(
        {
            "format": _FORMAT,
            "version": _version(edited_at),
            "status": status,
            "mentions": list(part.mentions),
            "tags": list(part.tags),
            "application": None if app is None else [app.name, app.website],
            "media": media,
            "card": None if part.card is None else _card_fields(part.card),
        }
    )


def _card_fields(card: PreviewCard) -> dict[str, Any]:
    fields = card.as_dict()
    for name in ("published_at", "fetched_at"):
        moment = fields[name]
        fields[name] = None if moment is None else moment.isoformat()
    return fields


def decode_shared(data: bytes, edited_at: Any) -> Shared | None:
    """The parts ``data`` holds, or None when they are not those of the version
    ``edited_at``, or not in this release's format (a release that added a
    field without changing ``_FORMAT`` gets a miss here, not an error)."""
    try:
        entry = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(entry, dict) or entry.get("format") != _FORMAT:
        return None
    if entry.get("version") != _version(edited_at):
        return None
    try:
        return _decoded(entry)
    except Exception:
        # Damaged, or written by a release with other fields: a miss.
        return None


def _decoded(entry: dict[str, Any]) -> Shared:
    status = entry["status"]
    for name in _SEALED_STATUS:
        status[name] = ring.unseal(status[name])
    status["visibility"] = Visibility(status["visibility"])
    _dates(status, "created_at", "edited_at")
    media = []
    for fields in entry["media"]:
        if fields["description"] is not None:
            fields["description"] = ring.unseal(fields["description"])
        _dates(fields, "created_at", "remote_used_at", "remote_pruned_at")
        media.append(MediaAttachment(**fields))
    app = entry["application"]
    card = entry["card"]
    if card is not None:
        _dates(card, "published_at", "fetched_at")
    return Shared(
        status=Status(**status),
        mentions=tuple(int(m) for m in entry["mentions"]),
        tags=tuple(entry["tags"]),
        application=None if app is None else AppInfo(name=app[0], website=app[1]),
        media=tuple(media),
        card=None if card is None else PreviewCard(**card),
    )


def _dates(fields: dict[str, Any], *names: str) -> None:
    for name in names:
        if fields.get(name) is not None:
            fields[name] = datetime.fromisoformat(fields[name])


_cold_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _cold_load_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _cold_locks.get(loop)
    if lock is None:
        lock = _cold_locks[loop] = asyncio.Lock()
    return lock


async def _load_shared(reads: ReadScope, ids: list[int]) -> dict[int, Shared]:
    """Everything viewer-independent about these posts (SQLAlchemy: cold path)."""
    from roost.domain.cards.queries import cards_for
    from roost.domain.statuses.queries import applications_by_id, links

    conn = await reads.conn()
    rows = (await conn.execute(select(statuses).where(statuses.c.id.in_(ids)))).mappings().all()
    mention_pairs, tag_map = await links(conn, ids)
    mention_map: dict[int, list[int]] = {}
    for status_id, account_id in mention_pairs:
        mention_map.setdefault(status_id, []).append(account_id)
    app_map = await applications_by_id(
        conn, {r["application_id"] for r in rows if r["application_id"] is not None}
    )
    media_map = await media_queries.for_statuses(conn, ids)
    card_map = await cards_for(conn, ids)
    return {
        r["id"]: Shared(
            status=Status.from_row(r),
            mentions=tuple(mention_map.get(r["id"], ())),
            tags=tuple(tag_map.get(r["id"], ())),
            application=app_map.get(r["application_id"]),
            media=tuple(media_map.get(r["id"], ())),
            card=card_map.get(r["id"]),
        )
        for r in rows
    }
