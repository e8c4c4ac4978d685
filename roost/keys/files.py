"""Media files sealed under their owner's key, readable by range.

Layout: ``MAGIC | key id (8) | salt (16)``, then chunks of at most ``CHUNK``
plain bytes, each AES-256-GCM under a key derived (HKDF-SHA256) from the
owner's key and the file's salt. A chunk's nonce is its index and a flag
marking the last chunk; the header is every chunk's associated data. So a
range is served by opening only the chunks it covers, and a cut, reordered or
altered file fails to open.

The salt is a keyed hash of the plain bytes (one account uploading a file twice
stores it once). The file is stored under the hash of the sealed bytes (roost/media/store.py):
its name says nothing of the picture. Files written before sealing (no magic)
are read as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from roost.keys import ring
from roost.media.store import MediaStore, StoredFile

MAGIC = b"RSMF1\n"
CHUNK = 64 * 1024
_TAG = 16
_SALT = 16
HEADER = len(MAGIC) + 8 + _SALT
_SPOOL = 1024 * 1024


class FileKeyGone(Exception):
    """The file's owner was erased: its key, and so the file, is gone."""


def _file_cipher(account_key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"roost media file"
    ).derive(account_key)
    return AESGCM(derived)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _read_full(source: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        part = source.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _salt(account_key: bytes, source: IO[bytes]) -> bytes:
    """The file's salt: a keyed hash of its bytes, so the same file uploaded
    twice by one account is sealed (and stored, by its sealed hash) once, as
    before sealing; across accounts, keys differ and so do the files."""
    digest = hashlib.sha256()
    start = source.tell()
    while chunk := source.read(_SPOOL):
        digest.update(chunk)
    source.seek(start)
    return hmac.new(account_key, b"media salt" + digest.digest(), hashlib.sha256).digest()[:_SALT]


def seal_chunks(account_id: int, source: IO[bytes]) -> Iterator[bytes]:
    """The sealed form of seekable ``source`` (from where it stands), piece by piece."""
    account_key = ring.key(account_id, create=True)
    assert account_key is not None
    salt = _salt(account_key, source)
    header = MAGIC + struct.pack(">Q", account_id) + salt
    cipher = _file_cipher(account_key, salt)
    yield header
    index = 0
    current = _read_full(source, CHUNK)
    while True:
        following = _read_full(source, CHUNK) if len(current) == CHUNK else b""
        last = not following
        yield cipher.encrypt(_nonce(index, last), current, header)
        if last:
            return
        current, index = following, index + 1


def seal_bytes(account_id: int, data: bytes) -> bytes:
    return b"".join(seal_chunks(account_id, io.BytesIO(data)))


def is_sealed_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


class SealedFile:
    """A sealed file opened for reading; FileKeyGone when its key was destroyed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        stored = path.stat().st_size
        with path.open("rb") as handle:
            self.header = handle.read(HEADER)
        if len(self.header) != HEADER or not self.header.startswith(MAGIC):
            raise ValueError(f"{path.name} is not a sealed media file")
        (self.key_id,) = struct.unpack(">Q", self.header[len(MAGIC) : len(MAGIC) + 8])
        account_key = ring.key(self.key_id)
        if account_key is None:
            raise FileKeyGone(f"the key of {path.name} was destroyed")
        self._cipher = _file_cipher(account_key, self.header[-_SALT:])
        body = stored - HEADER
        self.chunks = max(1, -(-body // (CHUNK + _TAG)))
        self.size = body - self.chunks * _TAG

    def _open_chunk(self, handle: BinaryIO, index: int) -> bytes:
        handle.seek(HEADER + index * (CHUNK + _TAG))
        sealed = handle.read(CHUNK + _TAG)
        try:
            return self._cipher.decrypt(
                _nonce(index, index == self.chunks - 1), sealed, self.header
            )
        except InvalidTag:
            raise ValueError(f"{self.path.name} is damaged in chunk {index}") from None

    def read_range(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Plain bytes ``start`` to ``end`` inclusive (the whole file by default)."""
        last = self.size - 1 if end is None else min(end, self.size - 1)
        if last < start:
            return
        with self.path.open("rb") as handle:
            for index in range(start // CHUNK, last // CHUNK + 1):
                plain = self._open_chunk(handle, index)
                base = index * CHUNK
                yield plain[max(start - base, 0) : last - base + 1]


def plain_chunks(path: Path) -> Iterator[bytes]:
    """A stored file's plain bytes, sealed or not."""
    if not is_sealed_file(path):
        with path.open("rb") as handle:
            while chunk := handle.read(_SPOOL):
                yield chunk
        return
    yield from SealedFile(path).read_range()


@contextlib.contextmanager
def plain_copy(path: Path) -> Iterator[Path]:
    """A path holding the plain bytes (for ffmpeg), removed afterwards; the file
    itself when it is not sealed."""
    if not is_sealed_file(path):
        yield path
        return
    spool = path.parents[2] / ".incoming"
    spool.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=spool, suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in plain_chunks(path):
                out.write(chunk)
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


class SealingStore:
    """A media store whose new files are sealed under one account's key."""

    def __init__(self, inner: MediaStore, account_id: int) -> None:
        self.inner = inner
        self.account_id = account_id

    async def put(self, data: bytes, extension: str) -> StoredFile:
        sealed = await asyncio.to_thread(seal_bytes, self.account_id, data)
        stored = await self.inner.put(sealed, extension)
        return StoredFile(stored.key, len(data))

    async def put_stream(self, source: IO[bytes], extension: str) -> StoredFile:
        def spool() -> tuple[IO[bytes], int]:
            source.seek(0, os.SEEK_END)
            size = source.tell()
            source.seek(0)
            sealed: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * _SPOOL)  # noqa: SIM115
            for chunk in seal_chunks(self.account_id, source):
                sealed.write(chunk)
            return sealed, size

        sealed, size = await asyncio.to_thread(spool)
        with sealed:
            stored = await self.inner.put_stream(sealed, extension)
        return StoredFile(stored.key, size)

    async def local_copy(self, key: str) -> Path | None:
        return await self.inner.local_copy(key)

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)


def sealed_for(store: MediaStore, account_id: int) -> MediaStore:
    """``store``, sealing what it stores under ``account_id``'s key."""
    if isinstance(store, SealingStore):
        return SealingStore(store.inner, account_id)
    return SealingStore(store, account_id)
