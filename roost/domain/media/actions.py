"""Every change to media: uploads, alt text and focus, attaching to posts,
profile images, and removing what nothing uses any more.

An upload is checked and processed *before* its transaction (decoding images
is slow CPU work, and must not hold the database's write lock), its files are
stored, and then one transaction writes its row and the jobs it implies. If
anything fails after the files were stored, they are removed again: a refused
upload leaves nothing behind. Before any of that, every file (uploads and
profile images alike) is checked against the known-image lists (``screen``):
a match is quarantined and refused, and never reaches the store.

Files are shared by content (roost/media/store.py), so a file is deleted only
when no row names it any more (``discard_files``).

Above 500 lines: every path by which a file enters or leaves the media store
is here, so that ``discard_files`` and the removal after a failed upload are
the only deletions of stored files, next to every write that stores one.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, or_, select, update

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.db.tables import accounts, media_attachments
from roost.domain.events import AccountChanged
from roost.domain.known_images.screening import Upload, screen_file, screen_image
from roost.domain.media import queries
from roost.domain.media.jobs import DiscardMediaFiles, ProcessMedia, SweepMedia
from roost.domain.types import MediaAttachment, Viewer
from roost.errors import Invalid, NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.keys.files import plain_copy, sealed_for
from roost.keys.ring import seal_optional
from roost.media import av, images
from roost.media.sniff import HEAD_BYTES, PNG, SUPPORTED, Format, Kind, sniff
from roost.media.store import MediaStore, StoredFile

log = logging.getLogger("roost.media")

MAX_ATTACHMENTS = 4
MAX_DESCRIPTION = 1500
# An upload no post has taken (or a deleted post let go of) is kept this long,
# for the post being written or redrafted, then removed with its files.
UNATTACHED_LIFETIME = timedelta(hours=24)
PROFILE_ROLES = {"avatar": images.AVATAR_BOX, "header": images.HEADER_BOX}


@dataclass(frozen=True)
class Prepared:
    """A checked, processed and stored upload, not yet written to the database."""

    type: str
    state: str
    content_type: str
    file: StoredFile
    preview: StoredFile | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    blurhash: str | None = None

    @property
    def keys(self) -> list[str]:
        return [self.file.key] + ([self.preview.key] if self.preview else [])


def image_limits(settings: Settings) -> images.ImageLimits:
    return images.ImageLimits(
        max_dimension=settings.media_image_max_dimension,
        max_pixels=settings.media_max_image_pixels,
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def check_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise RuleBroken(f"Description is too long (maximum is {MAX_DESCRIPTION} characters)")


def parse_focus(raw: str | None) -> tuple[float, float] | None:
    """Mastodon's focal point, "x,y" with both in [-1, 1]; None when not given."""
    if raw is None or not raw.strip():
        return None
    parts = raw.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise RuleBroken("focus must be two numbers, as in 0.5,-0.25") from None
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (x, y)):
        raise RuleBroken("focus coordinates must lie between -1.0 and 1.0")
    return x, y


def _recognise(source: IO[bytes]) -> Format:
    source.seek(0)
    fmt = sniff(source.read(HEAD_BYTES))
    source.seek(0)
    if fmt is None:
        names = ", ".join(f.extension.upper() for f in SUPPORTED)
        raise RuleBroken(
            "the file is not an image, video or audio file this server "
            f"accepts ({names}); its name and declared type are not what counts"
        )
    return fmt


def check_size(fmt: Format, size: int, settings: Settings) -> None:
    limit = (
        settings.media_max_image_bytes if fmt.kind == Kind.IMAGE else settings.media_max_video_bytes
    )
    if size > limit:
        raise RuleBroken(
            f"the file is {_megabytes(size)}; "
            f"{fmt.kind.value} files may be at most {_megabytes(limit)}"
        )


def _size_meta(width: int, height: int) -> dict[str, Any]:
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}


