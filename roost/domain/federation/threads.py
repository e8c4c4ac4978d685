"""Posts of other servers fetched by their address: a post someone here looks
up (``search?resolve=true`` with its URL), and the posts above a received
reply (its thread's ancestors).

Each is fetched through the one outbound client, signed by the instance
actor (roost/domain/federation/remote.py, ``fetch_note_at``): its server
answers as to anyone who follows nobody there, so only public and unlisted
posts are taken from a fetch (a followers-only or direct Note served
anyway is not stored). What is taken is stored by the code that stores a
received Create (roost/domain/federation/notes.py, ``receive_create``), and
read, as every post, through the privacy policy.

Ancestors: a note stored here that replies to a post not here leaves a job
(``FetchAncestors``, queued in the transaction that stored the note, never
run inside the inbox request) that fetches the parent, stores it and links
the reply to it; the parent, when it replies to a post not here either,
leaves the next job, with one ancestor less to go: at most
``ROOST_FEDERATION_THREAD_DEPTH`` (5) above the first note. A fetch that
fails for good (refused, gone, not a Note), a post that is not public or
unlisted, or a link that would close a loop (a post above itself) ends the
walk quietly. A server that does not answer now (a timeout, a 5xx, backing
off after one) is asked again up to 4 times, 3 to 24 s apart, by a new job:
under load a peer's slow moment must not cut a thread short for good.

The fetches share each server's delivery state (roost/domain/federation/
hosts.py): a server that failed recently, or is marked unavailable, is not
asked at all; a fetch it does not answer counts as a failure of its, an
answer clears it. A job holds one of the server's places of this process
(delivery.py), so a slow server never has more than 4 requests in flight.

Quoted posts: a received post quoting a post not here leaves ``FetchQuoted``
(roost/domain/federation/quoted.py), which fetches it the same way (public
and unlisted only, asked again as an ancestor is) and settles the quote.
A received quote of another server's post naming a ``quoteAuthorization``
leaves ``VerifyQuote``, which fetches the authorization the same way (only
from the quoted author's server, under its own id, asked again when its
server does not answer now) and makes the quote accepted when it names the
quoting and the quoted post and is the quoted author's, else rejected.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import statuses
from roost.domain.events import StatusRewritten
from roost.domain.federation import hosts, quoted
from roost.domain.federation.delivery import places
from roost.domain.federation.jobs import (
    FetchAncestors,
    FetchQuoted,
    VerifyQuote,
    asked_again_at,
)
from roost.domain.federation.notes import post_of, receive_create, visibility_of
from roost.domain.federation.remote import (
    RemoteRefused,
    account_for_uri,
    fetch_authorization,
    fetch_note_at,
    refuse_suspended,
)
from roost.domain.jobs import JobContext
from roost.jobs.outbox import enqueue
from roost.jobs.registry import handles

log = logging.getLogger("roost.federation")

# How far up a thread a loop is looked for before a reply is linked (the
# thread's reads go no higher, roost/domain/statuses/thread.py).
MAX_WALK = 40
# How often an ancestor whose server did not answer is asked for again (3, 6,
# 12 and 24 s later) before the walk ends quietly.
ANCESTOR_TRIES = 4
Fetcher = Callable[[Database, Settings, str], Awaitable[dict[str, Any]]]
_URL = re.compile(r"https?://[^\s]{1,2040}")


async def fetch_guarded(
    db: Database, settings: Settings, url: str, fetcher: Fetcher | None = None
) -> dict[str, Any]:
    """The Note at ``url`` (``fetch_note_at``, or the document ``fetcher``
    fetches), asked only of a server that
    is neither suspended here nor failing (its delivery state); a fetch it
    does not answer is counted as its failure, an answer clears it."""
    await refuse_suspended(db, settings, url)
    host = hosts.host_of(url)
    seen = await hosts.gate(db, host)
    if seen.drop:
        raise RemoteRefused("That server is unavailable")
    if seen.wait_s > 0:
        raise RemoteRefused("That server failed recently", transient=True)
    try:
        note = await (fetcher or fetch_note_at)(db, settings, url)
    except RemoteRefused as refused:
        if refused.transient:
            await hosts.failed(db, settings, host)
        raise
    await hosts.succeeded(db, host, seen)
    return note


async def store_fetched(
    ctx: JobContext, note: dict[str, Any], *, ancestors: int | None
) -> int | None:
    """The id here of a fetched Note: the stored one, else the Note stored
    now when it is public or unlisted (as a received Create is stored);
    None otherwise. RemoteRefused when its author cannot be had."""
    base = ctx.settings.base_url
    async with ctx.db.read() as conn:
        found = await post_of(conn, base, note["id"])
    if found is not None:
        return int(found.id)
    # Only what its server shows to anyone is stored from a fetch.
    shown = visibility_of(note, None)
    if shown is None or not shown.listed:
        return None  # not for anyone: never kept from a fetch
    author = str(note["attributedTo"])
    author_id = await account_for_uri(ctx.db, ctx.settings, author)
    await receive_create(ctx, author_id, author, note, wanted=True, ancestors=ancestors)
    async with ctx.db.read() as conn:
        stored = await post_of(conn, base, note["id"])
    return None if stored is None else int(stored.id)


def _local_address(base: str, url: str) -> str | None:
    """A local post's id (``BASE/users/NAME/statuses/ID``) for either of its
    addresses (that one, or its page ``BASE/@NAME/ID``); None for an
    address of another server."""
    parts = urlsplit(url)
    if parts.netloc.lower() != urlsplit(base).netloc.lower():
        return None
    page = re.fullmatch(r"/@([A-Za-z0-9_]+)/([0-9]{1,19})/?", parts.path)
    if page is not None:
        return f"{base}/users/{page.group(1)}/statuses/{page.group(2)}"
    return f"{base}{parts.path.rstrip('/')}"


async def resolve_status(ctx: JobContext, url: str) -> int | None:
    """The post an address names, for ``search?resolve=true``: a local post
    by either of its addresses, another server's stored one by its id, else
    fetched from its server and stored when public or unlisted (federation
    on). None when there is none to be had. Whether the viewer may see it
    is the privacy policy's to say, as for any post."""
    url = url.strip()
    if not _URL.fullmatch(url):
        return None
    base = ctx.settings.base_url
    local = _local_address(base, url)
    async with ctx.db.read() as conn:
        found = await post_of(conn, base, local if local is not None else url)
        if found is not None:
            boost = (
                await conn.execute(select(statuses.c.reblog_of_id).where(statuses.c.id == found.id))
            ).scalar_one_or_none()
            # A boost's address (an Announce's id) names no post of its own.
            return int(found.id) if boost is None else None
    if local is not None or not ctx.settings.federation:
        return None
    try:
        note = await fetch_guarded(ctx.db, ctx.settings, url)
        return await store_fetched(ctx, note, ancestors=None)
    except RemoteRefused as refused:
        log.info("post not resolved: %s", refused)
        return None


