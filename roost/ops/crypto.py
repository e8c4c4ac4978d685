"""Encrypted backups: a chunked AES-256-GCM stream (the STREAM construction).

Layout: ``MAGIC | salt (16) | nonce prefix (7) | key check (16)`` then
chunks of at most
``CHUNK`` plaintext bytes, each sealed with AES-GCM under a key derived
(HKDF-SHA256) from the operator's key file and the salt. A chunk's nonce is
the prefix, its index and a flag that marks the last chunk; the header is
authenticated data of every chunk. So reordering, dropping or altering any
chunk fails authentication, and a stream cut at a chunk boundary is caught
because its new last chunk was not sealed as the last one.

A key file holds 32 random bytes, base64-encoded, and is made by
``roost backup keygen``. Keep it away from the backups: whoever holds both can
read them.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import struct
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from roost.ops.errors import BackupDamaged, BackupError

MAGIC = b"ROOSTENC1\n"
CHUNK = 1024 * 1024
_TAG = 16
_SALT = 16
_PREFIX = 7
_CHECK = 16
HEADER_SIZE = len(MAGIC) + _SALT + _PREFIX + _CHECK


def new_key_file(path: Path) -> None:
    """Write a fresh key to ``path`` (mode 0600); refuses to replace one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists; a key is never overwritten") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")


def read_key_file(path: Path) -> bytes:
    try:
        raw = path.read_text().strip()
    except OSError as error:
        raise BackupError(f"cannot read the key file {path}: {error.strerror}") from None
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise BackupError(f"{path} is not a backup key (make one with `roost backup keygen`)")
    return key


def _derive(master: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"roost backup v1")
    return AESGCM(hkdf.derive(master))


def _key_check(master: bytes, salt: bytes) -> bytes:
    """Lets a wrong key file be named as such, apart from a damaged backup."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=_CHECK, salt=salt, info=b"roost key check")
    return hkdf.derive(master)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


class EncryptingWriter:
    """A write-only file object that seals what is written into ``out``."""

    def __init__(self, out: BinaryIO, master: bytes) -> None:
        salt = secrets.token_bytes(_SALT)
        self._prefix = secrets.token_bytes(_PREFIX)
        self._header = MAGIC + salt + self._prefix + _key_check(master, salt)
        self._aead = _derive(master, salt)
        self._out = out
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        out.write(self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        # Keep at least one byte back: only close() knows which chunk is last.
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        if self._index >= 2**32 - 1:
            raise BackupError("the backup is too large to encrypt (4 PiB)")
        nonce = _nonce(self._prefix, self._index, last)
        self._out.write(self._aead.encrypt(nonce, plain, self._header))
        self._index += 1

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


class DecryptingReader:
    """A read-only file object over a sealed stream; raises BackupDamaged when
    the stream is truncated or any byte of it was changed (or the key is wrong)."""

    def __init__(self, source: BinaryIO, master: bytes) -> None:
        header = source.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
            raise BackupDamaged("the file is not an encrypted Roost backup")
        salt = header[len(MAGIC) : len(MAGIC) + _SALT]
        self._prefix = header[len(MAGIC) + _SALT : len(MAGIC) + _SALT + _PREFIX]
        if header[-_CHECK:] != _key_check(master, salt):
            raise BackupError("the key file is not the one this backup was encrypted with")
        self._header = header
        self._aead = _derive(master, salt)
        self._source = source
        self._pending = source.read(CHUNK + _TAG)
        self._index = 0
        self._plain = bytearray()
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._plain) < size):
            self._next_chunk()
        if size < 0:
            size = len(self._plain)
        out = bytes(self._plain[:size])
        del self._plain[:size]
        return out

    def _next_chunk(self) -> None:
        following = self._source.read(CHUNK + _TAG)
        last = not following
        try:
            self._plain += self._aead.decrypt(
                _nonce(self._prefix, self._index, last), self._pending, self._header
            )
        except InvalidTag:
            raise BackupDamaged(self._diagnose(last)) from None
        self._index += 1
        self._pending = following
        self._done = last

    def _diagnose(self, last: bool) -> str:
        if last:
            try:
                self._aead.decrypt(
                    _nonce(self._prefix, self._index, False), self._pending, self._header
                )
            except InvalidTag:
                pass
            else:
                return "the encrypted backup is truncated: it ends before its last chunk"
        offset = HEADER_SIZE + self._index * (CHUNK + _TAG)
        return (
            f"the encrypted backup fails authentication in the chunk at byte {offset}: "
            "it was altered or truncated"
        )
