"""Where the per-account data keys live: never inside the data backups.

Embedded: a SQLite file of its own, ``$ROOST_DATA_DIR/keys.sqlite3`` (or
``ROOST_KEY_STORE_FILE``), beside the database but never copied into a data
backup. Scaled: the table ``roost_keys`` on the PostgreSQL server, which every
process reaches; ``pg_dump`` of a data backup is told to leave it out, and a
restore never drops it.

One row per key: ``key_id`` (an account id; 0 is the instance's blind-index
key for e-mail addresses), the 32 random bytes, and, once destroyed by an
erasure, no bytes and a ``destroyed_at`` (a tombstone: a stale key backup
cannot bring the key back). ``roost_key_backups`` lists the key-store backup
files written so far (roost/keys/backup.py), so an erasure can rewrite each.

The interface is synchronous: reading rows decrypts in SQLAlchemy's result
processing, which is synchronous code, and a key not in the process cache
(roost/keys/ring.py) must be fetched right there. SQLite answers in
microseconds; PostgreSQL is asked over one connection owned by a small
background thread with its own event loop, so the caller blocks for one round
trip, once per key per cache lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

KEY_BYTES = 32
PG_TABLE = "roost_keys"
PG_BACKUPS_TABLE = "roost_key_backups"
# Tables of the key store on PostgreSQL: never dumped, dropped or compared.
PG_TABLES = (PG_TABLE, PG_BACKUPS_TABLE)

_SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS keys (key_id INTEGER PRIMARY KEY, key BLOB, "
    "created_at TEXT NOT NULL, destroyed_at TEXT)",
    "CREATE TABLE IF NOT EXISTS backups (path TEXT PRIMARY KEY)",
)
_PG_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {PG_TABLE} (key_id bigint PRIMARY KEY, key bytea, "
    "created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz)",
    f"CREATE TABLE IF NOT EXISTS {PG_BACKUPS_TABLE} (path text PRIMARY KEY)",
)


class KeyStore(Protocol):
    location: str

    def get(self, key_id: int) -> bytes | None:
        """The key's bytes; None when there is none or it was destroyed."""

    def get_or_create(self, key_id: int) -> bytes:
        """The key, made (32 random bytes) when there is none yet. A destroyed
        key is not made again: ``KeyDestroyed``."""

    def destroy(self, key_id: int) -> bool:
        """Forget the key's bytes for good, keeping a tombstone; True if it had some."""

    def rows(self) -> list[tuple[int, bytes | None, str, str | None]]:
        """Every (key_id, key, created_at, destroyed_at), for a key-store backup."""

    def merge(self, rows: list[tuple[int, bytes | None, str, str | None]]) -> int:
        """Take keys this store lacks and tombstones it has not applied; returns
        how many rows changed. A tombstone here is never revived."""

    def record_backup(self, path: str) -> None: ...

    def backup_paths(self) -> list[str]: ...

    def close(self) -> None: ...


class KeyDestroyed(Exception):
    """Content cannot be sealed under a key an erasure destroyed."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def open_key_file(path: Path) -> sqlite3.Connection:
    """A SQLite key file (the live store or a key-store backup), made if absent.

    secure_delete zeroes a destroyed key's bytes in the file itself.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    for statement in _SQLITE_SCHEMA:
        conn.execute(statement)
    if not existed:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
    return conn


def sqlite_rows(conn: sqlite3.Connection) -> list[tuple[int, bytes | None, str, str | None]]:
    return [
        (int(r[0]), None if r[1] is None else bytes(r[1]), str(r[2]), r[3])
        for r in conn.execute("SELECT key_id, key, created_at, destroyed_at FROM keys")
    ]


def sqlite_merge(
    conn: sqlite3.Connection, rows: list[tuple[int, bytes | None, str, str | None]]
) -> int:
    changed = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for key_id, key, created_at, destroyed_at in rows:
            if destroyed_at is not None:
                cursor = conn.execute(
                    "INSERT INTO keys (key_id, key, created_at, destroyed_at) "
                    "VALUES (?, NULL, ?, ?) ON CONFLICT (key_id) DO UPDATE "
                    "SET key = NULL, destroyed_at = excluded.destroyed_at "
                    "WHERE keys.destroyed_at IS NULL",
                    (key_id, created_at, destroyed_at),
                )
            else:
                cursor = conn.execute(
                    "INSERT INTO keys (key_id, key, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (key_id) DO NOTHING",
                    (key_id, key, created_at),
                )
            changed += max(cursor.rowcount, 0)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return changed


