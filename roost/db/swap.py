"""Copy-and-swap: how a schema change reaches an SQLite database file.

SQLite's DDL is transactional, but Alembic's batch operations rebuild a table
(create, copy, drop, rename) with foreign keys switched off around them, which
cannot happen inside a transaction. So a change is made on a copy of the file
(``.<name>.migrating`` beside it, taken with SQLite's backup API), and only a
change that completed replaces the file, in one rename. A change that fails
removes the copy: the file the installation runs on was never written.

The swap assumes no other process has the file open (embedded mode is one
process, which migrates before it serves); a write made to the old file by
another process during the change would be lost with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from roost.db.engine import configure_sqlite
from roost.errors import StorageFull

Step = Callable[[Connection], Any]
_SIDE_FILES = ("-wal", "-shm", "-journal")


def sqlite_file(url: str) -> Path | None:
    """The database file an SQLite URL names; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def working_copy(path: Path) -> Path:
    return path.with_name(f".{path.name}.migrating")


def _remove(path: Path) -> None:
    for name in (path, *(path.with_name(path.name + end) for end in _SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            name.unlink()


# Room kept free beside the copy: a migration that rebuilds a table writes
# it once more inside the copy before the old one is dropped.
_HEADROOM = 1.5


def _copy(path: Path, copy: Path) -> None:
    _remove(copy)
    size = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    free = shutil.disk_usage(path.parent).free
    if free < size * _HEADROOM:
        raise StorageFull(
            f"migrating needs room for a copy of the database ({size // 2**20} MiB, and half "
            f"as much again) beside it in {path.parent}; only {free // 2**20} MiB is free: "
            "free some space, the database was not changed",
            retry_after=0,
        )
    source = sqlite3.connect(path, timeout=30)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _swap(copy: Path, path: Path) -> None:
    # Fold the copy's write-ahead log into the file, so the rename moves all of it.
    conn = sqlite3.connect(copy)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    fd = os.open(copy, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(copy, path)
    # The old file's log and index belong to the file just replaced: left
    # beside the new one, SQLite would replay them into it.
    for end in _SIDE_FILES:
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + end).unlink()
        with contextlib.suppress(FileNotFoundError):
            copy.with_name(copy.name + end).unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class BrokenForeignKeys(Exception):
    """A schema change left rows pointing at rows that do not exist."""


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise BrokenForeignKeys(
            f"the schema change left {len(broken)} row(s) whose references point nowhere "
            f"(in {', '.join(tables)}); the database was not changed"
        )


async def change_a_copy(url: str, path: Path, step: Step) -> None:
    """Run ``step`` (in one transaction) on a copy of the file at ``path``;
    replace the file with the copy only if it succeeded. Raises what ``step``
    raised, with the file as it was."""
    copy = working_copy(path)
    await asyncio.to_thread(_copy, path, copy)
    engine = create_async_engine(
        make_url(url).set(database=str(copy)).render_as_string(hide_password=False),
        hide_parameters=True,
    )
    configure_sqlite(engine)

    @event.listens_for(engine.sync_engine, "connect")
    def _keys_checked_at_the_end(dbapi_connection: Any, _record: Any) -> None:
        # A batch operation rebuilds a table (drop, then rename a copy): with
        # foreign keys enforced, dropping ``accounts`` would cascade into every
        # row that points at it. The copy is private; its keys are checked
        # once, below, before it may replace the file.
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(step)
            await conn.run_sync(_check_foreign_keys)
    except BaseException:
        await engine.dispose()
        await asyncio.to_thread(_remove, copy)
        raise
    await engine.dispose()
    await asyncio.to_thread(_swap, copy, path)
