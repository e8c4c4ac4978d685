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


def test_given_alice_moved_then_her_posts_boosts_and_notifications_show_moved(
    roost: Roost,
) -> None:
    alice, new = roost.account("alice"), roost.account("alice2")
    bob, carol = roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    bob.follow(carol)
    alice.follow(carol)
    post = alice.post_status("hello @bob")
    assert carol.post(f"/api/v1/statuses/{post['id']}/reblog").status_code == 200
    roost.drain_jobs()
    [before] = [p for p in bob.get("/api/v1/timelines/home").json() if p["id"] == post["id"]]
    assert "moved" not in before["account"]
    assert new.post("/api/v1/roost/aliases", json={"acct": "alice"}).status_code == 200

    moved = alice.post("/api/v1/roost/account/move", json={"acct": "alice2", "password": PASSWORD})
    roost.drain_jobs()
    assert moved.status_code == 200, moved.text

    shown = bob.get(f"/api/v1/accounts/{alice.id}").json()["moved"]
    # The same ``moved`` wherever her account is shown: her post (in the
    # home timeline, by id, in her account's posts), the boost of it, and
    # the notification of her mention.
    # (bob now follows alice2, not alice: her post is in his home as carol's boost.)
    public = {p["id"]: p for p in bob.get("/api/v1/timelines/public").json()}
    assert public[post["id"]]["account"]["moved"] == shown
    home = bob.get("/api/v1/timelines/home").json()
    boost = next(p for p in home if p["reblog"] and p["reblog"]["id"] == post["id"])
    assert boost["reblog"]["account"]["moved"] == shown
    assert "moved" not in boost["account"]
    assert bob.get(f"/api/v1/statuses/{post['id']}").json()["account"]["moved"] == shown
    [own] = bob.get(f"/api/v1/accounts/{alice.id}/statuses").json()
    assert own["account"]["moved"] == shown
    assert roost.client.get(f"/api/v1/statuses/{post['id']}").json()["account"]["moved"] == shown
    [mention] = bob.get("/api/v1/notifications", params={"types[]": "mention"}).json()
    assert mention["account"]["moved"] == shown
    assert mention["status"]["account"]["moved"] == shown
    grouped = bob.get("/api/v2/notifications", params={"types[]": "mention"}).json()
    assert [a["moved"] for a in grouped["accounts"] if a["id"] == alice.id] == [shown]
    # Asked as apps ask on every refresh (no types: the prepared reads).
    every = bob.get("/api/v1/notifications").json()
    assert [n["account"]["moved"] for n in every if n["type"] == "mention"] == [shown]
    assert all("moved" not in n["account"] for n in every if n["account"]["id"] != alice.id)
    grouped = bob.get("/api/v2/notifications").json()
    assert [a["moved"] for a in grouped["accounts"] if a["id"] == alice.id] == [shown]
    assert all("moved" not in a for a in grouped["accounts"] if a["id"] != alice.id)
    assert shown["id"] == new.id and "moved" not in shown
    # In search and in lists of accounts too.
    found = bob.get("/api/v2/search", params={"q": "alice", "type": "accounts"}).json()
    by_id = {a["id"]: a for a in found["accounts"]}
    assert by_id[alice.id]["moved"] == shown and "moved" not in by_id[new.id]
    searched = {
        a["id"]: a for a in bob.get("/api/v1/accounts/search", params={"q": "alice"}).json()
    }
    assert searched[alice.id]["moved"] == shown
    followers = {a["id"]: a for a in bob.get(f"/api/v1/accounts/{carol.id}/followers").json()}
    assert followers[alice.id]["moved"] == shown and "moved" not in followers[bob.id]
    assert bob.post(f"/api/v1/accounts/{alice.id}/mute").status_code == 200
    [muted] = bob.get("/api/v1/mutes").json()
    assert muted["moved"] == shown and muted["mute_expires_at"] is None


def test_given_alice_in_bobs_list_blocked_by_carol_and_muted_by_dave_when_she_moves_then_alice2_is(
    roost: Roost,
) -> None:
    alice, new = roost.account("alice"), roost.account("alice2")
    bob, carol, dave = roost.account("bob"), roost.account("carol"), roost.account("dave")
    bob.follow(alice)
    made = bob.post("/api/v1/lists", json={"title": "friends"}).json()
    added = bob.post(f"/api/v1/lists/{made['id']}/accounts", json={"account_ids": [alice.id]})
    assert added.status_code == 200, added.text
    assert carol.post(f"/api/v1/accounts/{alice.id}/block").status_code == 200
    muted = dave.post(
        f"/api/v1/accounts/{alice.id}/mute", json={"notifications": False, "duration": 3600}
    )
    assert muted.status_code == 200, muted.text
    assert new.post("/api/v1/roost/aliases", json={"acct": "alice"}).status_code == 200

    moved = alice.post("/api/v1/roost/account/move", json={"acct": "alice2", "password": PASSWORD})
    roost.drain_jobs()
    assert moved.status_code == 200, moved.text

    # bob's list holds alice2 instead (he follows her now, not alice).
    members = bob.get(f"/api/v1/lists/{made['id']}/accounts").json()
    assert [m["id"] for m in members] == [new.id]
    # carol blocks alice2 too; dave mutes her too, as he muted alice.
    assert _rel(carol, new.id)["blocking"] is True and _rel(carol, alice.id)["blocking"] is True
    rel = _rel(dave, new.id)
    assert rel["muting"] is True and rel["muting_notifications"] is False
    [shown] = [m for m in dave.get("/api/v1/mutes").json() if m["id"] == new.id]
    assert shown["mute_expires_at"] is not None
    # Nobody else blocks or mutes her.
    assert _rel(bob, new.id)["blocking"] is False and _rel(bob, new.id)["muting"] is False
