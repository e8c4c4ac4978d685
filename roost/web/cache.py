"""Rendered pages for anonymous visitors, kept in this process.

A profile or a post page seen by nobody in particular is the same for every
visitor, so it is rendered once and served from memory until something it
shows changes. Each entry remembers the accounts and posts it shows; it is
dropped as soon as this process hears that one of them changed:

- a post created (the author's pages, the thread its parent is on, and every
  listing: the home page's newest posts, hashtag pages and feeds), edited,
  rewritten by an import or deleted (every page showing it);
- an account changed (profile, images, settings) or was suspended or
  reinstated (every page showing it or its posts);
- an erasure (everything: roost/erasure purges call ``clear``).

Events come from this process's committed transactions (a database listener)
and, in scaled mode, from other processes over the bus
(``forget_changed_elsewhere``), the same two paths that keep the post caches
of roost/domain/statuses/feed.py current. An entry also lives at most
``TTL_S``, which bounds what no event reports (a post's favourite count, a
change made by a process whose events were lost). Only anonymous GETs that
answered 200 are kept; a signed-in viewer's page is rendered for them and
marked private.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from roost.db.engine import Database
from roost.domain import events as domain
from roost.domain.statuses.queries import parent_of
from roost.streaming import events as stream

log = logging.getLogger("roost.web")

TTL_S = 60.0
CAPACITY = 5000
# Posts this process announced and purged for itself, remembered so that
# their events, which come back over the bus, are not purged for again.
ANNOUNCED_KEPT = 1024
# What shared caches and browsers may keep a page for anonymous visitors.
PUBLIC_MAX_AGE_S = 15


@dataclass
class Entry:
    body: bytes
    headers: dict[str, str]
    media_type: str
    stored_at: float
    accounts: frozenset[int]
    statuses: frozenset[int]
    listing: bool


@dataclass
class Shown:
    """What a page shows, for its cache entry's purge tags."""

    accounts: set[int] = field(default_factory=set)
    statuses: set[int] = field(default_factory=set)
    listing: bool = False


class PageCache:
    def __init__(self, ttl_s: float = TTL_S, capacity: int = CAPACITY) -> None:
        self.ttl_s = ttl_s
        self.capacity = capacity
        self._entries: dict[str, Entry] = {}
        # Pages being rendered now, by key: later visitors wait for them.
        self.rendering: dict[str, asyncio.Future[Entry | None]] = {}
        self.hits = 0
        self.misses = 0
        # Moves on every purge: a page rendered across one is not kept.
        self.generation = 0
        # Posts purged for by this process's own listener, oldest first.
        self._announced: dict[int, None] = {}

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry.stored_at > self.ttl_s:
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self._entries.pop(key, None)
        while len(self._entries) >= self.capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = entry

    def _drop(self, doomed: Callable[[Entry], bool]) -> None:
        self.generation += 1
        for key in [k for k, e in self._entries.items() if doomed(e)]:
            del self._entries[key]

    def forget_account(self, account_id: int) -> None:
        self._drop(lambda e: account_id in e.accounts)

    def forget_statuses(self, ids: Iterable[int], *, listings: bool = False) -> None:
        wanted = set(ids)
        self._drop(lambda e: (listings and e.listing) or not wanted.isdisjoint(e.statuses))

    def forget_post(self, status_id: int, author_id: int, parent_id: int | None) -> None:
        """A new post: its author's pages, its parent's thread, every listing."""
        self._drop(
            lambda e: (
                e.listing
                or author_id in e.accounts
                or status_id in e.statuses
                or (parent_id is not None and parent_id in e.statuses)
            )
        )

    def shows_posts(self) -> bool:
        """Whether any page kept shows a post (a new reply can only make
        such a page out of date by way of its parent)."""
        return any(e.statuses for e in self._entries.values())

    def announced(self, status_id: int) -> None:
        """This process purged for its own new post ``status_id``."""
        self._announced[status_id] = None
        while len(self._announced) > ANNOUNCED_KEPT:
            del self._announced[next(iter(self._announced))]

    def purged_already(self, status_id: int) -> bool:
        """Whether ``status_id`` is a post this process announced (once)."""
        if status_id not in self._announced:
            return False
        del self._announced[status_id]
        return True

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# One cache per database handle (a server has one; a test process makes many
# apps, each with its own data, which must not see each other's pages).
_caches: WeakKeyDictionary[Database, PageCache] = WeakKeyDictionary()


