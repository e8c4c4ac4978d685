"""The replies of another server's post, fetched from its ``replies``
collection when someone here reads its context, as Mastodon fetches them
(its FetchAllRepliesWorker).

``GET /api/v1/statuses/:id/context`` read by a signed-in person for a post
of another server that is public or unlisted queues one job
(``FetchReplies``, ``context_read``), at most once an hour per post
(``status_replies_fetches``): the request only notes it, and never waits on
another server.

The job walks the collection breadth first:
- the post's Note is fetched again from its id (as the instance actor,
  through the one outbound client: roost/domain/federation/threads.py,
  ``fetch_guarded``), and its ``replies`` read: a ``Collection`` or
  ``OrderedCollection``, embedded or by its address, its ``first`` page and
  the ``next`` pages after it (``items`` or ``orderedItems``), at most
  ``MAX_PAGES`` pages per collection. A collection or page fetched by its
  address must be on the Note's own server (after redirects): a server
  cannot make this one fetch pages of another;
- each reply listed is taken by its id only (an embedded copy is not
  trusted): one not here is fetched from its own server, and stored, by
  the code that stores a received Create, only when it is public or
  unlisted and replies to the post whose collection named it;
- replies here already, or stored now, are walked in turn, down to
  ``ROOST_FEDERATION_THREAD_DEPTH`` levels below the post; the walk takes
  ``ROOST_FEDERATION_REPLIES_LIMIT`` (40) replies at most, all levels
  counted, and each post once (a collection naming a post above it ends
  there: no loop).

Servers suspended here (or not allowed in the allow-list mode), and those
failing or marked unavailable (their delivery state, hosts.py), are not
asked: their replies are skipped. A fetch that fails is not retried; the
next read of the context after the hour asks again.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, or_, select, update

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.fastread import Prepared
from roost.db.tables import status_replies_fetches, statuses
from roost.db.types import Id
from roost.domain.federation import hosts
from roost.domain.federation._upsert import insert_absent
from roost.domain.federation.delivery import places
from roost.domain.federation.jobs import FetchReplies
from roost.domain.federation.notes import post_of
from roost.domain.federation.remote import ACCEPT, RemoteRefused, _get_json_at, refuse_suspended
from roost.domain.federation.threads import fetch_guarded, store_fetched
from roost.domain.jobs import JobContext
from roost.domain.types import Viewer
from roost.jobs.outbox import enqueue
from roost.jobs.registry import handles
from roost.visibility import Visibility

log = logging.getLogger("roost.federation")

# A post's replies are asked of its server at most this often.
INTERVAL = timedelta(hours=1)

# The post's address, visibility and boost, and when its replies were last
# walked (roost/db/fastread.py).
_WALKED = Prepared(
    lambda: (
        select(
            statuses.c.uri,
            statuses.c.visibility,
            statuses.c.reblog_of_id,
            status_replies_fetches.c.fetched_at,
        )
        .select_from(statuses.outerjoin(status_replies_fetches))
        .where(statuses.c.id == bindparam("status_id", type_=Id))
    )
)
# Pages of one collection read at most (its first page included).
MAX_PAGES = 5


async def context_read(db: Database, settings: Settings, viewer: Viewer, status_id: int) -> None:
    """Someone read the context of ``status_id``: queue the walk of its
    replies when it is another server's public or unlisted post, the reader
    is signed in (as Mastodon asks), and it was not walked within the hour.
    Only notes it: nothing is fetched here."""
    if viewer.anonymous or not settings.federation:
        return
    if settings.federation_replies_limit <= 0 or settings.federation_thread_depth <= 0:
        return
    cutoff = utcnow() - INTERVAL
    # A prepared read: the context of a local post, the common case, costs
    # one indexed lookup and no connection of SQLAlchemy's.
    found = await db.fast.all(_WALKED, status_id=status_id)
    if not found:
        return
    uri, visibility, reblog_of_id, fetched_at = found[0]
    if uri is None or reblog_of_id is not None:
        return  # a local post's replies come to it; a boost has none
    if not Visibility(visibility).listed:
        return
    if fetched_at is not None and fetched_at > cutoff:
        return
    now = utcnow()
    async with db.write() as tx:
        taken = await tx.execute(
            insert_absent(tx, status_replies_fetches, status_replies_fetches.c.status_id).values(
                status_id=status_id, fetched_at=now
            )
        )
        if not taken.rowcount:
            # Noted before: taken again only when the hour is past (one of
            # two readers at once wins).
            taken = await tx.execute(
                update(status_replies_fetches)
                .where(
                    status_replies_fetches.c.status_id == status_id,
                    or_(
                        status_replies_fetches.c.fetched_at <= cutoff,
                        status_replies_fetches.c.fetched_at.is_(None),
                    ),
                )
                .values(fetched_at=now)
            )
        if taken.rowcount:
            await enqueue(tx, FetchReplies(status_id=status_id), max_attempts=1)


@dataclass
class _Post:
    """A post of the walk: its id here, its id (address), how far below the
    first post it is, and its Note when it was just fetched."""

    status_id: int
    uri: str
    level: int
    note: dict[str, Any] | None = None


def _item_id(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return str(item["id"])
    return None


def _same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


async def _page(ctx: JobContext, url: str, origin: str) -> dict[str, Any] | None:
    """A collection (or page) fetched from ``url``, on ``origin``'s server
    only; None when it cannot be had."""
    if not isinstance(url, str) or not _same_host(url, origin):
        return None
    host = hosts.host_of(url)
    try:
        await refuse_suspended(ctx.db, ctx.settings, url)
        seen = await hosts.gate(ctx.db, host)
        if seen.drop or seen.wait_s > 0:
            return None
        async with places.place(host):
            served, document = await _get_json_at(ctx.db, ctx.settings, url, ACCEPT)
    except RemoteRefused as refused:
        if refused.transient:
            await hosts.failed(ctx.db, ctx.settings, host)
        log.info("replies page not fetched: %s", refused)
        return None
    await hosts.succeeded(ctx.db, host, seen)
    if not _same_host(served, origin) or not isinstance(document, dict):
        return None
    return document


async def _listed(ctx: JobContext, note: dict[str, Any], room: int) -> list[str]:
    """The ids of the replies a Note's ``replies`` collection lists, ``room``
    at most."""
    origin = str(note["id"])
    collection: Any = note.get("replies")
    if isinstance(collection, str):
        collection = await _page(ctx, collection, origin)
    if isinstance(collection, dict) and not {"first", "items", "orderedItems"} & set(collection):
        # Embedded by its id only: fetched from its address.
        collection = await _page(ctx, str(collection.get("id")), origin)
    if not isinstance(collection, dict):
        return []
    page: Any = collection.get("first", collection)
    found: list[str] = []
    for _ in range(MAX_PAGES):
        if isinstance(page, str):
            page = await _page(ctx, page, origin)
        if not isinstance(page, dict):
            break
        items = page.get("orderedItems", page.get("items"))
        for item in items if isinstance(items, list) else []:
            uri = _item_id(item)
            if uri is not None and uri not in found:
                found.append(uri)
        if len(found) >= room:
            break
        following = page.get("next")
        if following is None or following == page.get("id"):
            break
        page = following
    return found[:room]


async def _fetched_reply(ctx: JobContext, uri: str) -> dict[str, Any] | None:
    try:
        async with places.place(hosts.host_of(uri)):
            return await fetch_guarded(ctx.db, ctx.settings, uri)
    except RemoteRefused as refused:
        log.info("reply not fetched: %s", refused)
        return None


@handles(FetchReplies)
async def fetch_replies(ctx: JobContext, job: FetchReplies) -> None:
    settings = ctx.settings
    if not settings.federation:
        return
    budget = settings.federation_replies_limit
    depth = settings.federation_thread_depth
    base = settings.base_url
    async with ctx.db.read() as conn:
        first = (
            await conn.execute(
                select(statuses.c.uri, statuses.c.visibility).where(statuses.c.id == job.status_id)
            )
        ).first()
    if first is None or first.uri is None or not Visibility(first.visibility).listed:
        return
    walked = {str(first.uri)}
    waiting: deque[_Post] = deque([_Post(job.status_id, str(first.uri), 0)])
    while waiting and budget > 0 and depth > 0:
        post = waiting.popleft()
        note = post.note or await _fetched_reply(ctx, post.uri)
        if note is None:
            continue
        for uri in await _listed(ctx, note, budget):
            if budget <= 0:
                break
            if uri in walked or _same_host(uri, base):
                continue  # each post once; this server's own need no fetch
            walked.add(uri)
            budget -= 1
            async with ctx.db.read() as conn:
                known = await post_of(conn, base, uri)
            below = post.level + 1
            if known is not None:
                if below < depth:
                    waiting.append(_Post(int(known.id), uri, below))
                continue
            reply = await _fetched_reply(ctx, uri)
            if reply is None or reply.get("inReplyTo") != post.uri:
                continue  # only a reply to the post whose collection named it
            try:
                stored = await store_fetched(ctx, reply, ancestors=0)
            except RemoteRefused as refused:
                log.info("reply not stored: %s", refused)
                continue
            if stored is not None and below < depth:
                waiting.append(_Post(stored, uri, below, reply))
