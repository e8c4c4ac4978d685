"""Every file that enters is checked against the known-image lists before it
is stored anywhere it could be fetched from.

``screen_image`` (images: PDQ within ``ROOST_KNOWN_IMAGES_MAX_DISTANCE`` bits,
all eight rotations and mirror images, and exact SHA-256) and ``screen_file``
(video, audio: exact SHA-256) return quietly when nothing matches. On a match
the file is quarantined (roost/domain/known_images/quarantine.py: sealed,
reported, audited) and ``refusal()`` is raised: a plain 422 saying no more than
any unreadable file does, so the uploader learns nothing of lists or matches.

Callers: media uploads (API, web, Twitter import) and profile images in
roost/domain/media/actions.py, custom emoji in roost/domain/emojis/actions.py.
Remote media fetched by federation calls ``screen_image``/``screen_file``
with ``origin="remote"`` and no account, before storing the file.

The PDQ hashes of every list are loaded once per process into a
``HashIndex`` and reloaded when a list's ``generation`` changes (one small
query per image checks that); SHA-256 lookups are one indexed query.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import IO

from sqlalchemy import select

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import known_image_hashes, known_image_lists
from roost.domain.known_images.quarantine import Match, Refused, quarantine
from roost.errors import RuleBroken
from roost.media import images, pdq
from roost.media.sniff import Format

ORIGINS = ("media", "avatar", "header", "emoji", "import", "remote")
_SPOOL = 1024 * 1024


def refusal() -> RuleBroken:
    """The answer to a refused known image: what a damaged file gets too."""
    return RuleBroken("the file could not be processed")


@dataclass(frozen=True)
class Upload:
    """Who sends the file (None for remote media and the console) and how."""

    account_id: int | None
    origin: str


@dataclass
class _Loaded:
    key: tuple[tuple[int, int], ...]
    index: pdq.HashIndex
    entries: list[tuple[str, str | None]]


# Two uploads meeting a stale copy at once may both reload it: harmless.
_loaded: _Loaded | None = None


async def _pdq_index(db: Database) -> _Loaded:
    global _loaded
    async with db.read() as conn:
        key = tuple(
            (r.id, r.generation)
            for r in await conn.execute(
                select(known_image_lists.c.id, known_image_lists.c.generation)
                .where(known_image_lists.c.kind == "pdq")
                .order_by(known_image_lists.c.id)
            )
        )
    if _loaded is not None and _loaded.key == key:
        return _loaded
    async with db.read() as conn:
        rows = (
            await conn.execute(
                select(
                    known_image_lists.c.name, known_image_hashes.c.hash, known_image_hashes.c.label
                )
                .join(known_image_lists, known_image_lists.c.id == known_image_hashes.c.list_id)
                .where(known_image_lists.c.kind == "pdq")
            )
        ).all()
    index = await asyncio.to_thread(pdq.HashIndex, [bytes.fromhex(r.hash) for r in rows])
    _loaded = _Loaded(key, index, [(r.name, r.label) for r in rows])
    return _loaded


async def _exact(db: Database, digest: str) -> Match | None:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(known_image_lists.c.name, known_image_hashes.c.label)
                .join(known_image_lists, known_image_lists.c.id == known_image_hashes.c.list_id)
                .where(known_image_hashes.c.hash == digest, known_image_lists.c.kind == "sha256")
                .limit(1)
            )
        ).first()
    return None if row is None else Match(row.name, row.label, 0)


async def find_image_match(
    db: Database, settings: Settings, data: bytes, fmt: Format
) -> tuple[str, Match | None]:
    """(SHA-256 of the bytes, the list entry they match or None)."""
    digest = hashlib.sha256(data).hexdigest()
    exact = await _exact(db, digest)
    if exact is not None:
        return digest, exact
    loaded = await _pdq_index(db)
    if loaded.index.size == 0:
        return digest, None
    limits = images.ImageLimits(
        max_dimension=settings.media_image_max_dimension,
        max_pixels=settings.media_max_image_pixels,
    )
    hashed = await asyncio.to_thread(pdq.hash_image, data, fmt, limits)
    if hashed.quality < pdq.MIN_QUALITY:
        return digest, None
    nearest = loaded.index.nearest(hashed, settings.known_images_max_distance)
    if nearest is None:
        return digest, None
    name, label = loaded.entries[nearest.index]
    return digest, Match(name, label, nearest.distance)


async def screen_image(
    db: Database, settings: Settings, data: bytes, fmt: Format, upload: Upload
) -> None:
    """Return when the image matches no list; otherwise quarantine it and
    raise ``refusal()``. Invalid too for an image too damaged or large to hash."""
    digest, match = await find_image_match(db, settings, data, fmt)
    if match is not None:
        await quarantine(
            db, Refused(upload.account_id, upload.origin, fmt.mime, data, digest), match
        )
        raise refusal()


def _digest(source: IO[bytes]) -> str:
    start = source.tell()
    digest = hashlib.sha256()
    while chunk := source.read(_SPOOL):
        digest.update(chunk)
    source.seek(start)
    return digest.hexdigest()


async def screen_file(db: Database, source: IO[bytes], fmt: Format, upload: Upload) -> None:
    """Video and audio: return when the file's SHA-256 is on no list (the
    stream is left where it was); otherwise quarantine it and raise ``refusal()``."""
    digest = await asyncio.to_thread(_digest, source)
    match = await _exact(db, digest)
    if match is None:
        return
    start = source.tell()
    data = await asyncio.to_thread(source.read)
    source.seek(start)
    await quarantine(db, Refused(upload.account_id, upload.origin, fmt.mime, data, digest), match)
    raise refusal()
