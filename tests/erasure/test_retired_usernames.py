"""An erased account's name is retired: never given to anyone else, and its
address answers 410 Gone.

Other servers know a local account by its address (``/users/NAME``): a
newcomer given the same name would be taken by them for the erased person
(their follows, the replies to their posts, their key). Only a digest of the
name is kept, so the erasure's scan still finds nothing of the account."""

from __future__ import annotations

import pytest

from roost.errors import FieldsInvalid
from tests.conftest import Roost

PASSWORD = "correct horse battery"
AP = {"Accept": "application/activity+json"}


def test_given_an_erased_account_when_its_name_is_asked_for_then_it_is_gone_and_taken(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    assert roost.client.get("/users/alice", headers=AP).status_code == 200

    erased = alice.post("/api/v1/roost/account/erase", json={"password": PASSWORD})

    assert erased.status_code == 200, erased.text
    receipt = erased.json()
    live = {k: v for k, v in receipt["scan"].items() if k != "backups"}
    assert all(not hits for hits in live.values()), live
    # Its address: gone for good (another server drops what it knew of it).
    gone = roost.client.get("/users/alice", headers=AP)
    assert gone.status_code == 410
    assert gone.json() == {"error": "Gone"}
    # A name never used is simply not found; a living one is there.
    assert roost.client.get("/users/carol", headers=AP).status_code == 404
    assert roost.client.get("/users/bob", headers=AP).status_code == 200
    # Nobody gets the name again, in any case.
    for name in ("alice", "Alice"):
        with pytest.raises(FieldsInvalid) as refused:
            roost.account(name)
        assert [p.kind for p in refused.value.problems["username"]] == ["taken"]
    assert bob.get(f"/api/v1/accounts/{bob.id}").status_code == 200


def test_given_a_name_retired_when_the_table_is_read_then_it_holds_no_name(roost: Roost) -> None:
    alice = roost.account("alice")
    assert alice.post("/api/v1/roost/account/erase", json={"password": PASSWORD}).status_code == 200

    async def rows() -> list[tuple[str, ...]]:
        async with roost.db.read() as conn:
            found = await conn.exec_driver_sql("SELECT * FROM retired_usernames")
            return [tuple(str(v) for v in row) for row in found]

    [row] = roost.run(rows)
    assert not any("alice" in value.lower() for value in row)
