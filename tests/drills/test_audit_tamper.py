"""Drill (threats 31-35): whoever edits the audit log in the database is found.

A real installation (the installed `roost`, a data directory on disk) collects
entries from the operator's and a moderator's work. Then each column of the
entries, and the personal record, is edited straight in the database, one
at a time, as an intruder with the database would (the SQLite file, or a
PostgreSQL session): `roost audit verify` must exit
1 naming the entry edited, and exit 0 again once the value is put back. A
removed entry is named too, and so is an entry cut from the end once the
head from a backup's manifest is given.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.installation import Installation
from tests.conftest import REDIS_URL, REQUIRE_BACKENDS

# About 30 runs of the installed program, each a new process.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

PASSWORD = "correct horse battery"
# Each column an intruder could edit, and a value for it.
EDITS = {
    "action": "'account.unsuspend'",
    "permission": "'view_dashboard'",
    "subject_type": "'report'",
    "subject_id": "'42'",
    "details": '\'{"via":"api"}\'',
    "personal_digest": "'" + "a" * 64 + "'",
    "created_at": "created_at || ''",  # rewritten below to a different time
    "prev_hash": "'" + "b" * 64 + "'",
    "hash": "'" + "c" * 64 + "'",
}


async def _pg(url: str, sql: str, *args: Any) -> Any:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


class Intruder:
    """Statements run straight on the installation's database, behind Roost's
    back: SQLite's file (foreign keys on, as Roost runs it) or PostgreSQL."""

    def __init__(self, installation: Installation, url: str | None) -> None:
        self.file = installation.data_dir / "roost.sqlite3"
        self.url = url

    def value(self, sql: str, *args: Any) -> Any:
        """The first column of the first row (or a statement's outcome)."""
        if self.url is not None:
            numbered = sql
            for n in range(1, len(args) + 1):
                numbered = numbered.replace("?", f"${n}", 1)
            return asyncio.run(_pg(self.url, numbered, *args))
        with sqlite3.connect(self.file) as db:
            db.execute("PRAGMA foreign_keys = ON")
            row = db.execute(sql, args).fetchone()
            return None if row is None else row[0]

    def run(self, sql: str, *args: Any) -> None:
        self.value(sql, *args)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None on SQLite; on PostgreSQL a database of its own, dropped after."""
    if backend != "postgres":
        yield None
        return
    server = request.getfixturevalue("postgres_url")
    name = f"roost_tamper_{secrets.token_hex(4)}"
    asyncio.run(_pg(server, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_pg(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def installation(
    tmp_path: Path, database_url: str | None, request: pytest.FixtureRequest
) -> Iterator[Installation]:
    settings: dict[str, str] = {}
    if database_url is not None:
        settings["database_url"] = database_url
        if REDIS_URL or REQUIRE_BACKENDS:
            settings["redis_url"] = request.getfixturevalue("redis_url")
            settings["redis_prefix"] = request.getfixturevalue("redis_prefix")
    installed = Installation(tmp_path, settings)
    try:
        yield installed
    finally:
        installed.stop_all()


def test_given_an_audit_log_when_any_entry_is_edited_in_the_database_then_verify_names_it(
    installation: Installation, database_url: str | None
) -> None:
    roost = installation.roost
    db = Intruder(installation, database_url)
    for name, extra in (("owner", ("--admin",)), ("mod", ()), ("spammer", ()), ("troll", ())):
        roost(
            "accounts",
            "create",
            name,
            "--email",
            f"{name}@example.org",
            "--password",
            PASSWORD,
            *extra,
        )
    roost("roles", "grant", "mod", "Moderator", "--as", "owner")
    roost("accounts", "suspend", "spammer", "--as", "mod", "--reason", "spam links")
    roost("accounts", "suspend", "troll", "--as", "mod", "--reason", "harassment")
    roost("accounts", "unsuspend", "spammer", "--as", "owner")
    roost("tokens", "create", "mod", "--scopes", "read admin:read")  # a staff sign-in
    roost("tokens", "revoke-all", "mod")
    intact = roost("audit", "verify").out
    assert intact.startswith("audit log intact: 7 entries, head ")
    head = intact.strip().rsplit(" ", 1)[-1]

    count = db.value("SELECT count(*) FROM audit_entries")
    assert count == 7
    for index, (column, value) in enumerate(EDITS.items()):
        seq = index % count + 1
        original = db.value(f"SELECT {column} FROM audit_entries WHERE seq = ?", seq)
        if column == "created_at":
            value = "'2020-01-01 00:00:00.000000'"
        db.run(f"UPDATE audit_entries SET {column} = {value} WHERE seq = ?", seq)
        broken = installation.fails("audit", "verify", says="audit log broken")
        assert f"entry {seq}" in broken.err.split("broken: ", 1)[1].split(":")[0], (column, broken)
        db.run(f"UPDATE audit_entries SET {column} = ? WHERE seq = ?", original, seq)
        assert roost("audit", "verify").out == intact, column

    # The personal record: who acted, on whom, why.
    record = db.value("SELECT data FROM audit_personal WHERE seq = 4")
    db.run("UPDATE audit_personal SET data = '{}' WHERE seq = 4")
    installation.fails("audit", "verify", says="entry 4's personal record was changed")
    db.run("UPDATE audit_personal SET data = ? WHERE seq = 4", record)
    assert roost("audit", "verify").out == intact

    # Removing an entry from the middle, and cutting the newest one.
    db.run("DELETE FROM audit_entries WHERE seq = 7")
    assert roost("audit", "verify").out.startswith("audit log intact: 6 entries")
    installation.fails("audit", "verify", "--head", head, says="is not in the chain")
    db.run("DELETE FROM audit_entries WHERE seq = 4")
    installation.fails("audit", "verify", says="entry 4 was removed")
