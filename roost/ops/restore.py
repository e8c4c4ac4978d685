"""``roost backup restore``: put a backup back, safely.

Order: extract and check every checksum into a staging directory (nothing live
is touched until the whole backup has proved sound); refuse a schema newer than
this release knows; refuse to replace existing data unless forced, and then back
that data up first; load the database; put media and the secret key in place;
migrate an older schema forward; rebuild the derived stores.

Stop Roost (every server and worker) before restoring: a running process would
keep serving from what it had in memory and write into the restored data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from roost import addresses
from roost.config import Settings
from roost.db.engine import Database
from roost.db.migrate import known_revisions, upgrade
from roost.keys.backup import KEY_BACKUP_NAME, restore_keys
from roost.keys.store import PG_TABLES as KEY_TABLES
from roost.media.store import media_root
from roost.ops import pgtools
from roost.ops.archive import Manifest, read_archive
from roost.ops.backup import BackupResult, create_backup, media_files
from roost.ops.crypto import MAGIC, DecryptingReader, read_key_file
from roost.ops.derived import derived_stores
from roost.ops.errors import BackupDamaged, BackupError, RestoreRefused
from roost.ops.snapshot import PG_MEMBER, SQLITE_MEMBER, quote, sqlite_path

_RECORD = 10240  # tarfile's record size: a stream is padded to a multiple of it


def extract_backup(path: Path, into: Path, key_file: Path | None) -> Manifest:
    """Decrypt (when encrypted) and extract ``path`` under ``into``, checking
    every member against the manifest. Raises BackupDamaged / BackupError."""
    try:
        raw = path.open("rb")
    except OSError as error:
        raise BackupError(f"cannot open {path}: {error.strerror}") from None
    with raw:
        encrypted = raw.read(len(MAGIC)) == MAGIC
        raw.seek(0)
        if not encrypted:
            # Reading first names the member a cut falls in; a cut in the
            # padding after the manifest is caught by the ending.
            manifest = read_archive(raw, into)
            _check_ending(raw, path)
            return manifest
        if key_file is None:
            raise BackupError(f"{path.name} is encrypted; pass its key with --key-file")
        return read_archive(DecryptingReader(raw, read_key_file(key_file)), into)


def _check_ending(raw: BinaryIO, path: Path) -> None:
    """A whole tar stream ends in two zero blocks and fills its last record: a
    file cut anywhere, even in that padding, is caught before it is read."""
    size = os.fstat(raw.fileno()).st_size
    if size >= _RECORD:
        raw.seek(size - 1024)
        tail = raw.read(1024)
        raw.seek(0)
        if size % _RECORD == 0 and tail == bytes(1024):
            return
    if size >= 512:  # else read_archive says it is no backup at all
        raise BackupDamaged(f"{path.name} is truncated: its end-of-archive marker is missing")


def check_schema(manifest: Manifest) -> None:
    if manifest.schema_revision is not None and manifest.schema_revision not in known_revisions():
        raise RestoreRefused(
            f"the backup is at schema revision {manifest.schema_revision}, which this release "
            f"does not know: it was made by a newer Roost ({manifest.roost_version}). Restore "
            "it with that release or a later one."
        )


def check_backend(settings: Settings, manifest: Manifest) -> None:
    want = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest.backend != want:
        raise RestoreRefused(
            f"this is a {manifest.backend} backup and Roost is configured for {want}; "
            "set ROOST_DATABASE_URL to match the backup"
        )


async def existing_data(settings: Settings) -> str | None:
    """A description of what is already there, or None when nothing is."""
    parts: list[str] = []
    if not settings.is_sqlite or sqlite_path(settings).exists():
        db = Database(settings)
        try:
            async with db.engine.connect() as conn:
                rows = await conn.run_sync(_row_total)
        finally:
            await db.dispose()
        if rows:
            parts.append(f"{rows} database rows")
    files = sum(1 for _ in media_files(media_root(settings)))
    if files:
        parts.append(f"{files} media files")
    return " and ".join(parts) or None


def _row_total(conn: Any) -> int:
    from sqlalchemy import inspect, text

    total = 0
    for table in inspect(conn).get_table_names():
        if table != "alembic_version" and table not in KEY_TABLES:
            total += int(conn.execute(text(f"SELECT count(*) FROM {quote(table)}")).scalar_one())
    return total


def _load_sqlite(extracted: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    temporary = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(extracted, temporary)
    check = sqlite3.connect(temporary)
    try:
        verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if verdict != "ok":
        temporary.unlink()
        raise BackupError(f"the database in the backup fails SQLite's integrity check: {verdict}")
    os.replace(temporary, target)


async def load_pg_dump(settings: Settings, dump: Path, url: str, *, clear: bool) -> None:
    """pg_restore ``dump`` into the database at ``url``, in one transaction;
    ``clear`` drops the tables there first."""
    import asyncpg  # type: ignore[import-untyped]

    target = addresses.connection(url)
    pg_restore = pgtools.tool(settings, "pg_restore")
    if clear:
        conn = await asyncpg.connect(target.dsn, password=target.password)
        try:
            async with conn.transaction():
                for row in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                ):
                    if row["tablename"] in KEY_TABLES:
                        continue  # the key store is not the backup's to replace
                    await conn.execute(f"DROP TABLE IF EXISTS {quote(row['tablename'])} CASCADE")
        finally:
            await conn.close()
    await pgtools.run(
        pg_restore,
        [
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={target.dsn}",
            str(dump),
        ],
        env=target.env(),
    )


def _put_media(staged: Path, root: Path, *, replace: bool) -> int:
    if replace and root.is_dir():
        for _, path in list(media_files(root)):
            path.unlink()
    count = 0
    for name, path in media_files(staged):
        final = root / name
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, final)
        count += 1
    return count


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    seconds: float
    media_files: int
    safety_backup: BackupResult | None
    schema_after: str | None
    rebuilt: list[str]
    # The key-store backup merged into the key store, if one was found.
    keys_from: Path | None = None
    keys_merged: int = 0


async def restore_backup(
    settings: Settings,
    path: Path,
    *,
    key_file: Path | None = None,
    force: bool = False,
    safety_dir: Path | None = None,
    keys_file: Path | None = None,
) -> RestoreReport:
    """Put the backup at ``path`` back (see the module's docstring).

    The key store is not in the backup: the installation's own is used, and
    the key-store backup (``keys_file``, else ``roost-keys.sqlite3`` beside
    the backup or in the backup directory) is merged into it, so a lost key
    store comes back too. Keys an erasure destroyed are in neither: that
    account's content in the restored data stays unreadable.
    """
    started = time.monotonic()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.data_dir))
    try:
        manifest = await asyncio.to_thread(extract_backup, path, staging, key_file)
        check_schema(manifest)
        check_backend(settings, manifest)
        present = await existing_data(settings)
        safety = None
        if present is not None:
            if not force:
                raise RestoreRefused(
                    f"the installation already holds {present}; pass --force to replace it "
                    "(a backup of it is taken first)"
                )
            safety = await create_backup(settings, to=safety_dir or settings.backups_path)
        if manifest.database_member == SQLITE_MEMBER:
            await asyncio.to_thread(_load_sqlite, staging / SQLITE_MEMBER, sqlite_path(settings))
        elif manifest.database_member == PG_MEMBER:
            await load_pg_dump(settings, staging / PG_MEMBER, settings.database_url, clear=True)
        else:
            raise BackupError(f"unknown database member {manifest.database_member}")
        count = await asyncio.to_thread(
            _put_media, staging / "media", media_root(settings), replace=present is not None
        )
        secret = staging / "files" / "secret_key"
        if secret.is_file():
            shutil.copyfile(secret, settings.data_dir / "secret_key")
            os.chmod(settings.data_dir / "secret_key", 0o600)
        candidates = (
            [keys_file]
            if keys_file is not None
            else [
                path.parent / KEY_BACKUP_NAME,
                settings.backups_path / KEY_BACKUP_NAME,
            ]
        )
        keys_from, merged = await asyncio.to_thread(restore_keys, candidates)
        schema_after, rebuilt = await _migrate_and_rebuild(settings)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(
        manifest,
        time.monotonic() - started,
        count,
        safety,
        schema_after,
        rebuilt,
        keys_from,
        merged,
    )


async def _migrate_and_rebuild(settings: Settings) -> tuple[str | None, list[str]]:
    from roost.services import build_services

    services = build_services(settings)
    rebuilt: list[str] = []
    try:
        status = await upgrade(services.db)
        for store in derived_stores():
            if store.rebuild is not None:
                await store.rebuild(services)
                rebuilt.append(store.name)
    finally:
        with contextlib.suppress(Exception):
            await services.close()
    return status.current, rebuilt
