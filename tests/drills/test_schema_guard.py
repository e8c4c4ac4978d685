"""Drill for scenario 12: a revert runs old code on a newer schema.

A release that does not know the database's schema revision must not serve it:
the newer schema may keep privacy settings where this code never looks, and
serving anyway is how a revert makes locked accounts' posts public. Given a
database a newer release has migrated, this release refuses to start (the app,
`roost serve`, and every command that migrates), says which revision it found
and which it knows, and leaves the database exactly as it was.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from roost.app import create_app
from roost.cli.main import app as cli
from roost.config import Settings
from roost.db.engine import Database
from roost.db.migrate import SchemaTooNew, schema_status
from tests.conftest import Roost
from tests.drills.support import ROOST, free_port, roost_env

NEWER = "9999_from_a_newer_release"


def _sql(settings: Settings, *statements: str) -> list[list[object]]:
    async def run() -> list[list[object]]:
        db = Database(settings)
        results: list[list[object]] = []
        try:
            async with db.engine.begin() as conn:
                for statement in statements:
                    result = await conn.execute(text(statement))
                    results.append(list(result.scalars()) if result.returns_rows else [])
        finally:
            await db.dispose()
        return results

    return asyncio.run(run())


def _env(settings: Settings) -> dict[str, str]:
    return roost_env(
        data_dir=str(settings.data_dir),
        database_url=settings.database_url,
        secret_key=settings.secret_key,
    )


@pytest.fixture
def migrated_by_a_newer_release(
    roost: Roost,
) -> Iterator[tuple[Settings, str, list[list[object]]]]:
    """A locked account's followers-only post, then the schema moved on by a
    release this one does not know (a new revision and a table of its own)."""
    alice = roost.account("alice", locked=True)
    secret = alice.post_status("for approved followers only", visibility="private")
    settings = roost.settings
    known = asyncio.run(_head(settings))
    roost.client.__exit__(None, None, None)  # this release stops; the newer one ran
    _sql(
        settings,
        f"UPDATE alembic_version SET version_num = '{NEWER}'",
        "CREATE TABLE privacy_settings_v2 (account_id BIGINT PRIMARY KEY, audience TEXT)",
    )
    before = _sql(
        settings,
        "SELECT version_num FROM alembic_version",
        "SELECT count(*) FROM statuses",
        "SELECT count(*) FROM accounts",
    )
    yield settings, secret["id"], before
    # The PostgreSQL database is shared by the whole run: put it back.
    _sql(
        settings,
        "DROP TABLE IF EXISTS privacy_settings_v2",
        f"UPDATE alembic_version SET version_num = '{known}'",
    )


def test_given_a_newer_schema_when_the_app_starts_then_it_refuses_and_changes_nothing(
    migrated_by_a_newer_release: tuple[Settings, str, list[list[object]]],
) -> None:
    settings, _, before = migrated_by_a_newer_release

    with pytest.raises(SchemaTooNew) as refused, TestClient(create_app(settings)):
        pass  # never reached: start-up refuses

    message = str(refused.value)
    assert NEWER in message and "does not know" in message
    known = asyncio.run(_head(settings))
    assert known in message
    after = _sql(
        settings,
        "SELECT version_num FROM alembic_version",
        "SELECT count(*) FROM statuses",
        "SELECT count(*) FROM accounts",
    )
    assert after == before


async def _head(settings: Settings) -> str:
    db = Database(settings)
    try:
        return (await schema_status(db)).head
    finally:
        await db.dispose()


def test_given_a_newer_schema_when_roost_serve_starts_then_it_exits_and_never_listens(
    migrated_by_a_newer_release: tuple[Settings, str, list[list[object]]],
    tmp_path: Path,
) -> None:
    settings, _, before = migrated_by_a_newer_release
    port = free_port()
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOST), "serve", "--port", str(port), "--log-level", "error"],
        env=_env(settings),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert f"roost: the database is at schema revision {NEWER}" in stderr
    assert "restore a backup" in stderr
    assert "Traceback" not in stderr
    assert time.monotonic() - started < 60
    assert _sql(settings, "SELECT version_num FROM alembic_version")[0] == before[0]


def test_given_a_newer_schema_when_commands_that_migrate_run_then_each_refuses(
    migrated_by_a_newer_release: tuple[Settings, str, list[list[object]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, _, before = migrated_by_a_newer_release
    for key, value in _env(settings).items():
        if key.startswith("ROOST_"):
            monkeypatch.setenv(key, value)
    runner = CliRunner()
    for args in (
        ["db", "upgrade"],
        ["accounts", "create", "bob", "--email", "b@example.org", "--password", "long enough"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, (args, result.output)
        assert NEWER in result.output
    assert _sql(settings, "SELECT count(*) FROM accounts")[0] == before[2]


def test_given_the_newer_release_returns_then_the_locked_post_is_still_private(
    migrated_by_a_newer_release: tuple[Settings, str, list[list[object]]],
) -> None:
    """What the refusal protected: once the schema is one this release knows
    again (the newer release undid its migration, or a backup came back), the
    followers-only post is exactly as private as before."""
    settings, secret_id, _ = migrated_by_a_newer_release
    known = asyncio.run(_head(settings))
    _sql(
        settings,
        "DROP TABLE privacy_settings_v2",
        f"UPDATE alembic_version SET version_num = '{known}'",
    )
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/api/v1/statuses/{secret_id}").status_code == 404
        assert client.get("/api/v1/timelines/public").json() == []
