"""A full disk is told apart from a database that is down (roost/db/storage.py).

The real errors of each engine: SQLite's SQLITE_FULL (a database capped with
``max_page_count`` refuses to grow with the very code a full disk gives),
the operating system's ENOSPC, and PostgreSQL's SQLSTATE 53100, raised by the
real server and carried by asyncpg (as ``DiskFullError``) through SQLAlchemy
and ``Database.write`` to the API's answer. The drills fill real volumes
(tests/drills/test_database_disk_full.py).
"""

from __future__ import annotations

import errno
import secrets
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from roost.db.storage import describe, disk_full
from roost.errors import StorageFull
from tests.conftest import Roost


def _sqlite_refusal(path: Path) -> OperationalError:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x BLOB)")
            conn.exec_driver_sql("PRAGMA max_page_count = 3")
        with pytest.raises(OperationalError) as refused, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (zeroblob(100000))"))
        return refused.value
    finally:
        engine.dispose()


def test_given_sqlite_out_of_room_then_the_error_is_a_full_disk_and_says_only_so(
    tmp_path: Path,
) -> None:
    refused = _sqlite_refusal(tmp_path / "capped.sqlite3")
    assert disk_full(refused)
    assert describe(refused) == "database or disk is full"
    assert "INSERT" in str(refused)  # SQLAlchemy's own message names the statement...
    assert "INSERT" not in describe(refused)  # ...which stays out of what Roost reports


def test_given_other_failures_then_they_are_not_taken_for_a_full_disk() -> None:
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(ConnectionRefusedError("refused"))
    assert not disk_full(sqlite3.OperationalError("database is locked"))
    try:
        raise StorageFull() from OSError(errno.EDQUOT, "Disk quota exceeded")
    except StorageFull as wrapped:
        assert disk_full(wrapped)


@pytest.mark.parametrize("backend", ["postgres"])
def test_given_postgresql_answering_disk_full_when_posting_then_507_and_nothing_written(
    roost: Roost,
) -> None:
    """PostgreSQL's SQLSTATE 53100 from the real server: a trigger raises it as
    the post's outbox job is written, last in the transaction. The answer is
    507 saying so, /readyz names the database, and the post, written earlier
    in the same transaction, is not there."""
    alice = roost.account("alice")
    name = f"roost_test_full_{secrets.token_hex(4)}"

    async def sql(*statements: str) -> None:
        async with roost.db.engine.begin() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)

    roost.run(
        lambda: sql(
            f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
            "'could not extend file \"base/1/2\": No space left on device' "
            "USING ERRCODE = 'disk_full'; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {name} BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION {name}()",
        )
    )
    try:
        refused = alice.post("/api/v1/statuses", json={"status": "no room for this"})
        assert refused.status_code == 507, refused.text
        assert refused.json()["error"].startswith("The server's disk is full")
        ready = roost.client.get("/readyz").json()
        assert ready["checks"]["database"]["writable"] is False
        assert "No space left on device" in ready["checks"]["database"]["error"]
        assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []
        me = alice.get("/api/v1/accounts/verify_credentials").json()
        assert me["statuses_count"] == 0
    finally:
        roost.run(lambda: sql(f"DROP TRIGGER {name} ON jobs", f"DROP FUNCTION {name}()"))
    assert alice.post("/api/v1/statuses", json={"status": "room again"}).status_code == 200
    assert roost.client.get("/readyz").json()["checks"]["database"]["writable"] is True
