"""Drill (threats 31-35): whoever edits the audit log in the database is found.

A real installation (the installed `roost`, a data directory on disk) collects
entries from the operator's and a moderator's work. Then each column of the
entries, and the personal record, is edited straight in the SQLite file, one
at a time, as an intruder with the file would: `roost audit verify` must exit
1 naming the entry edited, and exit 0 again once the value is put back. A
removed entry is named too, and so is an entry cut from the end once the
head from a backup's manifest is given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.installation import Installation

pytestmark = pytest.mark.slow

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


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    installed = Installation(tmp_path, {})
    try:
        yield installed
    finally:
        installed.stop_all()


def _db(installation: Installation) -> sqlite3.Connection:
    return sqlite3.connect(installation.data_dir / "roost.sqlite3")


def test_given_an_audit_log_when_any_entry_is_edited_in_the_database_then_verify_names_it(
    installation: Installation,
) -> None:
    roost = installation.roost
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

    with _db(installation) as db:
        count = db.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
    assert count == 7
    for index, (column, value) in enumerate(EDITS.items()):
        seq = index % count + 1
        with _db(installation) as db:
            (original,) = db.execute(
                f"SELECT {column} FROM audit_entries WHERE seq = ?", (seq,)
            ).fetchone()
            if column == "created_at":
                value = "'2020-01-01 00:00:00.000000'"
            db.execute(f"UPDATE audit_entries SET {column} = {value} WHERE seq = ?", (seq,))
        broken = installation.fails("audit", "verify", says="audit log broken")
        assert f"entry {seq}" in broken.err.split("broken: ", 1)[1].split(":")[0], (column, broken)
        with _db(installation) as db:
            db.execute(f"UPDATE audit_entries SET {column} = ? WHERE seq = ?", (original, seq))
        assert roost("audit", "verify").out == intact, column

    # The personal record: who acted, on whom, why.
    with _db(installation) as db:
        db.execute("UPDATE audit_personal SET data = '{}' WHERE seq = 4")
    installation.fails("audit", "verify", says="entry 4's personal record was changed")
    with _db(installation) as db:
        db.execute(
            'UPDATE audit_personal SET data = \'{"reason":"harassment","username":"troll"}\''
            " WHERE seq = 4"
        )
    assert roost("audit", "verify").out == intact

    # Removing an entry from the middle, and cutting the newest one.
    with _db(installation) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM audit_entries WHERE seq = 7")
    assert roost("audit", "verify").out.startswith("audit log intact: 6 entries")
    installation.fails("audit", "verify", "--head", head, says="is not in the chain")
    with _db(installation) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM audit_entries WHERE seq = 4")
    installation.fails("audit", "verify", says="entry 4 was removed")
