"""``roost backup create``: database snapshot, media, secret key, manifest.

The archive is written as ``.<name>.partial`` in the target directory and
renamed to ``roost-backup-<UTC time>.tar`` (``.tar.enc`` when encrypted) only
once complete and synced, so a listing of the directory never shows a backup
that is not whole. Any failure removes the partial file and the staging copy.

With ``ROOST_MEDIA_STORE=s3`` the media files are not copied: keeping the
bucket's objects is the bucket's own versioning and replication (see
docs/operations.md). The manifest lists the objects the bucket held (name and
size) and `roost backup verify` checks that each one is still there.

Not in a backup: the derived stores (roost/ops/derived.py, rebuilt on restore)
and the per-account key store (roost/keys), whose own backup,
``roost-keys.sqlite3``, is refreshed beside the data backups by each one and
rewritten by each erasure (roost/keys/backup.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import inspect

from roost import __version__
from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.audit.chain import head as audit_head
from roost.keys.backup import write_key_backup
from roost.media.store import media_root, media_store
from roost.ops.archive import MARKER, ArchiveWriter, Manifest
from roost.ops.crypto import EncryptingWriter, read_key_file
from roost.ops.derived import derived_tables
from roost.ops.errors import BackupError
from roost.ops.snapshot import Snapshot, take_snapshot

log = logging.getLogger("roost.backup")

_NAME = re.compile(r"^roost-backup-(\d{8}T\d{6})Z(?:-\d+)?\.tar(?:\.enc)?$")
VERIFIED_SUFFIX = ".verified.json"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    seconds: float
    size: int


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: datetime


def list_backups(directory: Path) -> list[BackupFile]:
    """Complete backups in ``directory``, newest first (partial files excluded)."""
    found: list[BackupFile] = []
    if not directory.is_dir():
        return found
    for entry in directory.iterdir():
        match = _NAME.match(entry.name)
        if match and entry.is_file():
            taken = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            found.append(BackupFile(entry, taken))
    found.sort(key=lambda b: (b.taken_at, b.path.name), reverse=True)
    return found


def media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(name inside the media store, path) for every stored file; the spool of
    uploads in progress and other hidden entries are not content."""
    if not root.is_dir():
        return
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(directory) / name
            yield path.relative_to(root).as_posix(), path


def _target_name(directory: Path, now: datetime, encrypted: bool) -> Path:
    stem = f"roost-backup-{now.strftime('%Y%m%dT%H%M%S')}Z"
    suffix = ".tar.enc" if encrypted else ".tar"
    candidate = directory / (stem + suffix)
    n = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def _check_space(directory: Path, snapshot: Snapshot, media: Path) -> None:
    needed = snapshot.path.stat().st_size + sum(p.stat().st_size for _, p in media_files(media))
    free = shutil.disk_usage(directory).free
    if free < needed + 16 * 1024 * 1024:
        raise BackupError(
            f"not enough space in {directory} for the backup: it needs about "
            f"{needed // 2**20} MiB and {free // 2**20} MiB are free"
        )


def _write_archive(
    target: Path,
    partial: Path,
    snapshot: Snapshot,
    manifest: Manifest,
    settings: Settings,
    key: bytes | None,
) -> int:
    with partial.open("wb") as raw:
        sink: BinaryIO | EncryptingWriter = EncryptingWriter(raw, key) if key else raw
        writer = ArchiveWriter(sink)
        writer.add_bytes(
            MARKER,
            json.dumps(
                {"format": 1, "roost_version": __version__, "created_at": manifest.created_at}
            ).encode(),
        )
        writer.add_file(snapshot.member, snapshot.path)
        secret = settings.data_dir / "secret_key"
        if secret.is_file():
            writer.add_file("files/secret_key", secret)
        local = settings.media_store == "local"
        for name, path in media_files(media_root(settings)) if local else ():
            try:
                writer.add_file(f"media/{name}", path)
            except FileNotFoundError:
                # Deleted since the snapshot: the snapshot's rows still name it,
                # so the manifest records it as gone rather than failing.
                manifest.details.setdefault("media_deleted_during_backup", []).append(name)
        writer.finish(manifest)
        if isinstance(sink, EncryptingWriter):
            sink.close()
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, target)
    with contextlib.suppress(OSError):
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return target.stat().st_size


async def _audit_head(settings: Settings) -> dict[str, object] | None:
    """The audit log's newest entry, copied into the manifest: a later
    `roost audit verify --head` (or `roost backup verify`) finds entries cut
    from the end of the chain, which the chain alone cannot."""
    db = Database(settings)
    try:
        async with db.read() as conn:
            if not await conn.run_sync(lambda c: inspect(c).has_table("audit_entries")):
                return None  # a schema from before the audit log: nothing to copy
            seq, hash_ = await audit_head(conn)
    finally:
        await db.dispose()
    return {"seq": seq, "hash": hash_}


