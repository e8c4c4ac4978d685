"""/api/v1/roost/aliases and /api/v1/roost/account/move between two accounts
of this server (roost/domain/federation/moves.py): aliases must resolve and
show as ``alsoKnownAs``; a move needs the new account to name the old one,
moves the followers (a locked new account is followed at once, one who is
blocked by it stays), shows ``moved``, and stops the old account posting."""

from __future__ import annotations

from typing import Any

from tests.conftest import Roost, User

AP = "application/activity+json"
PASSWORD = "correct horse battery"


def _rel(user: User, other: str) -> dict[str, Any]:
    [rel] = user.get("/api/v1/accounts/relationships", params={"id": other}).json()
    return dict(rel)


def test_given_an_account_when_it_names_aliases_then_they_resolve_and_show_as_also_known_as(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    base = roost.settings.base_url

    added = bob.post("/api/v1/roost/aliases", json={"acct": "@alice"})

    assert added.status_code == 200, added.text
    assert added.json()["acct"] == "alice"
    assert added.json()["uri"] == f"{base}/users/alice"
    again = bob.post("/api/v1/roost/aliases", json={"acct": f"{base}/users/alice"})
    assert again.json()["id"] == added.json()["id"]
    assert bob.get("/api/v1/roost/aliases").json() == [added.json()]
    document = roost.client.get("/users/bob", headers={"Accept": AP}).json()
    assert document["alsoKnownAs"] == [f"{base}/users/alice"]
    # Refused: an account that does not resolve, itself, nothing.
    assert bob.post("/api/v1/roost/aliases", json={"acct": "nobody"}).status_code == 404
    assert bob.post("/api/v1/roost/aliases", json={"acct": "bob"}).status_code == 422
    assert bob.post("/api/v1/roost/aliases", json={"acct": ""}).status_code == 422
    # Another account's alias is not found; the owner removes it.
    assert alice.get("/api/v1/roost/aliases").json() == []
    assert alice.delete(f"/api/v1/roost/aliases/{added.json()['id']}").status_code == 404
    assert bob.delete(f"/api/v1/roost/aliases/{added.json()['id']}").status_code == 200
    assert bob.get("/api/v1/roost/aliases").json() == []
    assert "alsoKnownAs" not in roost.client.get("/users/bob", headers={"Accept": AP}).json()
    assert roost.client.get("/api/v1/roost/aliases").status_code == 401


def test_given_followers_when_alice_moves_to_a_local_account_then_they_follow_it(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    new = roost.account("alice2", locked=True)
    bob, carol = roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    carol.follow(alice)
    assert new.post(f"/api/v1/accounts/{carol.id}/block").status_code == 200
    move = {"acct": "alice2", "password": PASSWORD}

    refused = alice.post("/api/v1/roost/account/move", json=move)
    assert refused.status_code == 422, refused.text
    assert "moved" not in alice.get("/api/v1/accounts/verify_credentials").json()
    assert new.post("/api/v1/roost/aliases", json={"acct": "alice"}).status_code == 200

    moved = alice.post("/api/v1/roost/account/move", json=move)
    roost.drain_jobs()

    assert moved.status_code == 200, moved.text
    assert moved.json()["moved_to"] == {
        "id": new.id,
        "acct": "alice2",
        "uri": f"{roost.settings.base_url}/users/alice2",
    }
    # bob follows alice2 at once although she is locked, and no longer alice.
    assert _rel(bob, new.id)["following"] is True
    assert _rel(bob, alice.id)["following"] is False
    # carol is blocked by alice2: she stays with alice.
    assert _rel(carol, alice.id)["following"] is True
    assert _rel(carol, new.id)["following"] is False
    shown = bob.get(f"/api/v1/accounts/{alice.id}").json()
    assert shown["moved"]["id"] == new.id and shown["moved"]["acct"] == "alice2"
    assert bob.get("/api/v1/accounts/lookup", params={"acct": "alice"}).json()["moved"]["id"] == (
        new.id
    )
    assert "moved" not in bob.get(f"/api/v1/accounts/{new.id}").json()
    # The moved account posts no more, but reads and exports.
    assert alice.post("/api/v1/statuses", json={"status": "hello?"}).status_code == 422
    assert alice.get("/api/v1/timelines/home").status_code == 200
    assert alice.post("/api/v1/roost/export").status_code in (200, 202)
    # alice2 cannot move back to alice: alice does not name her.
    back = new.post("/api/v1/roost/account/move", json={"acct": "alice", "password": PASSWORD})
    assert back.status_code == 422