async def prepare_upload(
    store: MediaStore, settings: Settings, source: IO[bytes], size: int
) -> Prepared:
    """Recognise, check and process an upload, and store its files.

    Invalid (422) when the file is not a supported format, not what its first
    bytes claim, too large, or a decompression bomb; nothing is stored then.
    """
    fmt = _recognise(source)
    check_size(fmt, size, settings)
    if fmt.kind == Kind.IMAGE:
        data = await asyncio.to_thread(source.read)
        check_size(fmt, len(data), settings)
        done = await asyncio.to_thread(images.process_image, data, fmt, image_limits(settings))
        original = await store.put(done.original.data, done.original.format.extension)
        try:
            small = await store.put(done.small.data, done.small.format.extension)
        except BaseException:
            await store.delete(original.key)
            raise
        meta = {
            "original": _size_meta(done.original.width, done.original.height),
            "small": _size_meta(done.small.width, done.small.height),
            **done.extra,
        }
        return Prepared(
            "image", "ready", done.original.format.mime, original, small, meta, done.blurhash
        )
    refined = await asyncio.to_thread(av.strip_metadata, source, fmt)
    stored = await store.put_stream(source, refined.extension)
    kind = "video" if refined.kind == Kind.VIDEO else "audio"
    return Prepared(kind, "processing", refined.mime, stored)


async def screen(
    db: Database, settings: Settings, source: IO[bytes], fmt: Format, upload: Upload
) -> None:
    """Check the file against the known-image lists before anything stores it
    (roost/domain/known_images/screening.py); the stream is left at its start."""
    if fmt.kind == Kind.IMAGE:
        source.seek(0)
        data = await asyncio.to_thread(source.read)
        source.seek(0)
        await screen_image(db, settings, data, fmt, upload)
    else:
        await screen_file(db, source, fmt, upload)


async def do_create_media(
    tx: Tx,
    viewer: Viewer,
    prepared: Prepared,
    *,
    description: str | None,
    focus: tuple[float, float] | None,
    process_later: bool,
) -> int:
    """Write the attachment; video and audio get a processing job when ``process_later``."""
    assert viewer.account_id is not None
    check_description(description)
    now = utcnow()
    media_id = new_id()
    expires_at = now + UNATTACHED_LIFETIME
    await tx.execute(
        media_attachments.insert().values(
            id=media_id,
            account_id=viewer.account_id,
            status_id=None,
            position=0,
            type=prepared.type,
            state=prepared.state,
            content_type=prepared.content_type,
            file_key=prepared.file.key,
            file_size=prepared.file.size,
            preview_key=prepared.preview.key if prepared.preview else None,
            meta=prepared.meta,
            description=seal_optional(viewer.account_id, description or None),
            blurhash=prepared.blurhash,
            focus_x=focus[0] if focus else None,
            focus_y=focus[1] if focus else None,
            expires_at=expires_at,
            created_at=now,
        )
    )
    await enqueue(tx, SweepMedia(), run_at=expires_at + timedelta(minutes=1))
    if prepared.state == "processing" and process_later:
        await enqueue(tx, ProcessMedia(media_id))
    return media_id


async def create_media(
    db: Database,
    store: MediaStore,
    settings: Settings,
    viewer: Viewer,
    source: IO[bytes],
    size: int,
    *,
    description: str | None,
    focus: str | None,
    process_later: bool,
    origin: str = "media",
) -> int:
    """The whole upload: check, process, store, write; nothing left behind on failure."""
    check_description(description)
    focal_point = parse_focus(focus)
    assert viewer.account_id is not None
    fmt = _recognise(source)
    check_size(fmt, size, settings)
    await screen(db, settings, source, fmt, Upload(viewer.account_id, origin))
    # The files are sealed under the uploader's key (roost/keys/files.py).
    prepared = await prepare_upload(sealed_for(store, viewer.account_id), settings, source, size)
    try:
        async with db.write() as tx:
            media_id = await do_create_media(
                tx,
                viewer,
                prepared,
                description=description,
                focus=focal_point,
                process_later=process_later,
            )
    except BaseException:
        await discard_files(db, store, prepared.keys)
        raise
    if prepared.state == "processing" and not process_later:
        await finish_processing(db, store, settings, media_id)
    return media_id


