"""A page of posts for a viewer, in one prepared read, sometimes two or three.

``queries.hydrate`` builds views for any cleared rows in a handful of SQLAlchemy
queries; timelines, read on every refresh of every app, take this shorter road:

1. the page itself: a ``PolicyRead`` over ``feed_select(viewer)``, so each
   row carries the post's changing numbers, the viewer's favourite, boost,
   bookmark and pin of it, and its author's account, already cleared for the
   viewer (the caller builds it);
2. only if the page has boosts or replies: the boosted originals and
   replied-to parents, through the policy again, with the same columns;
3. only if the posts mention anyone: which of those accounts the policy lets
   the viewer see named.

What does not depend on the viewer or change without an edit (text, rendered
HTML, mentions, hashtags, media, application) comes from ``SharedParts``, a
process-local cache keyed by the post's id *and* its ``edited_at``: an edit
makes a new key, so no stale version can be served, whichever process wrote
the edit. Deleted posts are never asked for (the page reads find no row), and
``forget`` drops them so their text does not linger in memory. Under it, in
scaled mode, a cache every process shares (``ReadScope.shared_bytes``, kept in
Redis by roost/timelines/redis_posts.py) holds the same parts as bytes that
name their version, so a process that just started asks the database only for
posts no process has read lately.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Integer, Select, bindparam, false, select

from roost.db.engine import ReadScope
from roost.db.fastread import IdList, Prepared, Row, id_list
from roost.db.tables import (
    accounts,
    bookmarks,
    favourites,
    filters,
    pins,
    statuses,
)
from roost.db.types import Id
from roost.domain import privacy
from roost.domain.events import StatusDeleted, StatusRewritten
from roost.domain.media import queries as media_queries
from roost.domain.pagination import newest_first
from roost.domain.privacy import PolicyRead, Visible
from roost.domain.types import (
    Account,
    AppInfo,
    MediaAttachment,
    Page,
    Status,
    StatusView,
    Viewer,
    Visibility,
)
from roost.keys import ring
from roost.streaming.events import STATUS_DELETED

_META_NAMES = (
    "id",
    "account_id",
    "in_reply_to_id",
    "in_reply_to_account_id",
    "reblog_of_id",
    "visibility",
    "replies_count",
    "reblogs_count",
    "favourites_count",
    "edited_at",
)
(ID, AUTHOR_ID, PARENT, PARENT_ACCOUNT, BOOSTED, VISIBILITY, REPLIES, REBLOGS, FAVS, EDITED) = (
    range(len(_META_NAMES))
)
# What belongs to the viewer, read with the post itself: one round trip per
# page fewer than asking afterwards. ``has_filters`` is the same on every row.
_MARK_NAMES = ("favourited", "reblogged", "bookmarked", "pinned", "has_filters")
FAVOURITED, REBLOGGED, BOOKMARKED, PINNED, HAS_FILTERS = range(
    len(_META_NAMES), len(_META_NAMES) + len(_MARK_NAMES)
)
_ACCOUNT_NAMES = tuple(Account.__dataclass_fields__)
_AUTHOR_AT = len(_META_NAMES) + len(_MARK_NAMES)


def _marks(viewer: Viewer) -> list[Any]:
    me = viewer.account_id
    if me is None:
        return [false().label(name) for name in _MARK_NAMES]

    def marked(table: Any) -> Any:
        return (
            select(table.c.id)
            .where(table.c.account_id == me, table.c.status_id == statuses.c.id)
            .exists()
        )

    boosts = statuses.alias("viewer_boosts")
    return [
        marked(favourites).label("favourited"),
        select(boosts.c.id)
        .where(boosts.c.account_id == me, boosts.c.reblog_of_id == statuses.c.id)
        .exists()
        .label("reblogged"),
        marked(bookmarks).label("bookmarked"),
        marked(pins).label("pinned"),
        select(filters.c.id).where(filters.c.account_id == me).exists().label("has_filters"),
    ]


def feed_select(viewer: Viewer) -> Select[Any]:
    """The columns ``present`` reads: a post's numbers, the viewer's marks on
    it, then its author. ``viewer`` is the parametric viewer a ``PolicyRead``
    builds with."""
    return select(
        *(statuses.c[name] for name in _META_NAMES),
        *_marks(viewer),
        *(accounts.c[name].label(f"author_{name}") for name in _ACCOUNT_NAMES),
    ).select_from(statuses.join(accounts, accounts.c.id == statuses.c.account_id))


class PagedRead:
    """A page of a timeline: ``build``'s rows, newest first, paged as
    roost/domain/pagination.py pages, through the policy, then ``present``ed.

    One prepared statement per paging shape (which of max_id, since_id and
    min_id are given), each compiled once.
    """

    def __init__(self, build: Callable[[Viewer], Select[Any]]) -> None:
        self._build = build
        self._reads: dict[tuple[bool, bool, bool], PolicyRead] = {}

    async def page(
        self, reads: ReadScope, viewer: Viewer, page: Page, **values: Any
    ) -> list[Visible[StatusView]]:
        shape = (page.max_id is not None, page.since_id is not None, page.min_id is not None)
        read = self._reads.get(shape)
        if read is None:
            read = self._reads[shape] = PolicyRead(partial(_paged, self._build, shape))
        values["limit"] = page.limit
        for name in ("max_id", "since_id", "min_id"):
            if getattr(page, name) is not None:
                values[name] = getattr(page, name)
        rows = await read.rows(reads.fast, viewer, raw=True, **values)
        return await present(reads, viewer, newest_first(rows, page))


def _paged(
    build: Callable[[Viewer], Select[Any]], shape: tuple[bool, bool, bool], viewer: Viewer
) -> Select[Any]:
    query = build(viewer)
    key = statuses.c.id
    has_max, has_since, has_min = shape
    if has_max:
        query = query.where(key < bindparam("max_id", type_=Id))
    if has_since:
        query = query.where(key > bindparam("since_id", type_=Id))
    limit = bindparam("limit", type_=Integer())
    if has_min:
        return query.where(key > bindparam("min_id", type_=Id)).order_by(key.asc()).limit(limit)
    return query.order_by(key.desc()).limit(limit)


_BY_IDS = PolicyRead(lambda viewer: feed_select(viewer).where(id_list(statuses.c.id, "ids")))


def _listed_accounts(kind: str) -> Select[Any]:
    """Those of the accounts ``ids`` the viewer may see named (mentions), as
    they are now."""
    viewer = privacy.parametric_viewer(kind)
    return select(*(accounts.c[name] for name in _ACCOUNT_NAMES)).where(
        id_list(accounts.c.id, "ids"), privacy.listed_account_id(viewer, accounts.c.id)
    )


log = logging.getLogger("roost.feed")

VIEWER_HAS_FILTERS = "viewer_has_filters"
_LISTED = {kind: Prepared(partial(_listed_accounts, kind)) for kind in privacy.VIEWER_KINDS}


@dataclass(frozen=True, slots=True)
class Shared:
    """What every viewer sees the same of one version of a post."""

    status: Status
    mentions: tuple[int, ...]  # the accounts named, in order; read as they are now
    tags: tuple[str, ...]
    application: AppInfo | None
    media: tuple[MediaAttachment, ...]


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
    """Run for the life of a server: posts deleted through *other* processes
    (scaled mode: events arrive over the Redis bus) leave this process's cache
    too. Deleted rows are never read again anyway; this is so their text does
    not stay in memory. Falling behind (an overflowed queue) clears it all."""
    while True:
        async with bus.subscribe() as subscription:
            while not subscription.overflowed:
                event = await subscription.next(30.0)
                if event is not None and event.kind == STATUS_DELETED and event.status_id:
                    SHARED.forget([event.status_id])
        SHARED.clear()


async def forget_changed_posts(event: object) -> None:
    """A database listener: a deleted post's text leaves this process's cache
    as soon as the deletion commits, and so do the old words of a post that
    an import rewrote (no edit: its ``edited_at``, and so its key, stays)."""
    if isinstance(event, (StatusDeleted, StatusRewritten)):
        SHARED.forget([event.status_id])


async def present(
    reads: ReadScope, viewer: Viewer, rows: Sequence[Visible[Row]]
) -> list[Visible[StatusView]]:
    """Cleared ``feed_select`` rows -> cleared views, in the rows' order.

    A boost whose original the viewer may not see is dropped, as in
    ``queries.hydrate``; a reply names its parent only if the viewer may see it.
    """
    if not rows:
        return []
    metas = [r.value for r in rows]
    boosted = {m[BOOSTED] for m in metas if m[BOOSTED] is not None}
    parents = {m[PARENT] for m in metas if m[PARENT] is not None}
    related: dict[int, Row] = {}
    if boosted or parents:
        for row in await _BY_IDS.rows(reads.fast, viewer, raw=True, ids=IdList(boosted | parents)):
            related[row.value[ID]] = row.value
    originals = [related[i] for i in boosted if i in related]
    shown_parents = set(related)
    unasked = {
        o[PARENT] for o in originals if o[PARENT] is not None and o[PARENT] not in boosted | parents
    }
    if unasked:
        shown_parents |= {
            r.value[ID]
            for r in await _BY_IDS.rows(reads.fast, viewer, raw=True, ids=IdList(unasked))
        }
    every = metas + originals
    if viewer.account_id is not None:
        reads.facts[VIEWER_HAS_FILTERS] = bool(metas[0][HAS_FILTERS])
    shared = await _shared_for(reads, every)
    mentioned = {m for meta in every if meta[ID] in shared for m in shared[meta[ID]].mentions}
    listed: dict[int, Account] = {}
    if mentioned:
        # Mentions are rare enough on a page that asking only when there are
        # some saves most pages a round trip.
        for named in await reads.fast.all(
            _LISTED[privacy.viewer_kind(viewer)],
            ids=IdList(mentioned),
            **privacy.viewer_parameters(viewer),
        ):
            listed[named[0]] = Account(*named)
    authors = _Authors(reads.fast.compiled(_BY_IDS.prepared(viewer)))

    def view(meta: Row, reblog: StatusView | None) -> StatusView:
        sid = meta[ID]
        part = shared[sid]
        status = part.status
        parent = meta[PARENT] if meta[PARENT] in shown_parents else None
        if (
            status.replies_count != meta[REPLIES]
            or status.reblogs_count != meta[REBLOGS]
            or status.favourites_count != meta[FAVS]
            or status.in_reply_to_id != parent
            or status.visibility != meta[VISIBILITY]
        ):
            status = replace(
                status,
                replies_count=meta[REPLIES],
                reblogs_count=meta[REBLOGS],
                favourites_count=meta[FAVS],
                in_reply_to_id=parent,
                in_reply_to_account_id=meta[PARENT_ACCOUNT] if parent is not None else None,
                visibility=Visibility(meta[VISIBILITY]),
            )
        return StatusView(
            status=status,
            account=authors.get(meta),
            mentions=[listed[m] for m in part.mentions if m in listed],
            tags=list(part.tags),
            reblog=reblog,
            application=part.application,
            favourited=bool(meta[FAVOURITED]),
            reblogged=bool(meta[REBLOGGED]),
            bookmarked=bool(meta[BOOKMARKED]),
            pinned=bool(meta[PINNED]),
            media=list(part.media),
            parts_key=part,
        )

    result: list[Visible[StatusView]] = []
    for row in rows:
        meta = row.value
        if meta[ID] not in shared:
            continue  # deleted while this page was being read
        original_view = None
        if meta[BOOSTED] is not None:
            original = related.get(meta[BOOSTED])
            if original is None or original[ID] not in shared:
                continue
            original_view = view(original, None)
        built = view(meta, original_view)
        result.append(row.derive(partial(_same, built)))
    return result


def _same(value: StatusView, _row: Row) -> StatusView:
    return value


class _Authors:
    """Accounts from the author columns of raw rows. The same raw values make
    the same (immutable) ``Account``, so it is kept: the serializers cache an
    account's JSON by the object."""

    cache: dict[Row, Account] = {}
    capacity = 10_000

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled

    def get(self, meta: Row) -> Account:
        raw = meta[_AUTHOR_AT:]
        found = self.cache.get(raw)
        if found is None:
            if len(self.cache) >= self.capacity:
                del self.cache[next(iter(self.cache))]
            found = self.cache[raw] = Account(*self._compiled.process(raw, _AUTHOR_AT))
        return found


