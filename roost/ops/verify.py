"""``roost backup verify``: prove a backup restores, by restoring it.

Checksums first (every member against the manifest), then a real restore into a
scratch place: a SQLite file in a temporary directory, or a scratch database
created on the configured PostgreSQL server and dropped afterwards. There:
SQLite's integrity check, row counts per table against the manifest, migration
to this release's schema, and the newest posts rendered as the API would. A
success leaves ``<backup>.verified.json`` beside the backup for `roost doctor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.db.tables import statuses
from roost.ops import pgtools
from roost.ops.archive import Manifest
from roost.ops.backup import VERIFIED_SUFFIX
from roost.ops.errors import BackupDamaged, BackupError
from roost.ops.restore import check_schema, extract_backup, load_pg_dump
from roost.ops.snapshot import PG_MEMBER, SQLITE_MEMBER, quote, sqlite_counts

RENDER_SAMPLE = 200


@dataclass
class VerifyReport:
    manifest: Manifest
    checks: list[str] = field(default_factory=list)
    restore_seconds: float = 0.0
    total_seconds: float = 0.0


def _compare_counts(found: dict[str, int], manifest: Manifest) -> None:
    for table, expected in sorted(manifest.row_counts.items()):
        actual = found.get(table)
        if actual is None:
            raise BackupDamaged(f"table {table} is in the manifest but not in the database")
        if actual != expected:
            raise BackupDamaged(
                f"table {table} has {actual} rows after restoring; the manifest says {expected}"
            )


def _check_sqlite(path: Path, manifest: Manifest) -> str:
    conn = sqlite3.connect(path)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupDamaged(f"the database fails SQLite's integrity check: {verdict}")
        _compare_counts(sqlite_counts(conn), manifest)
    finally:
        conn.close()
    return "SQLite integrity_check: ok"


async def _pg_counts(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with db.engine.connect() as conn:
        names = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        )
        for (name,) in names.all():
            counts[name] = int(
                (await conn.execute(text(f"SELECT count(*) FROM {quote(name)}"))).scalar_one()
            )
    return counts


async def render_posts(db: Database, base_url: str, limit: int = RENDER_SAMPLE) -> int:
    """Render the newest original posts as their authors would see them; raises
    BackupDamaged naming a post that does not render."""
    from roost.api.mastodon import serializers
    from roost.domain.statuses.queries import statuses_by_ids
    from roost.domain.types import Viewer

    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(statuses.c.id, statuses.c.account_id)
                .where(statuses.c.reblog_of_id.is_(None))
                .order_by(statuses.c.id.desc())
                .limit(limit)
            )
        ).all()
        for row in rows:
            views = await statuses_by_ids(conn, Viewer(account_id=row.account_id), [row.id])
            if not views:
                raise BackupDamaged(f"post {row.id} does not render after restoring")
            rendered = serializers.status(views[0], base_url)
            if rendered["id"] != str(row.id):
                raise BackupDamaged(f"post {row.id} renders as another post")
        total = (await conn.execute(select(func.count()).select_from(statuses))).scalar_one()
    return min(len(rows), int(total))


async def _restore_sqlite(scratch: Path, manifest: Manifest, settings: Settings) -> list[str]:
    checks = [await asyncio.to_thread(_check_sqlite, scratch / SQLITE_MEMBER, manifest)]
    checks.append(f"row counts: {len(manifest.row_counts)} tables match the manifest")
    url = f"sqlite:///{(scratch / SQLITE_MEMBER).resolve()}"
    # The live key store opens the restored posts (it is never in a backup).
    scratch_settings = settings.model_copy(
        update={"database_url": url, "data_dir": scratch, "key_store_file": settings.key_store_path}
    )
    db = Database(scratch_settings)
    try:
        status = await upgrade(db)
        checks.append(f"schema migrated to {status.current}")
        rendered = await render_posts(db, settings.base_url)
    finally:
        await db.dispose()
    checks.append(f"posts render: the newest {rendered} posts")
    return checks


async def _restore_pg(scratch: Path, manifest: Manifest, settings: Settings) -> list[str]:
    import asyncpg  # type: ignore[import-untyped]

    if settings.is_sqlite:
        raise BackupError(
            "this is a PostgreSQL backup; verifying it restores it into a scratch database, "
            "so set ROOST_DATABASE_URL to a server where Roost may create one"
        )
    admin = pgtools.connection(settings.database_url)
    name = f"roost_verify_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin.dsn, password=admin.password)
    try:
        await conn.execute(f"CREATE DATABASE {quote(name)}")
    except asyncpg.PostgresError as error:
        raise BackupError(f"cannot create a scratch database to verify in: {error}") from None
    finally:
        await conn.close()
    url = pgtools.with_database(settings.database_url, name)
    try:
        await load_pg_dump(settings, scratch / PG_MEMBER, url, clear=False)
        checks = ["pg_restore: the dump loads into a scratch database"]
        keys_at = settings.key_store_url or settings.database_url
        db = Database(settings.model_copy(update={"database_url": url, "key_store_url": keys_at}))
        try:
            _compare_counts(await _pg_counts(db), manifest)
            checks.append(f"row counts: {len(manifest.row_counts)} tables match the manifest")
            status = await upgrade(db)
            checks.append(f"schema migrated to {status.current}")
            rendered = await render_posts(db, settings.base_url)
            checks.append(f"posts render: the newest {rendered} posts")
        finally:
            await db.dispose()
    finally:
        conn = await asyncpg.connect(admin.dsn, password=admin.password)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")
        finally:
            await conn.close()
    return checks


async def verify_backup(
    settings: Settings,
    path: Path,
    *,
    key_file: Path | None = None,
    scratch_dir: Path | None = None,
) -> VerifyReport:
    """Raises BackupDamaged naming what is wrong; returns what was checked."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="roost-verify-", dir=scratch_dir) as tmp:
        scratch = Path(tmp)
        manifest = await asyncio.to_thread(extract_backup, path, scratch, key_file)
        report = VerifyReport(manifest)
        size = sum(e.size for e in manifest.files.values())
        report.checks.append(
            f"checksums: {len(manifest.files)} files ({size // 1024} KiB) match the manifest"
        )
        check_schema(manifest)
        restore_started = time.monotonic()
        if manifest.database_member == SQLITE_MEMBER:
            report.checks += await _restore_sqlite(scratch, manifest, settings)
        elif manifest.database_member == PG_MEMBER:
            report.checks += await _restore_pg(scratch, manifest, settings)
        else:
            raise BackupDamaged(f"unknown database member {manifest.database_member}")
        media = sum(1 for name in manifest.files if name.startswith("media/"))
        report.checks.append(f"media: {media} files present with their checksums")
        report.restore_seconds = time.monotonic() - restore_started
    report.total_seconds = time.monotonic() - started
    _record(path, report)
    return report


def _record(path: Path, report: VerifyReport) -> None:
    sidecar = path.with_name(path.name + VERIFIED_SUFFIX)
    record = {
        "verified_at": utcnow().isoformat(),
        "checks": report.checks,
        "restore_seconds": round(report.restore_seconds, 3),
    }
    # A read-only backup target keeps no record; the verdict is still printed.
    with contextlib.suppress(OSError):
        sidecar.write_text(json.dumps(record, indent=2))