async def _bucket_listing(settings: Settings) -> dict[str, object] | None:
    """The bucket's media objects (name: size), when media lives in one."""
    if settings.media_store != "s3":
        return None
    from roost.media.s3 import S3MediaStore

    store = media_store(settings)
    assert isinstance(store, S3MediaStore)
    objects = await store.list_objects()
    return {
        "endpoint": settings.s3_endpoint,
        "bucket": settings.s3_bucket,
        "objects": {o.key: o.size for o in objects},
    }


async def create_backup(
    settings: Settings, *, to: Path | None = None, key_file: Path | None = None
) -> BackupResult:
    """Take a backup while Roost serves; returns where it is and its manifest.

    Raises BackupError (no space, no pg_dump of the right version, no database);
    nothing partial is left behind.
    """
    started = time.monotonic()
    directory = to or settings.backups_path
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot create {directory}: {error.strerror}") from None
    key = read_key_file(key_file) if key_file is not None else None
    now = utcnow()
    target = _target_name(directory, now, key is not None)
    partial = directory / f".{target.name}.partial"
    staging = Path(tempfile.mkdtemp(prefix=".roost-backup-", dir=directory))
    try:
        # Read before the snapshot, so the snapshot holds the entry it names.
        audit_head = await _audit_head(settings)
        snapshot = await take_snapshot(settings, staging, derived_tables())
        # Every key the snapshot's rows are sealed under existed before it was
        # taken: a key-store backup refreshed now covers this data backup.
        await asyncio.to_thread(write_key_backup, directory)
        _check_space(directory, snapshot, media_root(settings))
        bucket = await _bucket_listing(settings)
        manifest = Manifest(
            roost_version=__version__,
            created_at=now.isoformat(),
            backend=snapshot.backend,
            schema_revision=snapshot.schema_revision,
            database_member=snapshot.member,
            row_counts=snapshot.row_counts,
            details={**snapshot.details, "audit_head": audit_head},
        )
        if bucket is not None:
            manifest.details["media_bucket"] = bucket
        size = await asyncio.to_thread(
            _write_archive, target, partial, snapshot, manifest, settings, key
        )
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.monotonic() - started
    log.info("backup written to %s (%d bytes, %.1fs)", target, size, seconds)
    return BackupResult(target, manifest, seconds, size)


@dataclass(frozen=True)
class PruneResult:
    kept: list[Path]
    deleted: list[Path]


def prune_backups(
    directory: Path, *, keep_daily: int, keep_weekly: int, dry_run: bool = False
) -> PruneResult:
    """Keep the newest backup of each of the last ``keep_daily`` days that have
    one and of each of the last ``keep_weekly`` ISO weeks; delete the rest.

    The newest backup is always kept. Only files named like backups are touched.
    """
    backups = list_backups(directory)
    keep: set[Path] = set()
    days: set[object] = set()
    weeks: set[object] = set()
    for backup in backups:
        day = backup.taken_at.date()
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(backup.path)
        week = backup.taken_at.isocalendar()[:2]
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(backup.path)
    if backups:
        keep.add(backups[0].path)
    deleted = [b.path for b in backups if b.path not in keep]
    if not dry_run:
        for path in deleted:
            path.unlink(missing_ok=True)
            path.with_name(path.name + VERIFIED_SUFFIX).unlink(missing_ok=True)
    return PruneResult([b.path for b in backups if b.path in keep], deleted)


def next_backup_delay(settings: Settings, now: datetime) -> float:
    """Seconds until the next scheduled backup: one interval after the newest."""
    interval = settings.backup_interval_s
    assert interval is not None
    newest = list_backups(settings.backups_path)
    if not newest:
        return 60.0  # a first backup soon after start, not before the server settles
    due = (newest[0].taken_at - now).total_seconds() + interval
    return max(60.0, due)


async def run_scheduled_backups(settings: Settings) -> None:
    """Back up every ROOST_BACKUP_INTERVAL and prune; runs until cancelled. A
    failure is logged (and seen by `roost doctor` as an aging backup)."""
    while True:
        await asyncio.sleep(next_backup_delay(settings, utcnow()))
        try:
            result = await create_backup(settings, key_file=settings.backup_key_file)
            pruned = prune_backups(
                result.path.parent,
                keep_daily=settings.backup_keep_daily,
                keep_weekly=settings.backup_keep_weekly,
            )
            log.info("scheduled backup %s; pruned %d", result.path.name, len(pruned.deleted))
        except Exception:
            log.exception("the scheduled backup failed")
