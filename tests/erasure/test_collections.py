"""Erasure of collections: the account's own go with their items, and its
place in others' collections goes too."""

from __future__ import annotations

from tests.conftest import Roost


def test_given_collections_both_ways_when_an_account_is_erased_then_nothing_of_it_stays(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    alice.follow(bob)
    own = alice.post(
        "/api/v1/collections", json={"name": "alice picks", "account_ids": [bob.id]}
    ).json()["collection"]
    theirs = bob.post(
        "/api/v1/collections", json={"name": "bob picks", "account_ids": [alice.id, carol.id]}
    ).json()["collection"]
    assert {i["account_id"] for i in theirs["items"]} == {alice.id, carol.id}

    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    live = {k: v for k, v in erased.json()["scan"].items() if k != "backups"}
    assert all(not hits for hits in live.values()), live

    assert bob.get(f"/api/v1/collections/{own['id']}").status_code == 404
    left = bob.get(f"/api/v1/collections/{theirs['id']}").json()["collection"]["items"]
    assert [i["account_id"] for i in left] == [carol.id]
    assert bob.get(f"/api/v1/accounts/{bob.id}/in_collections").json() == {"collections": []}