async def finish_processing(
    db: Database, store: MediaStore, settings: Settings, media_id: int
) -> None:
    """Make a video or audio upload ready: with ffmpeg, remux it without metadata
    and add a poster frame, blurhash and duration; without, simply mark it ready.

    An ffmpeg failure is logged and the file is shown as uploaded: a missing
    preview must not lose the post's video. Safe to run twice.
    """
    async with db.read() as conn:
        media = await queries.attachment(conn, media_id)
    if media is None or media.ready:
        return
    values: dict[str, Any] = {"state": "ready"}
    tools = av.find_tools(settings.media_ffmpeg)
    source = await store.local_copy(media.file_key)
    store = sealed_for(store, media.account_id)
    if tools is not None and source is not None:
        try:
            # ffmpeg reads a plain copy of the sealed upload, removed afterwards.
            with plain_copy(source) as plain:
                # Fills ``values`` step by step: what succeeded before a failure is kept.
                await _with_ffmpeg(tools, store, settings, media.content_type, plain, values)
        except (RuntimeError, OSError, ValueError, Invalid) as error:
            log.warning("media %s: ffmpeg processing failed, kept as uploaded: %s", media_id, error)
    new_keys = [values[k] for k in ("file_key", "preview_key") if k in values]
    async with db.write() as tx:
        result = await tx.execute(
            update(media_attachments)
            .where(media_attachments.c.id == media_id, media_attachments.c.state == "processing")
            .values(**values)
        )
    if result.rowcount == 0:
        await discard_files(db, store, new_keys)  # deleted (or finished) meanwhile
    elif "file_key" in values:
        await discard_files(db, store, [media.file_key])


async def _with_ffmpeg(
    tools: av.Tools,
    store: MediaStore,
    settings: Settings,
    content_type: str,
    source: Any,
    values: dict[str, Any],
) -> None:
    fmt = next(f for f in SUPPORTED if f.mime == content_type)
    with await av.remux_without_metadata(tools, source, fmt) as remuxed:
        stored = await store.put_stream(remuxed, fmt.extension)
        values.update(file_key=stored.key, file_size=stored.size)
        # The stored file is sealed: ffmpeg reads the plain remux while it lasts.
        await _probe_and_preview(tools, store, settings, fmt, Path(remuxed.name), values)


async def _probe_and_preview(
    tools: av.Tools,
    store: MediaStore,
    settings: Settings,
    fmt: Format,
    path: Path,
    values: dict[str, Any],
) -> None:
    meta = await av.probe(tools, path)
    values["meta"] = meta
    if fmt.kind == Kind.VIDEO:
        poster = await av.poster_frame(tools, path)
        if poster:
            done = await asyncio.to_thread(
                images.process_image, poster, PNG, image_limits(settings)
            )
            preview = await store.put(done.small.data, done.small.format.extension)
            values.update(preview_key=preview.key, blurhash=done.blurhash)
            meta["small"] = _size_meta(done.small.width, done.small.height)


async def do_update_media(
    tx: Tx,
    viewer: Viewer,
    media_id: int,
    *,
    description: str | None,
    focus: tuple[float, float] | None,
) -> None:
    """Alt text and focal point of an upload not yet posted (as Mastodon allows)."""
    check_description(description)
    await queries.own_unattached(tx.conn, viewer, media_id)
    assert viewer.account_id is not None
    values: dict[str, Any] = {}
    if description is not None:
        values["description"] = seal_optional(viewer.account_id, description or None)
    if focus is not None:
        values.update(focus_x=focus[0], focus_y=focus[1])
    if values:
        await tx.execute(
            update(media_attachments).where(media_attachments.c.id == media_id).values(**values)
        )


async def delete_media(db: Database, store: MediaStore, viewer: Viewer, media_id: int) -> None:
    """Delete an upload no post holds, and its files unless something else uses them."""
    async with db.write() as tx:
        media = await queries.own_unattached(tx.conn, viewer, media_id)
        await tx.execute(delete(media_attachments).where(media_attachments.c.id == media_id))
    await discard_files(db, store, [k for k in (media.file_key, media.preview_key) if k])


