"""A consistent copy of the database while Roost keeps serving.

SQLite: the online backup API copies the file in one step inside one read
transaction, so the copy is a single moment of the database; under WAL writers
are not blocked meanwhile. PostgreSQL: a repeatable-read transaction exports its
snapshot, the row counts are taken in it, and pg_dump dumps that same snapshot,
so the counts in the manifest describe exactly the rows in the dump.

Tables of derived stores are emptied in the copy (SQLite) or dumped without
data (PostgreSQL): they are rebuilt on restore.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roost import addresses
from roost.config import Settings
from roost.keys.store import PG_TABLES as KEY_TABLES
from roost.ops import pgtools
from roost.ops.errors import BackupError

SQLITE_MEMBER = "database/roost.sqlite3"
PG_MEMBER = "database/roost.pgdump"


@dataclass
class Snapshot:
    path: Path
    member: str
    backend: str
    schema_revision: str | None
    row_counts: dict[str, int]
    details: dict[str, Any] = field(default_factory=dict)


def sqlite_path(settings: Settings) -> Path:
    """The database file the settings name (embedded mode)."""
    url = settings.sqlalchemy_url
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or ":memory:" in path:
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(path)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    """Ordinary tables, without SQLite's own and the shadow tables of virtual ones."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
    ).fetchall()
    virtual = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
        )
    ]
    shadows = {name for (name,) in rows for v in virtual if name.startswith(v + "_")}
    return sorted({name for (name,) in rows} - shadows)


def sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        t: int(conn.execute(f"SELECT count(*) FROM {quote(t)}").fetchone()[0])
        for t in sqlite_tables(conn)
    }


def sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _sqlite_snapshot(source: Path, dest: Path, derived: list[str]) -> Snapshot:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(dest)
    try:
        live.backup(copy)  # pages=-1: the whole file in one step, one snapshot
    finally:
        live.close()
    try:
        copy.execute("PRAGMA secure_delete=ON")
        # Virtual tables too (a full-text index is one).
        existing = {
            r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        cleared = [t for t in derived if t in existing]
        for table in cleared:
            copy.execute(f"DELETE FROM {quote(table)}")
        copy.commit()
        if cleared:
            copy.execute("VACUUM")
        # One self-contained file (no -wal beside it) to put in the archive.
        copy.execute("PRAGMA journal_mode=DELETE")
        counts = sqlite_counts(copy)
        revision = sqlite_revision(copy)
    finally:
        copy.close()
    return Snapshot(
        dest,
        SQLITE_MEMBER,
        "sqlite",
        revision,
        counts,
        {"sqlite_version": sqlite3.sqlite_version, "derived_tables_emptied": cleared},
    )


async def _pg_snapshot(settings: Settings, dest: Path, derived: list[str]) -> Snapshot:
    import asyncpg  # type: ignore[import-untyped]

    target = addresses.connection(settings.database_url)
    pg_dump = pgtools.tool(settings, "pg_dump")
    conn = await asyncpg.connect(target.dsn, password=target.password)
    try:
        server = int(await conn.fetchval("SHOW server_version_num"))
        dump_major = await pgtools.check_dump_tool(pg_dump, server)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot_id = await conn.fetchval("SELECT pg_export_snapshot()")
            # The key store's tables are never in a data backup: erasure must
            # be able to take a key out of every copy, and this one is not mutable.
            tables = [
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "ORDER BY tablename"
                )
                if r["tablename"] not in KEY_TABLES
            ]
            emptied = [t for t in derived if t in tables]
            counts = {
                t: 0
                if t in emptied
                else int(await conn.fetchval(f"SELECT count(*) FROM {quote(t)}"))
                for t in tables
            }
            revision = None
            if "alembic_version" in tables:
                revision = await conn.fetchval("SELECT version_num FROM alembic_version")
            args = [
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot_id}",
                *(f"--exclude-table-data={quote(t)}" for t in emptied),
                *(f"--exclude-table={quote(t)}" for t in KEY_TABLES),
                f"--file={dest}",
                f"--dbname={target.dsn}",
            ]
            # The exporting transaction must stay open until pg_dump has
            # attached to its snapshot; it is held for the whole dump.
            await pgtools.run(pg_dump, args, env=target.env())
    finally:
        await conn.close()
    return Snapshot(
        dest,
        PG_MEMBER,
        "postgresql",
        revision,
        counts,
        {
            "server_version_num": server,
            "pg_dump_major": dump_major,
            "derived_tables_emptied": emptied,
        },
    )


async def take_snapshot(settings: Settings, staging: Path, derived: list[str]) -> Snapshot:
    if settings.is_sqlite:
        return await asyncio.to_thread(
            _sqlite_snapshot, sqlite_path(settings), staging / "roost.sqlite3", derived
        )
    return await _pg_snapshot(settings, staging / "roost.pgdump", derived)