async def _closes_loop(ctx: JobContext, reply_id: int, parent_id: int) -> bool:
    """Whether ``reply_id`` is ``parent_id`` or above it already."""
    node: int | None = parent_id
    async with ctx.db.read() as conn:
        for _ in range(MAX_WALK + 1):
            if node is None:
                return False
            if node == reply_id:
                return True
            node = (
                await conn.execute(select(statuses.c.in_reply_to_id).where(statuses.c.id == node))
            ).scalar_one_or_none()
    return False


async def link_reply(ctx: JobContext, reply_id: int, parent_id: int) -> bool:
    """Make the stored post ``reply_id`` (linked to nothing yet) a reply to
    ``parent_id``; False when that would close a loop."""
    if await _closes_loop(ctx, reply_id, parent_id):
        log.info("thread loop left open", extra={"status_id": reply_id})
        return False
    async with ctx.db.write() as tx:
        parent_author = (
            await tx.execute(select(statuses.c.account_id).where(statuses.c.id == parent_id))
        ).scalar_one_or_none()
        if parent_author is None:
            return False
        linked = await tx.execute(
            update(statuses)
            .where(statuses.c.id == reply_id, statuses.c.in_reply_to_id.is_(None))
            .values(in_reply_to_id=parent_id, in_reply_to_account_id=parent_author)
        )
        if not linked.rowcount:
            return False
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == parent_id)
            .values(replies_count=statuses.c.replies_count + 1)
        )
        # No cache may keep the reply without its parent.
        tx.emit(StatusRewritten(reply_id))
    return True