def _from_cache(metas: Sequence[Row], found: dict[int, Shared]) -> list[Row]:
    """Fill ``found`` from the cache; the rows it does not hold."""
    missing: list[Row] = []
    for meta in metas:
        part = SHARED.get(meta[ID], meta[EDITED])
        if part is None:
            missing.append(meta)
        else:
            found[meta[ID]] = part
    return missing


async def _shared_for(reads: ReadScope, metas: Sequence[Row]) -> dict[int, Shared]:
    found: dict[int, Shared] = {}
    missing = _from_cache(metas, found)
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
            loaded = await _load_shared(reads, [m[ID] for m in missing])
            for meta in missing:
                part = loaded.get(meta[ID])
                if part is None:
                    continue  # deleted between the page read and this one: left out
                found[meta[ID]] = part
                if not _same_version(meta[EDITED], part.status.edited_at):
                    # Loaded from another moment than the page row (an edit
                    # in between): shown this once, kept nowhere.
                    continue
                SHARED.put(meta[ID], meta[EDITED], part)
                if reads.shared_bytes is not None:
                    encoded = _encoded(part, meta[EDITED])
                    if encoded is not None:
                        kept[meta[ID]] = encoded
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
    reads: ReadScope, metas: Sequence[Row], found: dict[int, Shared]
) -> list[Row]:
    """Fill ``found`` (and this process's cache) from the cache every process
    shares; the rows it does not hold in the version just read."""
    assert reads.shared_bytes is not None
    entries = await reads.shared_bytes.get_many([m[ID] for m in metas])
    missing: list[Row] = []
    for meta, data in zip(metas, entries, strict=True):
        part = decode_shared(data, meta[EDITED]) if data is not None else None
        if part is None or part.status.id != meta[ID] or part.status.account_id != meta[AUTHOR_ID]:
            missing.append(meta)
        else:
            SHARED.put(meta[ID], meta[EDITED], part)
            found[meta[ID]] = part
    return missing


# -- the shared parts as bytes, for the cache every process shares ------------
#
# Text is sealed as the database seals it (roost/keys/ring.py): a post's words,
# spoiler and media descriptions under its author's key, so an erased account's
# words are no more readable in the cache than in a backup. Mentioned accounts
# are named by id only, and read as they are now with each page.

_FORMAT = 2
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
        }
    )


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
        _dates(fields, "created_at")
        media.append(MediaAttachment(**fields))
    app = entry["application"]
    return Shared(
        status=Status(**status),
        mentions=tuple(int(m) for m in entry["mentions"]),
        tags=tuple(entry["tags"]),
        application=None if app is None else AppInfo(name=app[0], website=app[1]),
        media=tuple(media),
    )


def _dates(fields: dict[str, Any], *names: str) -> None:
    for name in names:
        if fields[name] is not None:
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
    return {
        r["id"]: Shared(
            status=Status.from_row(r),
            mentions=tuple(mention_map.get(r["id"], ())),
            tags=tuple(tag_map.get(r["id"], ())),
            application=app_map.get(r["application_id"]),
            media=tuple(media_map.get(r["id"], ())),
        )
        for r in rows
    }
