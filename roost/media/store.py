"""Where media files live: the ``MediaStore`` seam, and a local directory.

A file is named by the SHA-256 of its bytes (``ab/cd/abcd….jpg``), so the same
picture uploaded twice is stored once, and a name never points at different
bytes over time (safe to cache forever). Names are not secrets: whether a
viewer may have a file is decided by roost/api/media_files.py, never by
knowing its name.

Several rows (attachments, avatars) can name one file; whoever drops the last
reference deletes the file (roost/domain/media/actions.py). Writes go to a
temporary file first and are renamed into place, so a crash or a full disk
never leaves a half-written file under a real name.

Embedded Roost keeps files under ``$ROOST_DATA_DIR/media`` (or
``ROOST_MEDIA_DIR``). A shared store for several machines (a network file
system, or an S3-compatible bucket: roost/media/s3.py, ``ROOST_MEDIA_STORE=s3``)
implements the same five methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol

from roost.config import Settings
from roost.errors import StorageFull, Unavailable
from roost.media.names import StoredFile, key_for, valid_key

__all__ = ["LocalMediaStore", "MediaStore", "StoredFile", "media_root", "media_store", "valid_key"]

log = logging.getLogger("roost.media")

_CHUNK = 1024 * 1024


class MediaStore(Protocol):
    async def put(self, data: bytes, extension: str) -> StoredFile:
        """Store bytes under their content hash; storing existing bytes again is a no-op."""

    async def put_stream(self, source: IO[bytes], extension: str) -> StoredFile:
        """The same for a file too large to hold in memory (read from its start)."""

    async def local_copy(self, key: str) -> Path | None:
        """A local file holding the object, to serve or to read (fetched into a
        cache first when the store is remote); None if absent."""

    async def exists(self, key: str) -> bool:
        """Whether the store holds the object."""

    async def delete(self, key: str) -> None:
        """Remove the object; removing an absent one is not an error."""


class LocalMediaStore:
    """Files in a directory on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, data: bytes, extension: str) -> StoredFile:
        return await asyncio.to_thread(self._write, [data], extension)

    async def put_stream(self, source: IO[bytes], extension: str) -> StoredFile:
        def write() -> StoredFile:
            source.seek(0)
            return self._write(_chunks(source), extension)

        return await asyncio.to_thread(write)

    def path(self, key: str) -> Path | None:
        if not valid_key(key):
            return None
        candidate = self.root / key
        return candidate if candidate.is_file() else None

    async def local_copy(self, key: str) -> Path | None:
        return self.path(key)

    async def exists(self, key: str) -> bool:
        return self.path(key) is not None

    async def delete(self, key: str) -> None:
        if not valid_key(key):
            return
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.root / key)

    def _write(self, chunks: Iterable[bytes], extension: str) -> StoredFile:
        spool = self.root / ".incoming"
        try:
            spool.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=spool)
        except OSError as error:
            raise _unavailable(error) from error
        temp = Path(temp_name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = key_for(digest.hexdigest(), extension)
            final = self.root / key
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temp, 0o644)
            os.replace(temp, final)
        except OSError as error:
            # A full disk or a read-only mount: nothing half-written stays behind.
            with contextlib.suppress(OSError):
                temp.unlink()
            raise _unavailable(error) from error
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        return StoredFile(key=key, size=size)


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(_CHUNK):
        yield chunk


def _unavailable(error: OSError) -> Unavailable:
    log.error("media store: could not write a file: %s", error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull("The server's disk is full; the file was not stored. Try again later.")
    return Unavailable(f"The server could not store the file ({error.strerror or error})")


def media_root(settings: Settings) -> Path:
    return settings.media_dir or settings.data_dir / "media"


@functools.cache
def _local(root: Path) -> LocalMediaStore:
    return LocalMediaStore(root)


@functools.cache
def _bucket(settings: Settings) -> MediaStore:
    from roost.media.s3 import S3Config, S3MediaStore

    config = S3Config(
        endpoint=settings.s3_endpoint,
        bucket=settings.s3_bucket,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
    )
    cache = (settings.data_dir / "media-cache").resolve()
    return S3MediaStore(config, cache, settings.s3_cache_mb * 1024 * 1024)


def media_store(settings: Settings) -> MediaStore:
    """The store these settings name: a local directory, or a bucket."""
    if settings.media_store == "s3":
        return _bucket(settings)
    return _local(media_root(settings).resolve())
