"""Backups as an operator meets them: encryption, refusals, migration, retention."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine
from typer.testing import CliRunner

from roost.cli.main import app
from roost.config import load_settings
from roost.db.engine import Database
from roost.db.migrate import _config, schema_status
from roost.ops.archive import ArchiveWriter, read_archive
from roost.ops.backup import create_backup, list_backups, next_backup_delay, prune_backups
from roost.ops.crypto import new_key_file
from roost.ops.errors import BackupDamaged, BackupError, RestoreRefused
from roost.ops.pgtools import check_dump_tool
from roost.ops.restore import restore_backup
from roost.ops.verify import verify_backup
from tests.conftest import Roost

runner = CliRunner()


def test_given_an_encrypted_backup_then_only_its_key_opens_it_and_a_changed_byte_is_refused(
    roost: Roost, tmp_path: Path
) -> None:
    roost.account("alice").post_status("sealed in the backup")
    key, other = tmp_path / "backup.key", tmp_path / "other.key"
    new_key_file(key)
    new_key_file(other)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    backup = asyncio.run(create_backup(roost.settings, to=tmp_path / "b", key_file=key))
    assert backup.path.name.endswith(".tar.enc")
    assert b"sealed in the backup" not in backup.path.read_bytes()

    report = asyncio.run(verify_backup(roost.settings, backup.path, key_file=key))
    assert any("posts render: the newest 1 posts" in c for c in report.checks)
    with pytest.raises(BackupError, match="encrypted; pass its key"):
        asyncio.run(verify_backup(roost.settings, backup.path))
    with pytest.raises(BackupError, match="not the one this backup was encrypted with"):
        asyncio.run(verify_backup(roost.settings, backup.path, key_file=other))

    data = bytearray(backup.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed = tmp_path / "changed.tar.enc"
    changed.write_bytes(bytes(data))
    with pytest.raises(BackupDamaged, match="fails authentication"):
        asyncio.run(verify_backup(roost.settings, changed, key_file=key))
    cut = tmp_path / "cut.tar.enc"
    cut.write_bytes(bytes(backup.path.read_bytes()[: len(data) // 2]))
    with pytest.raises(BackupDamaged):
        asyncio.run(verify_backup(roost.settings, cut, key_file=key))


def test_given_existing_data_when_restored_then_refused_unless_forced_and_backed_up_first(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    alice.post_status("in the backup")
    backup = asyncio.run(create_backup(roost.settings, to=tmp_path / "b"))
    alice.post_status("written after the backup")
    settings = roost.settings

    with pytest.raises(RestoreRefused, match=r"already holds .* pass --force"):
        asyncio.run(restore_backup(settings, backup.path))

    report = asyncio.run(
        restore_backup(settings, backup.path, force=True, safety_dir=tmp_path / "safety")
    )
    assert report.safety_backup is not None
    safety = report.safety_backup.manifest.row_counts["statuses"]
    assert safety == backup.manifest.row_counts["statuses"] + 1
    assert list_backups(tmp_path / "safety")[0].path == report.safety_backup.path


def _rewrite_manifest(source: Path, target: Path, work: Path, **changes: object) -> None:
    with source.open("rb") as raw:
        manifest = read_archive(raw, work)
    for name, value in changes.items():
        setattr(manifest, name, value)
    with target.open("wb") as out:
        writer = ArchiveWriter(out)
        for member in sorted(manifest.files, key=lambda n: n != "roost-backup.json"):
            writer.add_file(member, work / member)
        writer.finish(manifest)


def test_given_a_backup_from_a_newer_schema_when_restored_or_verified_then_refused(
    roost: Roost, tmp_path: Path
) -> None:
    backup = asyncio.run(create_backup(roost.settings, to=tmp_path / "b"))
    future = tmp_path / "future.tar"
    _rewrite_manifest(backup.path, future, tmp_path / "x", schema_revision="9999_from_the_future")
    with pytest.raises(RestoreRefused, match=r"9999_from_the_future.*newer Roost"):
        asyncio.run(restore_backup(roost.settings, future, force=True))
    with pytest.raises(RestoreRefused, match="newer Roost"):
        asyncio.run(verify_backup(roost.settings, future))


def test_given_a_backup_of_an_older_schema_when_restored_then_it_is_migrated(
    tmp_path: Path,
) -> None:
    old = load_settings(data_dir=tmp_path / "old", secret_key="s" * 40)
    old.data_dir.mkdir()
    engine = create_engine(f"sqlite:///{old.data_dir / 'roost.sqlite3'}")
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0001")
    engine.dispose()
    backup = asyncio.run(create_backup(old, to=tmp_path / "b"))
    assert backup.manifest.schema_revision == "0001"

    fresh = load_settings(data_dir=tmp_path / "new", secret_key="s" * 40)
    report = asyncio.run(restore_backup(fresh, backup.path))
    db = Database(fresh)
    status = asyncio.run(schema_status(db))
    asyncio.run(db.dispose())
    assert report.schema_after == status.head and status.up_to_date


def _touch_backup(directory: Path, when: datetime) -> Path:
    path = directory / f"roost-backup-{when.strftime('%Y%m%dT%H%M%S')}Z.tar"
    path.write_bytes(b"x")
    return path


def test_given_a_month_of_backups_when_pruned_then_one_per_recent_day_and_week_stays(
    tmp_path: Path,
) -> None:
    start = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # a Monday
    made = [_touch_backup(tmp_path, start + timedelta(hours=12 * n)) for n in range(60)]
    (tmp_path / "notes.txt").write_text("not a backup")
    (tmp_path / ".roost-backup-x.tar.partial").write_text("in progress")
    result = prune_backups(tmp_path, keep_daily=7, keep_weekly=4)
    kept = {p.name for p in result.kept}
    assert made[-1].name in kept  # the newest
    days = {p.name[13:21] for p in result.kept}
    assert len(result.kept) == len(kept) and 7 <= len(kept) <= 11 and len(days) == len(kept)
    assert all(not p.exists() for p in result.deleted)
    assert (tmp_path / "notes.txt").exists() and (tmp_path / ".roost-backup-x.tar.partial").exists()
    again = prune_backups(tmp_path, keep_daily=7, keep_weekly=4)
    assert again.deleted == []


def test_given_an_interval_then_the_next_backup_is_due_one_interval_after_the_newest(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path, secret_key="s" * 40, backup_interval="6h")
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert next_backup_delay(settings, now) == 60.0
    settings.backups_path.mkdir()
    _touch_backup(settings.backups_path, now - timedelta(hours=2))
    assert next_backup_delay(settings, now) == pytest.approx(4 * 3600)
    _touch_backup(settings.backups_path, now - timedelta(hours=2, minutes=1))
    assert next_backup_delay(settings, now) == pytest.approx(4 * 3600)


def test_given_a_pg_dump_older_than_the_server_then_the_backup_is_refused(tmp_path: Path) -> None:
    old_tool = tmp_path / "pg_dump"
    old_tool.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.4'\n")
    old_tool.chmod(0o755)
    with pytest.raises(BackupError, match="version 12 but the server runs PostgreSQL 15"):
        asyncio.run(check_dump_tool(str(old_tool), 150004))
    assert asyncio.run(check_dump_tool(str(old_tool), 110009)) == 12


def _cli_backup_of_one_account(directory: Path) -> Path:
    """Through the CLI: an account, then a backup of it into ``directory``."""
    created = runner.invoke(
        app, ["accounts", "create", "alice", "--email", "a@example.org", "--password", "x" * 12]
    )
    assert created.exit_code == 0, created.output
    made = runner.invoke(app, ["backup", "create", "--to", str(directory)])
    assert made.exit_code == 0, made.output
    return list_backups(directory)[0].path


def test_given_the_cli_then_backup_verify_and_failures_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "data"))
    path = _cli_backup_of_one_account(tmp_path / "b")
    verified = runner.invoke(app, ["backup", "verify", str(path)])
    assert verified.exit_code == 0, verified.output
    assert "restore took" in verified.output and "row counts" in verified.output
    assert path.with_name(path.name + ".verified.json").is_file()

    shutil.copy(path, tmp_path / "cut.tar")
    os.truncate(tmp_path / "cut.tar", path.stat().st_size // 3)
    failed = runner.invoke(app, ["backup", "verify", str(tmp_path / "cut.tar")])
    assert failed.exit_code == 1 and "truncated" in failed.output
    assert "Traceback" not in failed.output and len(failed.output.strip().splitlines()) == 1

    refused = runner.invoke(app, ["backup", "restore", str(path)])
    assert refused.exit_code == 1 and "--force" in refused.output


def test_given_a_restore_then_the_cli_says_which_key_store_backup_it_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a backup whose key-store backup was moved away from it.
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ROOST_BACKUP_DIR", str(tmp_path / "elsewhere-backups"))
    path = _cli_backup_of_one_account(tmp_path / "b")
    keys = tmp_path / "vault" / "roost-keys.sqlite3"
    keys.parent.mkdir()
    shutil.move(path.parent / "roost-keys.sqlite3", keys)

    # When restored over the data, the safety backup taken first leaves the
    # live key store's backup in ROOST_BACKUP_DIR: that is the one merged.
    over = runner.invoke(app, ["backup", "restore", str(path), "--force"])
    assert over.exit_code == 0, over.output
    assert f"merged from {tmp_path / 'elsewhere-backups' / 'roost-keys.sqlite3'}" in over.output

    # When pointed at one, the CLI names the file it merged.
    pointed = runner.invoke(
        app, ["backup", "restore", str(path), "--force", "--keys-file", str(keys)]
    )
    assert pointed.exit_code == 0, pointed.output
    assert f"merged from {keys}" in pointed.output

    # A key-store backup that is not there is one line, before anything is touched.
    missing = runner.invoke(
        app, ["backup", "restore", str(path), "--force", "--keys-file", str(tmp_path / "nope")]
    )
    assert missing.exit_code == 1 and "is not a file" in missing.output
    assert len(missing.output.strip().splitlines()) == 1

    # When restored on a new machine with no key-store backup anywhere, the
    # operator is told what that means and how to give one.
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "new-machine"))
    monkeypatch.setenv("ROOST_BACKUP_DIR", str(tmp_path / "new-machine-backups"))
    blind = runner.invoke(app, ["backup", "restore", str(path)])
    assert blind.exit_code == 0, blind.output
    assert "no key-store backup found" in blind.output and "--keys-file" in blind.output