async def do_attach_media(
    tx: Tx, account_id: int, status_id: int, media_ids: list[int]
) -> list[MediaAttachment]:
    """Give a post its media, in this order; any others it held are let go.
    Returns them, attached, in that order.

    Invalid (422) for more than four, for an id that is not the author's own
    upload (or is another post's), and for media still processing.
    """
    wanted = list(dict.fromkeys(media_ids))
    if len(wanted) > MAX_ATTACHMENTS:
        raise RuleBroken(f"a post can have at most {MAX_ATTACHMENTS} media attachments")
    rows = {}
    if wanted:
        result = await tx.execute(
            select(media_attachments).where(
                media_attachments.c.id.in_(wanted), media_attachments.c.account_id == account_id
            )
        )
        rows = {row.id: row for row in result.mappings()}
    for media_id in wanted:
        row = rows.get(media_id)
        if (
            row is None
            or row["status_id"] not in (None, status_id)
            or row["kept_for_status_id"] not in (None, status_id)
        ):
            # Another post's, or kept for another post's edit history.
            raise RuleBroken(f"media attachment {media_id} is not yours to attach")
        if row["state"] != "ready":
            raise RuleBroken(
                f"media attachment {media_id} has not finished processing; try again in a moment"
            )
    await _retire_media(tx, status_id, keep=wanted)
    for position, media_id in enumerate(wanted):
        await tx.execute(
            update(media_attachments)
            .where(media_attachments.c.id == media_id)
            .values(
                status_id=status_id, position=position, expires_at=None, kept_for_status_id=None
            )
        )
    return [replace(MediaAttachment.from_row(rows[i]), status_id=status_id) for i in wanted]


async def _retire_media(tx: Tx, status_id: int, keep: list[int]) -> None:
    """Media an edit takes off a post stay, kept for the post's edit history
    (its earlier versions show them, as on Mastodon) until the post goes."""
    query = update(media_attachments).where(media_attachments.c.status_id == status_id)
    if keep:
        query = query.where(media_attachments.c.id.not_in(keep))
    await tx.execute(query.values(status_id=None, kept_for_status_id=status_id, expires_at=None))


@dataclass(frozen=True)
class MediaChange:
    """New alt text and focal point for one of a post's media, given with an
    edit of the post. None leaves that part as it is."""

    media_id: int
    description: str | None = None
    focus: tuple[float, float] | None = None


async def do_change_attached_media(
    tx: Tx, account_id: int, status_id: int, changes: list[MediaChange]
) -> None:
    """Apply ``changes`` to media this post now holds (run after its media
    are settled). Invalid (422) for a description over the limit, or a media
    id that is not one of the post's."""
    if not changes:
        return
    for change in changes:
        check_description(change.description)
    held = set(
        (
            await tx.execute(
                select(media_attachments.c.id).where(
                    media_attachments.c.status_id == status_id,
                    media_attachments.c.account_id == account_id,
                )
            )
        ).scalars()
    )
    for change in changes:
        if change.media_id not in held:
            raise RuleBroken(
                f"media attachment {change.media_id} is not one of this "
                "post's; give its id in media_ids too"
            )
        values: dict[str, Any] = {}
        if change.description is not None:
            values["description"] = seal_optional(account_id, change.description or None)
        if change.focus is not None:
            values.update(focus_x=change.focus[0], focus_y=change.focus[1])
        if values:
            await tx.execute(
                update(media_attachments)
                .where(media_attachments.c.id == change.media_id)
                .values(**values)
            )


async def do_release_media(tx: Tx, status_id: int) -> None:
    """A deleted post lets go of its media, and of those kept for its edit
    history: they become unattached uploads again, removed after a day unless
    a post takes them (a redraft)."""
    query = update(media_attachments).where(
        or_(
            media_attachments.c.status_id == status_id,
            media_attachments.c.kept_for_status_id == status_id,
        )
    )
    expires_at = utcnow() + UNATTACHED_LIFETIME
    result = await tx.execute(
        query.values(status_id=None, kept_for_status_id=None, expires_at=expires_at)
    )
    if result.rowcount:
        await enqueue(tx, SweepMedia(), run_at=expires_at + timedelta(minutes=1))


