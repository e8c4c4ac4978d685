"""``roost backup verify``: prove a backup restores, by restoring it.

Checksums first (every member against the manifest), then a real restore into a
scratch place: a SQLite file in a temporary directory, or a scratch database
created on the configured PostgreSQL server and dropped afterwards. There:
SQLite's integrity check, row counts per table against the manifest, migration
to this release's schema, and the newest posts rendered as the API would. A
success leaves ``<backup>.verified.json`` beside the backup for `roost doctor`.
Media kept in a bucket (``ROOST_MEDIA_STORE=s3``) is not in the archive: each
object its manifest lists must still be in the configured bucket, same size.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from roost import addresses
from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.db.tables import statuses
from roost.domain.audit.chain import verify as verify_audit
from roost.ops.archive import Manifest
from roost.ops.backup import VERIFIED_SUFFIX
from roost.ops.errors import BackupDamaged, BackupError
from roost.ops.restore import check_schema, extract_backup, load_pg_dump
from roost.ops.snapshot import PG_MEMBER, SQLITE_MEMBER, quote, sqlite_counts

if TYPE_CHECKING:
    from roost.domain.privacy import Visible
    from roost.domain.types import StatusView

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


# How a post renders for its readers. The wire format belongs to the API, so
# the API installs it (roost/api/mastodon/hooks.py) in every entry point that
# verifies backups; this module never imports it.
RenderPost = Callable[["Visible[StatusView]", str], Mapping[str, Any]]
_renderer: RenderPost | None = None


def render_posts_with(render: RenderPost) -> None:
    """Install how ``render_posts`` renders a post (the API's serializer)."""
    global _renderer
    _renderer = render


async def render_posts(db: Database, base_url: str, limit: int = RENDER_SAMPLE) -> int:
    """Render the newest original posts as their authors would see them; raises
    BackupDamaged naming a post that does not render."""
    if _renderer is None:
        # A programming error, not an operator's: an entry point skipped it.
        raise RuntimeError(
            "no post renderer: the entry point must call roost.api.mastodon.hooks.install()"
        )
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
            rendered = _renderer(views[0], base_url)
            if rendered["id"] != str(row.id):
                raise BackupDamaged(f"post {row.id} renders as another post")
        total = (await conn.execute(select(func.count()).select_from(statuses))).scalar_one()
    return min(len(rows), int(total))


async def check_audit_chain(db: Database, manifest: Manifest) -> str:
    """The restored audit log verifies and holds the head the manifest copied."""
    head = manifest.details.get("audit_head")
    expected = head.get("hash") if isinstance(head, dict) else None
    async with db.read() as conn:
        verdict = await verify_audit(conn, expected_head=expected)
    if not verdict.intact:
        raise BackupDamaged(f"audit log: {verdict.problem}")
    if expected is None:
        return f"audit log: {verdict.count} entries verify (the manifest names no head)"
    return f"audit log: {verdict.count} entries verify, up to the manifest's head"


async def _restore_sqlite(scratch: Path, manifest: Manifest, settings: Settings) -> list[str]:
    checks = [await asyncio.to_thread(_check_sqlite, scratch / SQLITE_MEMBER, manifest)]
    checks.append(f"row counts: {len(manifest.row_counts)} tables match the manifest")
    url = f"sqlite:///{(scratch / SQLITE_MEMBER).resolve()}"
    # The restored posts open with the process's (live) key store: a backup
    # never holds keys.
    db = Database(settings.model_copy(update={"database_url": url, "data_dir": scratch}))
    try:
        status = await upgrade(db)
        checks.append(f"schema migrated to {status.current}")
        rendered = await render_posts(db, settings.base_url)
        audit = await check_audit_chain(db, manifest)
    finally:
        await db.dispose()
    checks.append(f"posts render: the newest {rendered} posts")
    checks.append(audit)
    return checks


async def _restore_pg(scratch: Path, manifest: Manifest, settings: Settings) -> list[str]:
    import asyncpg  # type: ignore[import-untyped]

    if settings.is_sqlite:
        raise BackupError(
            "this is a PostgreSQL backup; verifying it restores it into a scratch database, "
            "so set ROOST_DATABASE_URL to a server where Roost may create one"
        )
    admin = addresses.connection(settings.database_url)
    name = f"roost_verify_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin.dsn, password=admin.password)
    try:
        await conn.execute(f"CREATE DATABASE {quote(name)}")
    except asyncpg.PostgresError as error:
        raise BackupError(f"cannot create a scratch database to verify in: {error}") from None
    finally:
        await conn.close()
    url = addresses.with_database(settings.database_url, name)
    try:
        await load_pg_dump(settings, scratch / PG_MEMBER, url, clear=False)
        checks = ["pg_restore: the dump loads into a scratch database"]
        # As on SQLite, the process's (live) key store opens the restored posts.
        db = Database(settings.model_copy(update={"database_url": url}))
        try:
            _compare_counts(await _pg_counts(db), manifest)
            checks.append(f"row counts: {len(manifest.row_counts)} tables match the manifest")
            status = await upgrade(db)
            checks.append(f"schema migrated to {status.current}")
            rendered = await render_posts(db, settings.base_url)
            checks.append(f"posts render: the newest {rendered} posts")
            checks.append(await check_audit_chain(db, manifest))
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
        if "media_bucket" in manifest.details:
            report.checks.append(await check_bucket(settings, manifest.details["media_bucket"]))
        else:
            report.checks.append(f"media: {media} files present with their checksums")
        report.restore_seconds = time.monotonic() - restore_started
    report.total_seconds = time.monotonic() - started
    _record(path, report)
    return report


async def check_bucket(settings: Settings, listed: Mapping[str, Any]) -> str:
    """Every object the backup's manifest lists is in the bucket, same size."""
    from roost.media.s3 import S3MediaStore
    from roost.media.store import media_store

    if settings.media_store != "s3" or settings.s3_bucket != listed.get("bucket"):
        raise BackupError(
            f"the backup's media is in bucket {listed.get('bucket')!r}: "
            "set ROOST_MEDIA_STORE=s3 and ROOST_S3_BUCKET to it to verify"
        )
    store = media_store(settings)
    assert isinstance(store, S3MediaStore)
    present = {o.key: o.size for o in await store.list_objects()}
    wanted: dict[str, int] = dict(listed.get("objects", {}))
    missing = sorted(k for k in wanted if k not in present)
    resized = sorted(k for k, size in wanted.items() if k in present and present[k] != size)
    if missing or resized:
        names = ", ".join((missing + resized)[:5])
        raise BackupDamaged(
            f"media bucket {listed['bucket']}: {len(missing)} objects missing and "
            f"{len(resized)} of another size than the backup lists (e.g. {names})"
        )
    return f"media: {len(wanted)} objects present in bucket {listed['bucket']}"


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
