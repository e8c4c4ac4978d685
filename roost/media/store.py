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
system today, an object store later) implements the same four methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from roost.config import Settings
from roost.errors import Unavailable

log = logging.getLogger("roost.media")

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]{2,5}$")
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int


class MediaStore(Protocol):
    async def put(self, data: bytes, extension: str) -> StoredFile:
        """Store bytes under their content hash; storing existing bytes again is a no-op."""

    async def put_stream(self, source: IO[bytes], extension: str) -> StoredFile:
        """The same for a file too large to hold in memory (read from its start)."""

    def path(self, key: str) -> Path | None:
        """A local file holding the object, to serve or to read; None if absent."""

    async def delete(self, key: str) -> None:
        """Remove the object; removing an absent one is not an error."""


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key))


def _key_for(digest: str, extension: str) -> str:
    if not re.fullmatch(r"[a-z0-9]{2,5}", extension):
        raise ValueError(f"unexpected file extension {extension!r}")
    return f"{digest[:2]}/{digest[2:4]}/{digest}.{extension}"


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
            key = _key_for(digest.hexdigest(), extension)
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
    return Unavailable(f"The server could not store the file ({error.strerror or error})")


def media_root(settings: Settings) -> Path:
    return settings.media_dir or settings.data_dir / "media"


@functools.cache
def _local(root: Path) -> LocalMediaStore:
    return LocalMediaStore(root)


def media_store(settings: Settings) -> MediaStore:
    """The store these settings name (a local directory: the only kind so far)."""
    return _local(media_root(settings).resolve())
