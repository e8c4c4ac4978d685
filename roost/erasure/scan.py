"""After an erasure, look everywhere for what should be gone.

Needles: the account's id and its posts' ids (in every id column, and as text
in every text column, where job payloads and keys carry them), and its
fingerprints (email, bio, post texts, alt texts). Places: every table, the
search index, the database files themselves (SQLite: the file and its WAL,
read as bytes), the media store, Redis, and the unencrypted backups in the
backup directory. Each hit names its place; the receipt wants none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import JSON, BigInteger, Text, cast, func, or_, select
from sqlalchemy.types import String

from roost.db.tables import metadata
from roost.erasure.subject import Subject
from roost.media.store import media_root, media_store
from roost.ops.backup import list_backups
from roost.services import Services

_BATCH = 40
_CHUNK = 8 * 1024 * 1024


def _text_needles(subject: Subject) -> list[str]:
    return [str(i) for i in subject.ids] + subject.fingerprints


async def _tables(services: Services, subject: Subject) -> list[str]:
    hits: list[str] = []
    needles = _text_needles(subject)
    async with services.db.read() as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, BigInteger) and subject.ids:
                    where = column.in_(subject.ids)
                elif isinstance(column.type, String | Text | JSON):
                    value = cast(column, Text)
                    found = 0
                    for start in range(0, len(needles), _BATCH):
                        batch = needles[start : start + _BATCH]
                        query = select(func.count()).where(or_(*(value.contains(n) for n in batch)))
                        found += int((await conn.execute(query.select_from(table))).scalar_one())
                    if found:
                        hits.append(f"{table.name}.{column.name}: {found} row(s)")
                    continue
                else:
                    continue
                count = (await conn.execute(select(func.count()).where(where))).scalar_one()
                if count:
                    hits.append(f"{table.name}.{column.name}: {count} row(s)")
    return hits


async def _search_index(services: Services, subject: Subject) -> list[str]:
    column = "rowid" if services.db.is_sqlite else "status_id"
    async with services.db.read() as conn:
        found = 0
        for start in range(0, len(subject.status_ids), 500):
            ids = ", ".join(str(int(i)) for i in subject.status_ids[start : start + 500])
            result = await conn.exec_driver_sql(
                f"SELECT count(*) FROM search_statuses WHERE {column} IN ({ids})"
            )
            found += int(result.scalar_one())
    return [f"search_statuses: {found} post(s)"] if found else []


def _byte_hits(paths: Iterable[Path], needles: list[bytes], label: str) -> list[str]:
    """Needles found in the raw bytes of each file (read in overlapping chunks)."""
    hits: list[str] = []
    overlap = max((len(n) for n in needles), default=1)
    for path in paths:
        if not path.is_file():
            continue
        found: set[int] = set()
        with path.open("rb") as handle:
            tail = b""
            while chunk := handle.read(_CHUNK):
                window = tail + chunk
                found |= {i for i, n in enumerate(needles) if n in window}
                tail = window[-overlap:]
        if found:
            hits.append(f"{label} {path.name}: {len(found)} of the account's texts")
    return hits


def _sqlite_files(services: Services, subject: Subject) -> list[str]:
    if not services.db.is_sqlite:
        return []
    main = Path(services.settings.sqlalchemy_url.split(":///", 1)[1])
    needles = [f.encode() for f in subject.fingerprints]
    return _byte_hits([main, Path(f"{main}-wal")], needles, "database file")


async def _media(services: Services, subject: Subject) -> list[str]:
    """The erased account's files, in the local directory and in the media store
    (the same place unless media lives in a bucket), and in this server's cache
    of bucket objects."""
    settings = services.settings
    store = media_store(settings)
    places = [media_root(settings), settings.data_dir / "media-cache"]
    hits = []
    for key in subject.media_keys:
        if await store.exists(key):
            hits.append(f"{key} still stored")
        elif any((root / key).is_file() for root in places):
            hits.append(f"{key} still on this server's disk")
    return hits


def _backups(services: Services, subject: Subject) -> list[str]:
    needles = [f.encode() for f in subject.fingerprints]
    plain = [
        b.path for b in list_backups(services.settings.backups_path) if b.path.suffix == ".tar"
    ]
    return _byte_hits(plain, needles, "backup")


async def _redis(services: Services, subject: Subject) -> list[str]:
    if services.redis is None:
        return []
    client = services.redis.client
    padded = {str(i).zfill(20).encode() for i in subject.ids} | {
        str(i).encode() for i in subject.ids
    }
    texts = [f.encode() for f in subject.fingerprints]
    hits: list[str] = []
    async for key in client.scan_iter(match=services.redis.prefix + "*", count=1000):
        kind = await client.type(key)
        if kind == b"zset":
            members = await client.zrange(key, 0, -1)
            if any(m in padded for m in members):
                hits.append(f"redis {key.decode()}: names erased posts")
        elif kind == b"string":
            value = await client.get(key)
            if value and any(t in value for t in texts):
                hits.append(f"redis {key.decode()}: holds the account's text")
        if str(subject.account_id).encode() in key:
            hits.append(f"redis key {key.decode()} names the account")
    return hits


def _keys(subject: Subject) -> list[str]:
    """The account's key must be gone from the key store and its backups: old
    data backups hold its content sealed under it."""
    from roost.keys import ring
    from roost.keys.backup import key_in_backups

    hits = [f"key-store backup {name} holds its key" for name in key_in_backups(subject.account_id)]
    if ring.store().get(subject.account_id) is not None:
        hits.append(f"the key store ({ring.store().location}) holds its key")
    return hits


async def scan_everything(services: Services, subject: Subject) -> dict[str, list[str]]:
    """Hits per store; every list empty means nothing was found."""
    return {
        "database tables": await _tables(services, subject),
        "search index": await _search_index(services, subject),
        "database files": await asyncio.to_thread(_sqlite_files, services, subject),
        "media files": await _media(services, subject),
        "redis": await _redis(services, subject),
        "backups": await asyncio.to_thread(_backups, services, subject),
        "account key": await asyncio.to_thread(_keys, subject),
    }