def pages_for(db: Database) -> PageCache:
    found = _caches.get(db)
    if found is None:
        found = _caches[db] = PageCache()
    return found


async def _parent_of(db: Database, status_id: int) -> int | None:
    return await parent_of(db.fast, status_id)


def page_cache_listener(db: Database) -> Callable[[object], Any]:
    """A database listener: this process's committed changes purge at once."""

    pages = pages_for(db)

    async def listen(event: object) -> None:
        if isinstance(event, domain.StatusCreated):
            parent = (
                event.in_reply_to_id
                if event.parent_known
                else await _parent_of(db, event.status_id)
            )
            pages.forget_post(event.status_id, event.author_id, parent)
            pages.announced(event.status_id)
        elif isinstance(event, (domain.StatusEdited, domain.StatusRewritten)):
            pages.forget_statuses([event.status_id])
        elif isinstance(event, domain.StatusDeleted):
            pages.forget_statuses([event.status_id], listings=True)
            pages.forget_account(event.author_id)
        elif isinstance(event, domain.AccountChanged):
            pages.forget_account(event.account_id)

    return listen


async def forget_changed_elsewhere(bus: Any, db: Database) -> None:
    """Run for the life of a server: changes made by other processes (scaled
    mode: over the Redis bus) purge this process's pages too. Falling behind
    (an overflowed queue) clears everything."""
    pages = pages_for(db)
    while True:
        try:
            async with bus.subscribe() as subscription:
                while not subscription.overflowed:
                    event = await subscription.next(30.0)
                    if event is not None:
                        await _on_stream_event(event, db)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the page cache lost its event subscription; resubscribing")
            await asyncio.sleep(1)
        pages.clear()


async def _on_stream_event(event: stream.StreamEvent, db: Database) -> None:
    pages = pages_for(db)
    if event.kind == stream.STATUS_CREATED and event.status_id and event.author_id:
        # Every process hears every post: its own it purged for when it
        # committed, and the parent is read only when a page kept could be
        # its thread's (a scaled server read it per post, per process).
        if pages.purged_already(event.status_id):
            return
        pages.forget_post(event.status_id, event.author_id, None)
        if pages.shows_posts():
            parent = await _parent_of(db, event.status_id)
            if parent is not None:
                pages.forget_statuses([parent])
    elif event.kind in (stream.STATUS_EDITED, stream.STATUS_REWRITTEN) and event.status_id:
        pages.forget_statuses([event.status_id])
    elif event.kind == stream.STATUS_DELETED and event.status_id:
        pages.forget_statuses([event.status_id], listings=True)
        if event.author_id:
            pages.forget_account(event.author_id)
    elif event.kind == stream.ACCOUNT_CHANGED and event.author_id:
        pages.forget_account(event.author_id)


async def _erasure_purge(services: Any, subject: Any) -> Any:
    """Erasure: this process forgets every page; others hear that the account
    changed (so they drop every page showing it) over the bus."""
    from roost.erasure.registry import PurgeResult

    pages = pages_for(services.db)
    dropped = len(pages)
    pages.clear()
    await services.bus.publish(
        stream.StreamEvent(stream.ACCOUNT_CHANGED, author_id=subject.account_id)
    )
    return PurgeResult(dropped, "every cached page dropped here; other processes told")


def install(db: Database) -> None:
    """In a process that serves pages (the app, on start): this process's own
    committed changes purge its pages at once, and erasure forgets them all
    (again is harmless)."""
    from roost.erasure.registry import purges, register_purge

    # Ahead of the listener that publishes on the bus: a post is noted as
    # purged for before its own event can come back over the bus.
    db.listeners.insert(0, page_cache_listener(db))
    if "web page cache" not in purges():
        register_purge("web page cache", _erasure_purge)
