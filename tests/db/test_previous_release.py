"""Threat 3: the previous release runs on the schema this release migrated.

Servers are upgraded one at a time, so for a while the previous release serves
a database whose schema this one moved on. RELEASES names that release's
commit; its tree is read from git into a temporary directory, this release
migrates a database (holding a post this release wrote) to its newest schema,
and the previous release's own code, in its own process, signs up, follows,
posts and reads the timelines on it (tests/db/previous_release_smoke.py).
Then this release reads what the old one wrote.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from roost.app import create_app
from roost.config import Settings, load_settings
from roost.db.engine import Database
from roost.db.migrate import SchemaStatus, schema_status, upgrade
from tests.db.releases import extract, previous_release, require_history
from tests.drills.support import roost_env

SMOKE = Path(__file__).with_name("previous_release_smoke.py")


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def empty_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database URL with nothing in it ("" for SQLite in the data directory)."""
    if backend == "sqlite":
        yield ""
        return
    server = request.getfixturevalue("postgres_url")
    name = f"roost_previous_{secrets.token_hex(4)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_given_a_database_this_release_migrated_then_the_previous_release_serves_it(
    empty_database: str, tmp_path: Path
) -> None:
    release = previous_release()
    require_history(release)
    tree = extract(release, tmp_path / f"roost-{release.version}")
    data_dir = tmp_path / "data"
    values = {"data_dir": str(data_dir), "secret_key": "s" * 40}
    if empty_database:
        values["database_url"] = empty_database
    settings = load_settings(**values, run_jobs_in_process=False)

    # This release migrates the database and writes a post on it.
    with TestClient(create_app(settings)) as client:
        from tests.conftest import Roost

        writer = Roost(client, settings).account("newer")
        newer_post = writer.post_status("Written by the newer release")
    status = asyncio.run(_status(settings))
    assert status.up_to_date and status.current != release.schema

    env = roost_env(**values)
    env["PYTHONPATH"] = str(tree)
    ran = subprocess.run(
        [sys.executable, str(SMOKE), str(tree)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-4000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert "<p>Followers of old code</p>" in seen["home"] and "<p>Old code</p>" in seen["home"]
    assert seen["public"][:2] == ["<p>Old code</p>", "<p>Written by the newer release</p>"]
    assert seen["account"] == ["<p>Followers of old code</p>", "<p>Old code</p>"]
    assert seen["status"] == "<p>Old code</p>"
    assert seen["private_hidden"] == 404
    assert seen["reader"] == 1

    # And this release reads what the previous one wrote.
    with TestClient(create_app(settings)) as client:
        read = client.get(f"/api/v1/statuses/{seen['public_id']}")
        assert read.status_code == 200 and read.json()["content"] == "<p>Old code</p>"
        mine = client.get(f"/api/v1/statuses/{newer_post['id']}")
        assert mine.json()["content"] == "<p>Written by the newer release</p>"


async def _status(settings: Settings) -> SchemaStatus:
    db = Database(settings)
    try:
        await upgrade(db)
        return await schema_status(db)
    finally:
        await db.dispose()
