"""Erasure and account moves: an erased account's aliases, its place in
others' aliases, its move and others' moves to it all go, and the scan is
clean."""

from __future__ import annotations

from tests.conftest import Roost

PASSWORD = "correct horse battery"


def test_given_aliases_and_moves_both_ways_when_an_account_is_erased_then_nothing_stays(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    # alice names bob; carol names alice and bob moved... to alice; alice moved to carol.
    assert alice.post("/api/v1/roost/aliases", json={"acct": "bob"}).status_code == 200
    assert carol.post("/api/v1/roost/aliases", json={"acct": "alice"}).status_code == 200
    moved = bob.post("/api/v1/roost/account/move", json={"acct": "alice", "password": PASSWORD})
    assert moved.status_code == 200, moved.text
    moved = alice.post("/api/v1/roost/account/move", json={"acct": "carol", "password": PASSWORD})
    assert moved.status_code == 200, moved.text
    roost.drain_jobs()
    assert bob.get(f"/api/v1/accounts/{bob.id}").json()["moved"]["id"] == alice.id

    erased = alice.post("/api/v1/roost/account/erase", json={"password": PASSWORD})

    assert erased.status_code == 200, erased.text
    receipt = erased.json()
    live = {k: v for k, v in receipt["scan"].items() if k != "backups"}
    assert all(not hits for hits in live.values()), live
    assert receipt["tables"]["account_aliases"] == 2
    assert receipt["tables"]["account_moves"] == 2
    assert carol.get("/api/v1/roost/aliases").json() == []
    assert "moved" not in bob.get(f"/api/v1/accounts/{bob.id}").json()
    # bob, no longer moved, posts again.
    assert bob.post("/api/v1/statuses", json={"status": "back"}).status_code == 200
