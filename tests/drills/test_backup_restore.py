"""Drill (threats 6, 47, 48): the database is lost; the backup must bring it back.

Back up while posts are being written, wipe the data directory (and, on
PostgreSQL, every table), restore: every post confirmed before the backup began
is back with the same content. A backup cut short or with one byte changed is
refused by verify, naming what is wrong.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from roost.app import create_app
from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import statuses
from roost.media.store import media_root, media_store
from roost.ops.backup import create_backup, media_files
from roost.ops.errors import BackupDamaged
from roost.ops.restore import restore_backup
from roost.ops.verify import verify_backup
from tests.conftest import Roost

pytestmark = pytest.mark.slow


def _digest(text: str, content: str, spoiler: str) -> str:
    return hashlib.sha256("\x00".join((text, content, spoiler)).encode()).hexdigest()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


def _media_digests(settings: Settings) -> dict[str, str]:
    return {
        name: hashlib.sha256(path.read_bytes()).hexdigest()
        for name, path in media_files(media_root(settings))
    }


async def _db_digests(settings: Settings) -> dict[int, str]:
    db = Database(settings)
    try:
        async with db.read() as conn:
            rows = await conn.execute(
                select(statuses.c.id, statuses.c.text, statuses.c.content, statuses.c.spoiler_text)
            )
            return {r.id: _digest(r.text, r.content, r.spoiler_text) for r in rows}
    finally:
        await db.dispose()


async def _wipe(settings: Settings) -> None:
    """Lose everything: the data directory, and on PostgreSQL every table."""
    shutil.rmtree(settings.data_dir)
    if not settings.is_sqlite:
        conn = await asyncpg.connect(settings.database_url)
        try:
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ):
                await conn.execute(f'DROP TABLE "{row["tablename"]}" CASCADE')
        finally:
            await conn.close()


def test_given_posts_written_during_a_backup_when_the_data_is_wiped_and_restored_then_every_confirmed_post_is_back(  # noqa: E501
    settings: Settings, tmp_path: Path
) -> None:
    app_settings = settings.model_copy(update={"run_jobs_in_process": False})
    confirmed: dict[int, str] = {}
    with TestClient(create_app(app_settings)) as client:
        roost = Roost(client, app_settings)
        alice, bob = roost.account("alice"), roost.account("bob")
        # A stored file, through the media store's own seam (uploads have their
        # own tests); the backup must carry its bytes whatever references it.
        stored = roost.run(lambda: media_store(settings).put(_png(), "png"))
        posts: list[dict[str, Any]] = [
            alice.post_status("a post before the backup"),
            alice.post_status("@bob only for you", visibility="direct"),
            alice.post_status("behind a warning", spoiler_text="cw"),
        ]
        posts += [bob.post_status(f"bob's post number {n}") for n in range(20)]
        for post in posts:
            confirmed[int(post["id"])] = ""
        media_before = _media_digests(settings)
        # The sign-in forms' key, kept in the data directory when not configured.
        secret = "kept across the restore\n"
        (settings.data_dir / "secret_key").write_text(secret)
        assert media_before, "the upload left no file in the media store"

        stop = threading.Event()
        written_during: list[int] = []

        def keep_writing() -> None:
            n = 0
            while not stop.is_set():
                written_during.append(int(bob.post_status(f"written during the backup {n}")["id"]))
                n += 1

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            time.sleep(0.2)  # the writer is in full flow when the backup starts
            backup = asyncio.run(create_backup(settings, to=tmp_path / "backups"))
            time.sleep(0.2)
        finally:
            stop.set()
            writer.join()
    assert written_during, "no post was written while the backup ran"
    before = asyncio.run(_db_digests(settings))
    for status_id in confirmed:
        confirmed[status_id] = before[status_id]

    asyncio.run(_wipe(settings))
    assert not settings.data_dir.exists()
    report = asyncio.run(restore_backup(settings, backup.path))

    after = asyncio.run(_db_digests(settings))
    for status_id, digest in confirmed.items():
        assert after.get(status_id) == digest, f"post {status_id} did not come back intact"
    # Everything the restored database holds is what the backup's snapshot held.
    assert len(after) == backup.manifest.row_counts["statuses"]
    assert _media_digests(settings) == media_before
    assert (settings.data_dir / "secret_key").read_text() == secret
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    print(f"\nrestore of {len(after)} posts took {report.seconds:.2f}s on {backend}")

    with TestClient(create_app(app_settings)) as client:
        shown = client.get(f"/api/v1/statuses/{posts[0]['id']}")
        assert shown.status_code == 200
        assert shown.json()["content"] == posts[0]["content"]
    assert media_store(settings).path(stored.key) is not None


def _cut(source: Path, target: Path, keep: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def _flip_byte_in(source: Path, target: Path, marker: bytes) -> Path:
    data = bytearray(source.read_bytes())
    at = data.find(marker)
    assert at >= 0
    data[at] ^= 0x01
    target.write_bytes(bytes(data))
    return target


def test_given_a_truncated_or_altered_backup_when_verified_then_it_fails_naming_the_part(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    alice.post_status("a canary-free post that must survive")
    backup = asyncio.run(create_backup(roost.settings, to=tmp_path / "b"))
    good = asyncio.run(verify_backup(roost.settings, backup.path))
    assert any("row counts" in check for check in good.checks)
    assert any("posts render: the newest 1 posts" in check for check in good.checks)

    truncated = _cut(backup.path, tmp_path / "truncated.tar", 0.5)
    with pytest.raises(BackupDamaged, match=r"truncated .*database/roost\.(sqlite3|pgdump)"):
        asyncio.run(verify_backup(roost.settings, truncated))

    tail_cut = _cut(backup.path, tmp_path / "tail.tar", 0.999)
    with pytest.raises(BackupDamaged, match="truncated"):
        asyncio.run(verify_backup(roost.settings, tail_cut))

    manifest_text = b'"schema_revision"'
    altered_manifest = _flip_byte_in(backup.path, tmp_path / "m.tar", manifest_text)
    with pytest.raises(BackupDamaged, match="manifest"):
        asyncio.run(verify_backup(roost.settings, altered_manifest))

    # One bit inside the database dump: the checksum names the member.
    data = bytearray(backup.path.read_bytes())
    at = data.find(b"database/roost.")
    data[at + 4096] ^= 0x01
    altered = tmp_path / "altered.tar"
    altered.write_bytes(bytes(data))
    with pytest.raises(BackupDamaged, match=r"database/roost\.\w+ has been altered"):
        asyncio.run(verify_backup(roost.settings, altered))
