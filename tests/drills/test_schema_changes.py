"""Drill for threats 3 and 4: a schema change that fails, and the way back.

A migration that breaks halfway (after adding a column, rewriting rows and
making a table) must leave the data and the schema exactly as they were:
PostgreSQL runs every pending migration in one transaction, SQLite changes a
copy of the file that replaces it only on success. A migration that can be
undone is undone by ``roost db downgrade``; one that cannot is refused before
anything is touched, naming the backup to restore instead.

The extra migrations live in a copy of the migration directory made by the
test (``roost.db.migrate._HERE`` pointed at it), as a newer release's would.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

import roost.db.migrate as migrate
from roost.config import Settings
from roost.db.engine import Database
from roost.db.migrate import schema_status, upgrade
from roost.db.swap import working_copy
from roost.errors import StorageFull
from roost.ops.errors import BackupError
from roost.ops.upgrade import DowngradeRefused, safe_downgrade, safe_upgrade
from tests.conftest import Roost

NEW_REVISION = "9001_a_newer_release"

_BREAKS_HALFWAY = '''"""A migration that fails after doing some of its work."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{parent}"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("UPDATE accounts SET nickname = username, display_name = 'overwritten'")
    op.execute("UPDATE statuses SET sensitive = NOT sensitive")
    op.create_table("half_made", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO half_made (id) VALUES (1)")
    raise RuntimeError("this migration breaks halfway")


def downgrade() -> None:
    pass
'''

_ADDS_A_COLUMN = '''"""Expand: a new nullable column the previous release does not read."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{parent}"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("UPDATE accounts SET nickname = username")


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("nickname")
'''


def _state(settings: Settings) -> dict[str, Any]:
    """Every table's columns, the schema revision, and the rows of the tables
    the failing migration writes."""

    async def read() -> dict[str, Any]:
        db = Database(settings)
        try:
            async with db.engine.connect() as conn:

                def schema(sync: Any) -> dict[str, list[str]]:
                    found = inspect(sync)
                    return {
                        table: sorted(c["name"] for c in found.get_columns(table))
                        for table in found.get_table_names()
                    }

                state: dict[str, Any] = {"schema": await conn.run_sync(schema)}
                for name, sql in (
                    ("revision", "SELECT version_num FROM alembic_version"),
                    ("accounts", "SELECT * FROM accounts ORDER BY id"),
                    ("statuses", "SELECT * FROM statuses ORDER BY id"),
                ):
                    state[name] = [tuple(row) for row in await conn.execute(text(sql))]
                return state
        finally:
            await db.dispose()

    return asyncio.run(read())


@pytest.fixture
def a_newer_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This release's migrations copied, to which a test adds the newer one."""
    copied = tmp_path / "migrations"
    shutil.copytree(migrate._HERE, copied, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    monkeypatch.setattr(migrate, "_HERE", copied)
    yield copied


def _add(directory: Path, source: str, parent: str, revision: str = NEW_REVISION) -> None:
    (directory / "versions" / f"{revision}.py").write_text(
        source.format(parent=parent, revision=revision)
    )


def _populated(roost: Roost) -> tuple[Settings, str]:
    alice = roost.account("alice")
    bob = roost.account("bob")
    alice.post_status("Herons at dawn")
    bob.post_status("An ibis", sensitive=True, spoiler_text="birds")
    settings = roost.settings
    head = asyncio.run(_status(settings)).head
    roost.client.__exit__(None, None, None)  # the old release stops for the upgrade
    return settings, head


async def _status(settings: Settings) -> migrate.SchemaStatus:
    db = Database(settings)
    try:
        return await schema_status(db)
    finally:
        await db.dispose()


def test_given_a_migration_that_fails_halfway_when_upgrading_then_data_and_schema_are_unchanged(
    roost: Roost, a_newer_release: Path
) -> None:
    settings, head = _populated(roost)
    before = _state(settings)
    assert before["revision"] == [(head,)] and len(before["statuses"]) == 2
    # Two pending migrations: the first completes, the second breaks. Neither
    # may be left applied.
    _add(a_newer_release, _ADDS_A_COLUMN.replace("nickname", "pronouns"), head, "9000_first")
    _add(a_newer_release, _BREAKS_HALFWAY, "9000_first")

    async def attempt() -> None:
        db = Database(settings)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    with pytest.raises(RuntimeError, match="breaks halfway"):
        asyncio.run(attempt())

    after = _state(settings)
    assert after == before
    assert "half_made" not in after["schema"] and "nickname" not in after["schema"]["accounts"]
    assert "pronouns" not in after["schema"]["accounts"]
    if settings.is_sqlite:
        database = settings.data_dir / "roost.sqlite3"
        assert not working_copy(database).exists()
    # And the installation still runs: the old revision, its data readable.
    assert asyncio.run(_status(settings)).current == head


def test_given_a_reversible_migration_when_upgraded_then_downgraded_then_the_schema_returns(
    roost: Roost, a_newer_release: Path
) -> None:
    settings, head = _populated(roost)
    before = _state(settings)
    _add(a_newer_release, _ADDS_A_COLUMN, head)
    try:
        upgraded = asyncio.run(safe_upgrade(settings, backup=False))
        assert upgraded.after.current == NEW_REVISION and upgraded.backup is None
        moved = _state(settings)
        assert "nickname" in moved["schema"]["accounts"]
        assert len(moved["accounts"]) == len(before["accounts"])
        assert len(moved["statuses"]) == len(before["statuses"])

        undone = asyncio.run(safe_downgrade(settings, head, backup=False))
        assert undone.after.current == head
    finally:
        # The PostgreSQL database is shared by the whole run: put it back.
        if asyncio.run(_status(settings)).current == NEW_REVISION:
            asyncio.run(safe_downgrade(settings, head, backup=False))
    assert _state(settings) == before


def test_given_an_irreversible_migration_when_downgrading_past_it_then_refused_naming_the_backup(
    roost: Roost, a_newer_release: Path
) -> None:
    settings, head = _populated(roost)
    _add(a_newer_release, _ADDS_A_COLUMN, head)
    try:
        upgraded = asyncio.run(safe_upgrade(settings, backup=True))
        assert upgraded.backup is not None and upgraded.backup.is_file()
        assert upgraded.backup.parent == settings.backups_path
        verified = upgraded.backup.with_name(upgraded.backup.name + ".verified.json")
        assert verified.is_file()  # the backup was restored into scratch and checked
        before = _state(settings)

        with pytest.raises(DowngradeRefused) as refused:
            asyncio.run(safe_downgrade(settings, "0005", backup=False))
        message = refused.value.message
        assert "migration 0007 cannot be undone" in message
        assert "sealed content cannot be unsealed" in message
        assert str(upgraded.backup) in message and "nothing was changed" in message
        assert _state(settings) == before
    finally:
        if asyncio.run(_status(settings)).current == NEW_REVISION:
            asyncio.run(safe_downgrade(settings, head, backup=False))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_given_no_room_for_the_copy_when_upgrading_sqlite_then_refused_and_nothing_changes(
    roost: Roost, a_newer_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, head = _populated(roost)
    before = _state(settings)
    _add(a_newer_release, _ADDS_A_COLUMN, head)
    import roost.db.swap as swap

    real = shutil.disk_usage

    def nearly_full(path: Any) -> Any:
        usage = real(path)
        return usage._replace(free=1024)

    monkeypatch.setattr(swap.shutil, "disk_usage", nearly_full)
    with pytest.raises(StorageFull, match="migrating needs room for a copy"):
        asyncio.run(safe_upgrade(settings, backup=False))
    assert _state(settings) == before
    assert not working_copy(settings.data_dir / "roost.sqlite3").exists()


def test_given_the_backup_cannot_be_made_when_upgrading_then_the_schema_is_not_changed(
    roost: Roost, a_newer_release: Path
) -> None:
    settings, head = _populated(roost)
    before = _state(settings)
    _add(a_newer_release, _ADDS_A_COLUMN, head)
    with pytest.raises(BackupError) as refused:
        asyncio.run(safe_upgrade(settings, backup=True, to=Path("/proc/roost-backups")))
    assert "the schema was not changed (--no-backup skips the backup)" in refused.value.message
    assert _state(settings) == before
