"""Media in an S3-compatible bucket, shared by every server of an installation.

Objects are named as in the local store (``ab/cd/<sha256>.<ext>``, the hash of
the stored bytes, which are sealed under their owner's key: roost/keys/files.py),
so the bucket holds ciphertext and a name never points at different bytes.

Nothing is public in the bucket and no client is ever sent to it: every file is
still served by Roost (roost/api/media_files.py), which asks the privacy policy
first and signs its own URLs for non-public media (roost/media/urls.py). The
bucket needs no public-read policy, and a followers-only post's file cannot be
fetched by a stranger from either place.

To serve or read a file, a server copies it from the bucket into
``$ROOST_DATA_DIR/media-cache`` (same name; safe because names never change
meaning) and serves that copy, so byte ranges work as for local files. The cache
is bounded by ``ROOST_S3_CACHE_MB`` (oldest reads dropped first), and a file
deleted through this server leaves its cache too. A copy cached by another
server outlives a deletion until evicted, but it is sealed: an erased account's
key is destroyed, so those bytes can no longer be opened, and no row names them.

Requests are signed with AWS Signature Version 4 by botocore's signer and sent
with httpx; path-style addressing (``endpoint/bucket/key``), which every
S3-compatible server accepts. The secret key is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from roost.errors import Unavailable
from roost.media.names import StoredFile, key_for, valid_key

log = logging.getLogger("roost.media.s3")

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_CHUNK = 1024 * 1024
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class _Signer(S3SigV4Auth):  # type: ignore[misc]
    """SigV4 with the payload hash given (Roost has computed it already)."""

    def __init__(self, credentials: Credentials, region: str, payload_hash: str) -> None:
        super().__init__(credentials, "s3", region)
        self._payload_hash = payload_hash

    def payload(self, request: Any) -> str:
        return self._payload_hash


@dataclass(frozen=True, slots=True)
class S3Config:
    endpoint: str
    bucket: str
    region: str
    access_key: str
    secret_key: str

    def __repr__(self) -> str:  # never the secret, whatever prints this
        return f"S3Config(endpoint={self.endpoint!r}, bucket={self.bucket!r})"


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int


class S3MediaStore:
    """A bucket on an S3-compatible server, with a local cache for reads."""

    def __init__(self, config: S3Config, cache: Path, cache_bytes: int) -> None:
        self.config = config
        self.cache = cache
        self.cache_bytes = cache_bytes
        self._credentials = Credentials(config.access_key, config.secret_key)
        # What the cache holds, as last counted plus what was fetched since
        # (None: not counted yet); the directory is walked only when over.
        self._cached_bytes: int | None = None

    def __repr__(self) -> str:
        return f"S3MediaStore({self.config!r})"

    # -- the MediaStore interface ------------------------------------------

    async def put(self, data: bytes, extension: str) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        key = key_for(digest, extension)
        await self._request("PUT", key, content=data, payload_hash=digest)
        return StoredFile(key=key, size=len(data))

    async def put_stream(self, source: IO[bytes], extension: str) -> StoredFile:
        def measure() -> tuple[str, int]:
            source.seek(0)
            digest = hashlib.sha256()
            size = 0
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            return digest.hexdigest(), size

        digest, size = await asyncio.to_thread(measure)
        key = key_for(digest, extension)
        await self._request(
            "PUT",
            key,
            content=_read_chunks(source),
            payload_hash=digest,
            headers={"Content-Length": str(size)},
        )
        return StoredFile(key=key, size=size)

    async def local_copy(self, key: str) -> Path | None:
        if not valid_key(key):
            return None
        cached = self.cache / key
        if cached.is_file():
            with contextlib.suppress(OSError):
                os.utime(cached)  # recently read: evicted last
            return cached
        fetched = await self._download(key, cached)
        if fetched is not None:
            await asyncio.to_thread(self._prune_cache, fetched)
        return fetched

    async def exists(self, key: str) -> bool:
        if not valid_key(key):
            return False
        response = await self._request("HEAD", key, allow={404})
        return response.status_code == 200

    async def delete(self, key: str) -> None:
        if not valid_key(key):
            return
        await self._request("DELETE", key, allow={404})
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self.cache / key)

    # -- beyond the interface: operations and tests -------------------------

    async def list_objects(self) -> list[ObjectInfo]:
        """Every media object in the bucket (other names are not Roost's)."""
        found: list[ObjectInfo] = []
        token: str | None = None
        while True:
            query = {"list-type": "2", "max-keys": "1000"}
            if token:
                query["continuation-token"] = token
            response = await self._request("GET", "", query=query)
            root = ET.fromstring(response.content)
            for item in root.iter(f"{_NS}Contents"):
                key = item.findtext(f"{_NS}Key") or ""
                if valid_key(key):
                    found.append(ObjectInfo(key, int(item.findtext(f"{_NS}Size") or 0)))
            if (root.findtext(f"{_NS}IsTruncated") or "false") != "true":
                return found
            token = root.findtext(f"{_NS}NextContinuationToken")
            if not token:
                return found

    async def create_bucket(self) -> None:
        """Create the bucket; one that exists already (owned by us) is fine."""
        await self._request("PUT", "", allow={409})

    async def check(self) -> None:
        """Raise Unavailable unless the bucket answers to these credentials."""
        await self._request("HEAD", "")

    # -- plumbing -------------------------------------------------------------

    def _url(self, key: str, query: dict[str, str] | None = None) -> str:
        url = f"{self.config.endpoint}/{self.config.bucket}"
        if key:
            url += "/" + quote(key, safe="/")
        if query:
            url += "?" + "&".join(
                f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
            )
        return url

    def _signed_headers(
        self, method: str, url: str, payload_hash: str, headers: dict[str, str]
    ) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, headers=dict(headers))
        _Signer(self._credentials, self.config.region, payload_hash).add_auth(request)
        return {k: v for k, v in request.headers.items() if k.lower() != "host"}

    async def _request(
        self,
        method: str,
        key: str,
        *,
        content: bytes | AsyncIterator[bytes] | None = None,
        payload_hash: str = _EMPTY_SHA256,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        allow: set[int] | frozenset[int] = frozenset(),
    ) -> httpx.Response:
        url = self._url(key, query)
        signed = self._signed_headers(method, url, payload_hash, headers or {})
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0)) as client:
                response = await client.request(method, url, content=content, headers=signed)
        except httpx.HTTPError as error:
            log.error("media bucket: %s %s failed: %s", method, key or "(bucket)", error)
            raise Unavailable("The media storage could not be reached; try again later.") from None
        if response.status_code >= 300 and response.status_code not in allow:
            log.error(
                "media bucket: %s %s answered %d: %s",
                method,
                key or "(bucket)",
                response.status_code,
                _error_code(response.content),
            )
            raise Unavailable("The media storage refused the request; try again later.")
        return response

    async def _download(self, key: str, target: Path) -> Path | None:
        url = self._url(key)
        signed = self._signed_headers("GET", url, _EMPTY_SHA256, {})
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        except OSError as error:
            message = f"The server could not cache a media file ({error.strerror})"
            raise Unavailable(message) from None
        temp = Path(temp_name)
        try:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0)) as client,
                client.stream("GET", url, headers=signed) as response,
            ):
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    log.error("media bucket: GET %s answered %d", key, response.status_code)
                    raise Unavailable("The media storage refused the request; try again later.")
                with os.fdopen(fd, "wb") as out:
                    fd = -1
                    async for chunk in response.aiter_bytes(_CHUNK):
                        out.write(chunk)
            os.chmod(temp, 0o644)
            os.replace(temp, target)
            return target
        except httpx.HTTPError as error:
            log.error("media bucket: GET %s failed: %s", key, error)
            raise Unavailable("The media storage could not be reached; try again later.") from None
        finally:
            if fd != -1:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    def _prune_cache(self, keep: Path) -> None:
        """Drop the least recently read copies while the cache is over its size
        (never ``keep``, the copy about to be served)."""
        if self._cached_bytes is not None:
            with contextlib.suppress(FileNotFoundError):
                self._cached_bytes += keep.stat().st_size
            if self._cached_bytes <= self.cache_bytes:
                return
        entries: list[tuple[float, int, Path]] = []
        for path in _files(self.cache):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.cache_bytes:
                break
            if path == keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            total -= size
        self._cached_bytes = total


def _files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for directory, _, names in os.walk(root):
        for name in names:
            if not name.startswith("."):
                yield Path(directory) / name


async def _read_chunks(source: IO[bytes]) -> AsyncIterator[bytes]:
    await asyncio.to_thread(source.seek, 0)
    while chunk := await asyncio.to_thread(source.read, _CHUNK):
        yield chunk


def _error_code(body: bytes) -> str:
    with contextlib.suppress(ET.ParseError):
        return ET.fromstring(body).findtext("Code") or "no error code"
    return "no error code"