class SqliteKeyStore:
    """The key store of embedded Roost: a file of its own.

    A connection is opened per operation (they are rare: the ring caches), so
    a file replaced or restored under the same name is always the one read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = f"file {path}"
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = open_key_file(self.path)
            try:
                yield conn
            finally:
                conn.close()

    def get(self, key_id: int) -> bytes | None:
        if not self.path.exists():
            return None
        with self._conn() as conn:
            row = conn.execute("SELECT key FROM keys WHERE key_id = ?", (key_id,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def get_or_create(self, key_id: int) -> bytes:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO keys (key_id, key, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key_id) DO NOTHING",
                (key_id, secrets.token_bytes(KEY_BYTES), _now()),
            )
            row = conn.execute("SELECT key FROM keys WHERE key_id = ?", (key_id,)).fetchone()
        if row[0] is None:
            raise KeyDestroyed(f"the key of {key_id} was destroyed by an erasure")
        return bytes(row[0])

    def destroy(self, key_id: int) -> bool:
        with self._conn() as conn:
            cursor = conn.execute(
                "INSERT INTO keys (key_id, key, created_at, destroyed_at) VALUES (?, NULL, ?, ?) "
                "ON CONFLICT (key_id) DO UPDATE SET key = NULL, "
                "destroyed_at = excluded.destroyed_at WHERE keys.key IS NOT NULL",
                (key_id, _now(), _now()),
            )
            had = cursor.rowcount > 0
        return had

    def rows(self) -> list[tuple[int, bytes | None, str, str | None]]:
        if not self.path.exists():
            return []
        with self._conn() as conn:
            return sqlite_rows(conn)

    def merge(self, rows: list[tuple[int, bytes | None, str, str | None]]) -> int:
        with self._conn() as conn:
            return sqlite_merge(conn, rows)

    def record_backup(self, path: str) -> None:
        with self._conn() as conn:
            conn.execute("INSERT OR IGNORE INTO backups (path) VALUES (?)", (path,))

    def backup_paths(self) -> list[str]:
        if not self.path.exists():
            return []
        with self._conn() as conn:
            return [str(r[0]) for r in conn.execute("SELECT path FROM backups ORDER BY path")]

    def close(self) -> None:
        pass


class PgKeyStore:
    """The key store of scaled Roost: ``roost_keys`` on the PostgreSQL server.

    One asyncpg connection, used from a background thread's event loop, so
    the synchronous callers (result processing) can wait for one answer.
    """

    def __init__(self, url: str) -> None:
        # Imported here, on the calling thread: the store's own thread must not
        # import (compiling modules on two threads at once is unsafe in
        # CPython 3.11's parser).
        import asyncpg  # type: ignore[import-untyped]  # noqa: F401

        from roost.addresses import connection

        self._target = connection(url)
        self.location = f"table {PG_TABLE} on {self._target.dsn}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="roost-key-store", daemon=True
        )
        self._thread.start()
        self._conn: Any = None
        self._lock: asyncio.Lock | None = None

    def _call(self, work: Callable[[Any], Awaitable[T]]) -> T:
        async def run() -> T:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                for attempt in range(2):
                    try:
                        conn = await self._connection()
                        return await work(conn)
                    except Exception as error:
                        if attempt or not _retryable(error):
                            raise
                        # The table was dropped (a wiped database) or the
                        # link broke: start again on a fresh connection.
                        await self._drop_connection()
                raise AssertionError("unreachable")

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    async def _connection(self) -> Any:
        import asyncpg

        if self._conn is None or self._conn.is_closed():
            conn = await asyncpg.connect(self._target.dsn, password=self._target.password)
            for statement in _PG_SCHEMA:
                with contextlib.suppress(asyncpg.UniqueViolationError):
                    # Two processes making the table at once: one wins.
                    await conn.execute(statement)
            self._conn = conn
        return self._conn

    async def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        self._conn = None

    def get(self, key_id: int) -> bytes | None:
        async def work(conn: Any) -> bytes | None:
            value = await conn.fetchval(f"SELECT key FROM {PG_TABLE} WHERE key_id = $1", key_id)
            return None if value is None else bytes(value)

        return self._call(work)

    def get_or_create(self, key_id: int) -> bytes:
        async def work(conn: Any) -> Any:
            await conn.execute(
                f"INSERT INTO {PG_TABLE} (key_id, key) VALUES ($1, $2) "
                "ON CONFLICT (key_id) DO NOTHING",
                key_id,
                secrets.token_bytes(KEY_BYTES),
            )
            return await conn.fetchval(f"SELECT key FROM {PG_TABLE} WHERE key_id = $1", key_id)

        value = self._call(work)
        if value is None:
            raise KeyDestroyed(f"the key of {key_id} was destroyed by an erasure")
        return bytes(value)

    def destroy(self, key_id: int) -> bool:
        async def work(conn: Any) -> str:
            result: str = await conn.execute(
                f"INSERT INTO {PG_TABLE} (key_id, key, destroyed_at) VALUES ($1, NULL, now()) "
                f"ON CONFLICT (key_id) DO UPDATE SET key = NULL, destroyed_at = now() "
                f"WHERE {PG_TABLE}.key IS NOT NULL",
                key_id,
            )
            # The dead row version still holds the bytes until vacuumed.
            await conn.execute(f"VACUUM {PG_TABLE}")
            return result

        return self._call(work).endswith(" 1")

    def rows(self) -> list[tuple[int, bytes | None, str, str | None]]:
        async def work(conn: Any) -> list[tuple[int, bytes | None, str, str | None]]:
            found = await conn.fetch(
                f"SELECT key_id, key, created_at, destroyed_at FROM {PG_TABLE}"
            )
            return [
                (
                    int(r["key_id"]),
                    None if r["key"] is None else bytes(r["key"]),
                    r["created_at"].isoformat(),
                    None if r["destroyed_at"] is None else r["destroyed_at"].isoformat(),
                )
                for r in found
            ]

        return self._call(work)

    def merge(self, rows: list[tuple[int, bytes | None, str, str | None]]) -> int:
        async def work(conn: Any) -> int:
            changed = 0
            async with conn.transaction():
                for key_id, key, created_at, destroyed_at in rows:
                    created = datetime.fromisoformat(created_at)
                    if destroyed_at is not None:
                        status = await conn.execute(
                            f"INSERT INTO {PG_TABLE} (key_id, key, created_at, destroyed_at) "
                            "VALUES ($1, NULL, $2, $3) ON CONFLICT (key_id) DO UPDATE "
                            "SET key = NULL, destroyed_at = excluded.destroyed_at "
                            f"WHERE {PG_TABLE}.destroyed_at IS NULL",
                            key_id,
                            created,
                            datetime.fromisoformat(destroyed_at),
                        )
                    else:
                        status = await conn.execute(
                            f"INSERT INTO {PG_TABLE} (key_id, key, created_at) "
                            "VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING",
                            key_id,
                            key,
                            created,
                        )
                    changed += int(status.rsplit(" ", 1)[-1])
            return changed

        return self._call(work)

    def record_backup(self, path: str) -> None:
        async def work(conn: Any) -> None:
            await conn.execute(
                f"INSERT INTO {PG_BACKUPS_TABLE} (path) VALUES ($1) ON CONFLICT DO NOTHING", path
            )

        self._call(work)

    def backup_paths(self) -> list[str]:
        async def work(conn: Any) -> list[str]:
            rows = await conn.fetch(f"SELECT path FROM {PG_BACKUPS_TABLE} ORDER BY path")
            return [str(r["path"]) for r in rows]

        return self._call(work)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._drop_connection(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        # A stopped loop still holds its selector and self-pipe until closed.
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


def _retryable(error: Exception) -> bool:
    import asyncpg

    return isinstance(
        error,
        asyncpg.UndefinedTableError | asyncpg.InterfaceError | ConnectionError | OSError,
    )
