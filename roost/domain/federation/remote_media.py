"""Other servers' media files, cached here under a budget.

``fetch_file`` fetches a received post's attachment (``remote_url``)
through the one outbound client (its address guard, time limit, and the
media size limit of its kind), recognises it by its bytes, checks it
against the known-image lists (``origin="remote"``) and processes it as an
upload, before anything is stored; then the attachment is served from here.
The job that caches a received post's media (roost/domain/federation/
attached.py) and a request for a pruned file (roost/api/media_files.py) both
go through it, so the screening applies every time a file comes in.

The cached files count against ``ROOST_REMOTE_MEDIA_BUDGET`` (bytes of
originals; 0: no budget). ``prune`` (run periodically by
roost/domain/federation/upkeep.py, and by `roost media remote prune`)
removes the files, never the rows, of the least recently used remote media
(``remote_used_at``: fetched or served, noted at most hourly) until the
total is within the budget, and of those unused for
``ROOST_REMOTE_MEDIA_RETENTION_DAYS`` (0: kept whatever their age). A pruned
attachment keeps its addresses here (``remote_pruned_at`` says its file is
gone): the first request for it fetches it again from its server, which
answers ``GONE`` when that server no longer has it. Local media (no
``remote_url``) are never counted nor touched, and a file another row still
needs is not removed.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, or_, select, update

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import accounts, media_attachments, quarantined_media
from roost.domain.federation import uris
from roost.domain.federation.remote import policy_for
from roost.domain.known_images.screening import Upload
from roost.domain.media import actions as media_actions
from roost.domain.media import queries as media_queries
from roost.domain.media.jobs import ProcessMedia
from roost.domain.types import MediaAttachment
from roost.errors import Invalid
from roost.jobs.outbox import enqueue
from roost.keys.files import sealed_for
from roost.media.sniff import HEAD_BYTES, sniff
from roost.media.store import MediaStore
from roost.net.http import OutboundRefused, fetch

log = logging.getLogger("roost.federation")

# A served file's last use is written at most this often.
USE_NOTED_EVERY = timedelta(hours=1)
PRUNE_BATCH = 200


class Fetched(StrEnum):
    CACHED = "cached"  # stored here and ready
    PROCESSING = "processing"  # stored, a job prepares it (video, audio)
    GONE = "gone"  # its server answered 404 or 410
    UNREACHABLE = "unreachable"  # no answer, or 5xx, 408, 429
    REFUSED = "refused"  # not fetched or not kept (policy, type, size, list)


def _remote(media: MediaAttachment) -> bool:
    return media.remote_url is not None


async def fetch_file(
    db: Database, settings: Settings, store: MediaStore, media: MediaAttachment
) -> Fetched:
    """Fetch ``media``'s file from its server and store it (module docstring).
    Only an attachment still waiting for its file (state ``remote``) or whose
    file was pruned is written to."""
    url = media.remote_url
    if url is None or not settings.federation or not uris.peer_url_allowed(settings, url):
        return Fetched.REFUSED
    async with db.read() as conn:
        author = (
            await conn.execute(select(accounts.c.uri).where(accounts.c.id == media.account_id))
        ).scalar_one_or_none()
    for address in (url, author):
        policy = None if address is None else await policy_for(db, address, settings)
        if policy is not None and (policy.reject_media or policy.refused):
            return Fetched.REFUSED  # staff refuse its server's media
    limit = (
        settings.media_max_image_bytes if media.type == "image" else settings.media_max_video_bytes
    )
    try:
        fetched = await fetch(
            settings,
            url,
            accept="*/*",
            max_bytes=limit,
            allow_private=settings.federation_allow_insecure,
        )
    except (OutboundRefused, ValueError) as error:
        log.info("remote media %s not fetched: %s", media.id, error)
        return Fetched.UNREACHABLE
    if fetched.status != 200:
        log.info("remote media %s not fetched: answered %s", media.id, fetched.status)
        return Fetched.GONE if fetched.status in (404, 410) else Fetched.UNREACHABLE
    return await _keep(db, settings, store, media, fetched.body)


async def _keep(
    db: Database, settings: Settings, store: MediaStore, media: MediaAttachment, body: bytes
) -> Fetched:
    source = io.BytesIO(body)
    fmt = sniff(body[:HEAD_BYTES])
    if fmt is None:
        log.info("remote media %s: not a file this server takes", media.id)
        return Fetched.REFUSED
    try:
        media_actions.check_size(fmt, len(body), settings)
    except Invalid as error:
        log.info("remote media %s not kept: %s", media.id, error)
        return Fetched.REFUSED
    try:
        await media_actions.screen(db, settings, source, fmt, Upload(None, "remote"))
    except Invalid as error:
        if await _quarantined(db, body):
            # On a known-image list (quarantined by ``screen``): shown no
            # more, by any address.
            async with db.write() as tx:
                await tx.execute(
                    update(media_attachments)
                    .where(media_attachments.c.id == media.id)
                    .values(state="refused")
                )
        else:
            log.info("remote media %s not checked: %s", media.id, error)
        return Fetched.REFUSED
    try:
        prepared = await media_actions.prepare_upload(
            sealed_for(store, media.account_id), settings, source, len(body)
        )
    except (Invalid, RuntimeError, OSError, ValueError) as error:
        log.info("remote media %s not processed: %s", media.id, error)
        return Fetched.REFUSED
    meta = {**media.meta, **prepared.meta}
    waiting = or_(
        media_attachments.c.state == "remote", media_attachments.c.remote_pruned_at.is_not(None)
    )
    async with db.write() as tx:
        result = await tx.execute(
            update(media_attachments)
            .where(media_attachments.c.id == media.id, waiting)
            .values(
                type=prepared.type,
                state=prepared.state,
                content_type=prepared.content_type,
                file_key=prepared.file.key,
                file_size=prepared.file.size,
                preview_key=prepared.preview.key if prepared.preview else None,
                meta=meta,
                blurhash=media.blurhash or prepared.blurhash,
                remote_used_at=utcnow(),
                remote_pruned_at=None,
            )
        )
        if result.rowcount and prepared.state == "processing":
            await enqueue(tx, ProcessMedia(media.id))
    if not result.rowcount:
        await media_actions.discard_files(db, store, prepared.keys)
        return Fetched.REFUSED
    return Fetched.PROCESSING if prepared.state == "processing" else Fetched.CACHED


async def _quarantined(db: Database, body: bytes) -> bool:
    digest = hashlib.sha256(body).hexdigest()
    async with db.read() as conn:
        found = await conn.execute(
            select(quarantined_media.c.id)
            .where(quarantined_media.c.sha256 == digest, quarantined_media.c.origin == "remote")
            .limit(1)
        )
        return found.first() is not None


async def note_used(db: Database, media: MediaAttachment) -> None:
    """A cached remote file was served: its last use, at most hourly."""
    if not _remote(media):
        return
    now = utcnow()
    used = media.remote_used_at
    if used is not None and now - used < USE_NOTED_EVERY:
        return
    async with db.write() as tx:
        await tx.execute(
            update(media_attachments)
            .where(media_attachments.c.id == media.id)
            .values(remote_used_at=now)
        )


def _cached() -> list[ColumnElement[bool]]:
    """The remote attachments whose file is here now."""
    m = media_attachments.c
    return [
        m.remote_url.is_not(None),
        m.file_key != "",
        m.remote_pruned_at.is_(None),
        m.state.in_(("ready", "processing")),
    ]


@dataclass(frozen=True)
class Usage:
    files: int
    bytes: int
    pruned: int
    budget: int
    oldest_use: datetime | None


async def usage(db: Database, settings: Settings) -> Usage:
    m = media_attachments.c
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(m.file_size), 0),
                    func.min(func.coalesce(m.remote_used_at, m.created_at)),
                ).where(*_cached())
            )
        ).one()
        pruned = (
            await conn.execute(
                select(func.count()).where(
                    m.remote_url.is_not(None), m.remote_pruned_at.is_not(None)
                )
            )
        ).scalar_one()
    return Usage(int(row[0]), int(row[1]), int(pruned), settings.remote_media_budget, row[2])


@dataclass(frozen=True)
class Pruned:
    files: int
    bytes: int


async def prune(db: Database, settings: Settings, store: MediaStore) -> Pruned:
    """Remove the files of remote media over the budget (least recently used
    first) and of those unused past the retention; the rows stay."""
    m = media_attachments.c
    now = utcnow()
    used = func.coalesce(m.remote_used_at, m.created_at)
    total = (await usage(db, settings)).bytes
    budget = settings.remote_media_budget
    retention = settings.remote_media_retention_days
    cutoff = now - timedelta(days=retention) if retention > 0 else None
    files = freed = 0
    last: tuple[datetime, int] | None = None
    while True:
        query = select(m.id, m.file_key, m.preview_key, m.file_size, used.label("used"))
        query = query.where(*_cached())
        if last is not None:
            query = query.where(or_(used > last[0], (used == last[0]) & (m.id > last[1])))
        batch = await _rows(db, query.order_by(used, m.id).limit(PRUNE_BATCH))
        if not batch:
            break
        for row in batch:
            last = (row.used, int(row.id))
            stale = cutoff is not None and row.used < cutoff
            # In order of last use: once one is neither stale nor over the
            # budget, no later one is (the total only goes down).
            if not stale and not (budget > 0 and total > budget):
                return Pruned(files, freed)
            if await _prune_one(db, store, int(row.id), [row.file_key, row.preview_key]):
                files += 1
                freed += int(row.file_size)
                total -= int(row.file_size)
    return Pruned(files, freed)


async def _rows(db: Database, query: Select[Any]) -> list[Row[Any]]:
    async with db.read() as conn:
        return list(await conn.execute(query))


async def _prune_one(
    db: Database, store: MediaStore, media_id: int, keys: list[str | None]
) -> bool:
    """Mark the attachment pruned, then remove its files unless another row
    (local media, a profile image, a card, a remote file still cached) names
    them."""
    async with db.write() as tx:
        marked = await tx.execute(
            update(media_attachments)
            .where(media_attachments.c.id == media_id, *_cached())
            .values(remote_pruned_at=utcnow())
        )
    if not marked.rowcount:
        return False
    wanted = [k for k in keys if k]
    async with db.read() as conn:
        needed = await media_queries.referenced_keys(conn, wanted, except_pruned=True)
    for key in set(wanted) - needed:
        await store.delete(key)
    return True