async def do_delete_attached_media(tx: Tx, status_id: int) -> None:
    """A deleted post's media go with it, now, instead of waiting a day for a
    redraft (``delete_media`` on Mastodon). The rows go in the caller's
    transaction; their files are removed by a job once it has committed."""
    held = or_(
        media_attachments.c.status_id == status_id,
        media_attachments.c.kept_for_status_id == status_id,
    )
    rows = (
        await tx.execute(
            select(media_attachments.c.file_key, media_attachments.c.preview_key).where(held)
        )
    ).all()
    if not rows:
        return
    await tx.execute(delete(media_attachments).where(held))
    keys = [r.file_key for r in rows] + [r.preview_key for r in rows if r.preview_key]
    await enqueue(tx, DiscardMediaFiles(list(keys)))


async def sweep_unattached(db: Database, store: MediaStore, *, batch: int = 500) -> int:
    """Remove uploads no post took before they expired; returns how many."""
    now = utcnow()
    async with db.write() as tx:
        rows = (
            await tx.execute(
                select(
                    media_attachments.c.id,
                    media_attachments.c.file_key,
                    media_attachments.c.preview_key,
                )
                .where(
                    media_attachments.c.status_id.is_(None),
                    media_attachments.c.kept_for_status_id.is_(None),
                    or_(
                        media_attachments.c.expires_at.is_(None),
                        media_attachments.c.expires_at <= now,
                    ),
                )
                .limit(batch)
            )
        ).all()
        if rows:
            await tx.execute(
                delete(media_attachments).where(media_attachments.c.id.in_([r.id for r in rows]))
            )
        if len(rows) == batch:
            await enqueue(tx, SweepMedia())
    keys = [r.file_key for r in rows] + [r.preview_key for r in rows if r.preview_key]
    await discard_files(db, store, keys)
    return len(rows)


async def discard_files(db: Database, store: MediaStore, keys: list[str]) -> None:
    """Delete the files of these keys that no row names any more.

    Known gap: an upload of the very same bytes whose row is not yet committed
    is not seen, so if it lands in the same instant, its file can go with the
    old one and the new attachment answers 404. It needs identical content in
    a window of milliseconds; the fix (a grace period by file age) is left for
    when a shared store makes file ages reliable.
    """
    keys = [key for key in keys if key]  # a remote attachment has no stored file
    if not keys:
        return
    async with db.read() as conn:
        still_used = await queries.referenced_keys(conn, keys)
    for key in set(keys) - still_used:
        await store.delete(key)


# --- Profile images ---------------------------------------------------------


async def set_profile_image(
    db: Database,
    store: MediaStore,
    settings: Settings,
    account_id: int,
    role: str,
    source: IO[bytes] | None,
    size: int = 0,
) -> None:
    """Set (or with ``source`` None, remove) an account's avatar or header.

    The image is cropped to fill the role's box and loses its metadata like any
    upload; only images are accepted (Invalid otherwise).
    """
    box = PROFILE_ROLES[role]
    stored: StoredFile | None = None
    if source is not None:
        fmt = _recognise(source)
        if fmt.kind != Kind.IMAGE:
            raise RuleBroken(f"the {role} must be an image")
        check_size(fmt, size, settings)
        await screen(db, settings, source, fmt, Upload(account_id, role))
        data = source.read()
        encoded = await asyncio.to_thread(
            images.process_profile_image, data, fmt, image_limits(settings), box
        )
        stored = await sealed_for(store, account_id).put(encoded.data, encoded.format.extension)
    column = accounts.c[f"{role}_file"]
    try:
        async with db.write() as tx:
            old = (
                await tx.execute(select(column).where(accounts.c.id == account_id))
            ).scalar_one_or_none()
            result = await tx.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values({column.name: stored.key if stored else None})
            )
            if result.rowcount == 0:
                raise NotFound()
            tx.emit(AccountChanged(account_id))
    except BaseException:
        if stored is not None:
            await discard_files(db, store, [stored.key])
        raise
    if old and (stored is None or old != stored.key):
        await discard_files(db, store, [old])