async def _asked_again(
    ctx: JobContext, job: FetchAncestors | FetchQuoted | VerifyQuote, refused: RemoteRefused
) -> bool:
    """Queue ``job`` once more, later, when its server did not answer now
    (load, a restart, backing off: not gone) and it has tries left; whether
    it was."""
    if not refused.transient or job.tries >= ANCESTOR_TRIES:
        return False
    async with ctx.db.write() as tx:
        await enqueue(tx, replace(job, tries=job.tries + 1), run_at=asked_again_at(job.tries))
    return True


@handles(FetchAncestors)
async def fetch_ancestors(ctx: JobContext, job: FetchAncestors) -> None:
    if not ctx.settings.federation or job.depth <= 0:
        return
    base = ctx.settings.base_url
    async with ctx.db.read() as conn:
        reply = (
            await conn.execute(
                select(statuses.c.in_reply_to_id).where(statuses.c.id == job.status_id)
            )
        ).first()
        parent = await post_of(conn, base, job.parent_uri)
    if reply is None or reply.in_reply_to_id is not None:
        return  # deleted, or linked meanwhile
    if parent is not None:
        await link_reply(ctx, job.status_id, int(parent.id))
        return
    try:
        async with places.place(hosts.host_of(job.parent_uri)):
            note = await fetch_guarded(ctx.db, ctx.settings, job.parent_uri)
        parent_id = await store_fetched(ctx, note, ancestors=job.depth - 1)
    except RemoteRefused as refused:
        if await _asked_again(ctx, job, refused):
            log.info("ancestor fetch deferred: %s", refused, extra={"status_id": job.status_id})
            return
        log.info("ancestor not fetched: %s", refused, extra={"status_id": job.status_id})
        return
    if parent_id is not None:
        await link_reply(ctx, job.status_id, parent_id)


@handles(FetchQuoted)
async def fetch_quoted(ctx: JobContext, job: FetchQuoted) -> None:
    if not ctx.settings.federation:
        return
    async with ctx.db.read() as conn:
        found = await post_of(conn, ctx.settings.base_url, job.quoted_uri)
    try:
        if found is not None:
            quoted_id: int | None = int(found.id)
        else:
            async with places.place(hosts.host_of(job.quoted_uri)):
                note = await fetch_guarded(ctx.db, ctx.settings, job.quoted_uri)
            quoted_id = await store_fetched(ctx, note, ancestors=0)
    except RemoteRefused as refused:
        if await _asked_again(ctx, job, refused):
            return
        log.info("quoted post not fetched: %s", refused, extra={"status_id": job.status_id})
        return
    if quoted_id is None:
        return
    async with ctx.db.write() as tx:
        if await quoted.settle(tx, job.status_id, quoted_id):
            tx.emit(StatusRewritten(job.status_id))


@handles(VerifyQuote)
async def verify_quote(ctx: JobContext, job: VerifyQuote) -> None:
    if not ctx.settings.federation:
        return
    async with ctx.db.read() as conn:
        quote = await quoted.to_verify(conn, job.status_id)
    if quote is None:
        return  # checked meanwhile, revoked, or its post gone
    stamp = str(quote.authorization_uri)
    holds = False
    # Only the quoted author's server may authorize: nothing else is asked.
    if hosts.host_of(stamp) == hosts.host_of(str(quote.author_uri)):
        try:
            async with places.place(hosts.host_of(stamp)):
                document = await fetch_guarded(ctx.db, ctx.settings, stamp, fetch_authorization)
        except RemoteRefused as refused:
            if await _asked_again(ctx, job, refused):
                return
            log.info("quote authorization not had: %s", refused, extra={"status_id": job.status_id})
        else:
            holds = quoted.authorizes(document, quote)
    async with ctx.db.write() as tx:
        if await quoted.verified(tx, job.status_id, stamp, holds):
            tx.emit(StatusRewritten(job.status_id))
