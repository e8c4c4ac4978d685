"""Edits, boosts and favourites across servers, both ways: what Roost sends
mallory's server (a plain HTTP server of the test's own, which records it)
when a post is edited, boosted or favourited here, and what it does with her
signed Update(Note), Announce, Like and their Undo."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.conftest import Roost, User
from tests.federation.test_received import (
    PUBLIC,
    Peer,
    _follow_mallory,
    _note,
    _states,
    peer,
)

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer"]  # the fixture, shared with test_received


def _mallory_follows(roost: Roost, peer: Peer, name: str) -> None:
    uri = f"{roost.settings.base_url}/users/{name}"
    follow = {"id": f"{peer.uri}#follows/{name}", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": uri})


def _undo(peer: Peer, n: int, activity: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{peer.uri}#undo/{n}", "type": "Undo", "actor": peer.uri, "object": activity}


def _home(user: User) -> list[dict[str, Any]]:
    return list(user.get("/api/v1/timelines/home").json())


def test_given_mallory_follows_alice_when_alice_edits_a_post_then_mallory_is_sent_its_update(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _mallory_follows(roost, peer, "alice")
    post = alice.post_status("pelicans eat fish")
    roost.drain_jobs()

    edited = alice.put(
        f"/api/v1/statuses/{post['id']}",
        json={"status": "pelicans eat fish, mostly", "spoiler_text": "birds"},
    )
    assert edited.status_code == 200, edited.text
    roost.drain_jobs()

    [create] = peer.sent_of("Create")
    [update] = peer.sent_of("Update")
    assert update["actor"] == create["actor"]
    assert update["id"] != create["id"]
    note = update["object"]
    assert note["id"] == post["uri"] == create["object"]["id"]
    assert "mostly" in note["content"]
    assert note["summary"] == "birds" and note["sensitive"] is True
    assert note["updated"] >= note["published"]
    assert note["to"] == [PUBLIC] and update["to"] == [PUBLIC]

    # A direct post is not sent, and neither is its edit.
    direct = alice.post_status("just you", visibility="direct")
    alice.put(f"/api/v1/statuses/{direct['id']}", json={"status": "just you, really"})
    roost.drain_jobs()
    assert len(peer.sent_of("Update")) == 1


def test_given_mallorys_stored_note_when_she_edits_it_then_the_edit_and_its_history_show(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    create = _note(peer, 1, to=[PUBLIC], cc=[f"{peer.uri}/followers"])
    peer.send(roost, create)
    [post] = [p for p in _home(alice) if "note 1" in p["content"]]
    assert post["edited_at"] is None
    alice.post(f"/api/v1/statuses/{post['id']}/reblog")

    note = {
        **create["object"],
        "content": "<p>note 1, corrected <script>x()</script></p>",
        "summary": "a correction",
        "updated": "2026-01-02T04:00:00Z",
    }
    update = {"id": f"{note['id']}#updates/1", "type": "Update", "actor": peer.uri}
    peer.send(roost, {**update, "object": note})

    shown = alice.get(f"/api/v1/statuses/{post['id']}").json()
    assert shown["content"] == "<p>note 1, corrected </p>"
    assert shown["spoiler_text"] == "a correction" and shown["sensitive"] is True
    assert shown["edited_at"] is not None
    history = alice.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert [h["content"] for h in history] == ["<p>note 1</p>", shown["content"]]
    assert [h["spoiler_text"] for h in history] == ["", "a correction"]
    in_home = [p["reblog"] or p for p in _home(alice)]
    assert {p["content"] for p in in_home if p["id"] == post["id"]} == {shown["content"]}
    # alice boosted it: she hears of the edit, as of a local one.
    [told] = alice.get("/api/v1/notifications", params={"types[]": "update"}).json()
    assert told["status"]["id"] == post["id"]
    assert told["account"]["acct"] == f"mallory@{peer.domain}"

    # An older edit arriving late, and one claimed for another author, change nothing.
    stale = {**note, "content": "<p>stale</p>", "updated": "2026-01-02T03:30:00Z"}
    peer.send(roost, {**update, "id": f"{note['id']}#updates/0", "object": stale})
    forged = {**note, "content": "<p>forged</p>", "attributedTo": f"{peer.base}/users/eve"}
    forged["updated"] = "2026-01-02T05:00:00Z"
    peer.send(roost, {**update, "id": f"{note['id']}#updates/2", "object": forged})
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["content"] == shown["content"]
    assert len(alice.get(f"/api/v1/statuses/{post['id']}/history").json()) == 2
    assert _states(roost)[-2:] == ["handled", "unhandled"]


def test_given_mallory_follows_alice_when_alice_boosts_and_unboosts_then_she_is_sent_both(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    _mallory_follows(roost, peer, "alice")
    post = bob.post_status("a local post to boost")
    roost.drain_jobs()
    assert peer.sent_of("Create") == []  # bob's post: mallory does not follow him

    boost = alice.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    roost.drain_jobs()
    [announce] = peer.sent_of("Announce")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    assert announce["actor"] == alice_uri
    assert announce["object"] == post["uri"]
    assert announce["id"] == f"{alice_uri}/statuses/{boost['id']}/activity"
    assert announce["to"] == [PUBLIC]
    assert f"{roost.settings.base_url}/users/bob" in announce["cc"]

    assert alice.post(f"/api/v1/statuses/{post['id']}/unreblog").status_code == 200
    roost.drain_jobs()
    [undo] = peer.sent_of("Undo")
    assert undo["actor"] == alice_uri
    assert undo["object"]["type"] == "Announce" and undo["object"]["id"] == announce["id"]
    assert peer.sent_of("Delete") == []

    # Her own followers-only post, boosted by herself, goes nowhere as Announce.
    private = alice.post_status("followers only", visibility="private")
    alice.post(f"/api/v1/statuses/{private['id']}/reblog")
    roost.drain_jobs()
    assert len(peer.sent_of("Announce")) == 1

    # A followers-only boost of a public post is addressed to her followers.
    alice.post(f"/api/v1/statuses/{post['id']}/reblog", json={"visibility": "private"})
    roost.drain_jobs()
    [_, followers_only] = peer.sent_of("Announce")
    assert followers_only["to"] == [f"{alice_uri}/followers"]
    assert PUBLIC not in followers_only["cc"]


def test_given_mallorys_note_when_alice_boosts_and_favourites_it_then_her_server_is_told(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.send(roost, _note(peer, 1, to=[PUBLIC], cc=[f"{peer.uri}/followers"]))
    [post] = [p for p in _home(alice) if "note 1" in p["content"]]
    alice_uri = f"{roost.settings.base_url}/users/alice"

    alice.post(f"/api/v1/statuses/{post['id']}/reblog")
    assert alice.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    roost.drain_jobs()
    [announce] = peer.sent_of("Announce")
    assert announce["object"] == post["uri"] and peer.uri in announce["cc"]
    [like] = peer.sent_of("Like")
    assert like["actor"] == alice_uri and like["object"] == post["uri"]
    assert like["id"].startswith(f"{alice_uri}#likes/")

    assert alice.post(f"/api/v1/statuses/{post['id']}/unfavourite").status_code == 200
    roost.drain_jobs()
    [undo] = peer.sent_of("Undo")
    assert undo["object"] == {k: v for k, v in like.items() if k != "@context"}

    # Liked again: a new Like, with an id of its own (the other server keeps ids).
    alice.post(f"/api/v1/statuses/{post['id']}/favourite")
    roost.drain_jobs()
    assert [a["id"] for a in peer.sent_of("Like")][-1] != like["id"]


def _announce(peer: Peer, n: int, object_uri: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"{peer.uri}/statuses/{n}/activity",
        "type": "Announce",
        "actor": peer.uri,
        "published": "2026-01-02T03:04:05Z",
        "to": [PUBLIC],
        "cc": [f"{peer.uri}/followers"],
        "object": object_uri,
        **fields,
    }


def test_given_alices_post_when_mallory_boosts_then_undoes_then_alice_and_carol_see_both(
    roost: Roost, peer: Peer
) -> None:
    alice, carol = roost.account("alice"), roost.account("carol")
    _follow_mallory(roost, peer, carol)
    post = alice.post_status("worth a boost")

    peer.send(roost, _announce(peer, 100, post["uri"]))

    shown = alice.get(f"/api/v1/statuses/{post['id']}").json()
    assert shown["reblogs_count"] == 1
    [notification] = alice.get("/api/v1/notifications").json()
    assert notification["type"] == "reblog"
    assert notification["account"]["acct"] == f"mallory@{peer.domain}"
    assert notification["status"]["id"] == post["id"]
    [boost] = [p for p in _home(carol) if p["reblog"] is not None]
    assert boost["reblog"]["id"] == post["id"]
    assert boost["account"]["acct"] == f"mallory@{peer.domain}"
    assert boost["uri"] == f"{peer.uri}/statuses/100/activity"
    # Received again (a retried delivery with another id): still one boost.
    peer.send(roost, _announce(peer, 100, post["uri"], id=f"{peer.uri}/statuses/100/again"))
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["reblogs_count"] == 1

    peer.send(roost, _undo(peer, 1, _announce(peer, 100, post["uri"])))

    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["reblogs_count"] == 0
    assert [p for p in _home(carol) if p["reblog"] is not None] == []


def test_given_carol_follows_mallory_when_she_boosts_an_unknown_note_then_it_is_fetched(
    roost: Roost, peer: Peer
) -> None:
    alice, carol = roost.account("alice"), roost.account("carol")
    old_note = _note(peer, 40, to=[PUBLIC], cc=[f"{peer.uri}/followers"])["object"]
    private_note = _note(peer, 41)["object"]
    peer.served |= {"/users/mallory/statuses/40": old_note}
    peer.served |= {"/users/mallory/statuses/41": private_note}

    # Nobody here follows mallory yet: her boost is not worth a fetch.
    peer.send(roost, _announce(peer, 50, old_note["id"]))
    assert roost.client.get("/api/v1/timelines/public").json() == []

    _follow_mallory(roost, peer, carol)
    peer.send(roost, _announce(peer, 51, old_note["id"]))
    peer.send(roost, _announce(peer, 52, private_note["id"]))

    [boost] = [p for p in _home(carol) if p["reblog"] is not None]
    assert boost["reblog"]["uri"] == old_note["id"]
    assert "note 40" in boost["reblog"]["content"]
    assert boost["reblog"]["account"]["acct"] == f"mallory@{peer.domain}"
    assert alice.get(f"/api/v1/statuses/{boost['reblog']['id']}").status_code == 200
    # The followers-only note was not taken, nor boosted.
    assert not any("note 41" in orjson.dumps(p).decode() for p in _home(carol))
    assert _states(roost)[-2:] == ["handled", "unhandled"]


def test_given_private_and_direct_posts_when_mallory_boosts_them_then_nothing_is_stored(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _mallory_follows(roost, peer, "alice")
    private = alice.post_status("followers only", visibility="private")
    direct = alice.post_status("only for me", visibility="direct")

    peer.send(roost, _announce(peer, 1, private["uri"]))
    peer.send(roost, _announce(peer, 2, direct["uri"]))
    peer.send(roost, _announce(peer, 3, f"{peer.base}/users/eve/statuses/1"))

    for post in (private, direct):
        assert alice.get(f"/api/v1/statuses/{post['id']}").json()["reblogs_count"] == 0
    notifications = alice.get("/api/v1/notifications").json()
    assert [n["type"] for n in notifications] == ["follow"]
    assert _states(roost)[-3:] == ["unhandled", "unhandled", "unhandled"]


def _mallory_id(alice: User, peer: Peer) -> str:
    found = alice.get(
        "/api/v2/search", params={"q": f"@mallory@{peer.domain}", "resolve": "true"}
    ).json()
    return str(found["accounts"][0]["id"])


def test_given_alices_posts_when_mallory_likes_them_then_only_those_she_may_see_count(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    public = alice.post_status("likeable")
    private = alice.post_status("followers only", visibility="private")
    like = {"id": f"{peer.uri}#likes/1", "type": "Like", "actor": peer.uri}

    peer.send(roost, {**like, "object": public["uri"]})
    peer.send(roost, {**like, "id": f"{peer.uri}#likes/2", "object": private["uri"]})

    assert alice.get(f"/api/v1/statuses/{public['id']}").json()["favourites_count"] == 1
    assert alice.get(f"/api/v1/statuses/{private['id']}").json()["favourites_count"] == 0
    [notification] = alice.get("/api/v1/notifications").json()
    assert notification["type"] == "favourite"
    assert notification["status"]["id"] == public["id"]
    assert notification["account"]["acct"] == f"mallory@{peer.domain}"
    favourited_by = alice.get(f"/api/v1/statuses/{public['id']}/favourited_by").json()
    assert [a["acct"] for a in favourited_by] == [f"mallory@{peer.domain}"]
    assert _states(roost) == ["handled", "unhandled"]

    # Undo(Like) takes it back.
    peer.send(roost, _undo(peer, 1, {**like, "object": public["uri"]}))
    assert alice.get(f"/api/v1/statuses/{public['id']}").json()["favourites_count"] == 0

    # Once she follows alice, the followers-only post is hers to like.
    _mallory_follows(roost, peer, "alice")
    peer.send(roost, {**like, "id": f"{peer.uri}#likes/3", "object": private["uri"]})
    assert alice.get(f"/api/v1/statuses/{private['id']}").json()["favourites_count"] == 1


def test_given_alice_muted_or_blocked_mallory_when_mallory_likes_then_alice_hears_nothing(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mallory_id = _mallory_id(alice, peer)
    first, second = alice.post_status("one"), alice.post_status("two")
    assert alice.post(f"/api/v1/accounts/{mallory_id}/mute").status_code == 200

    peer.send(
        roost,
        {"id": f"{peer.uri}#likes/1", "type": "Like", "actor": peer.uri, "object": first["uri"]},
    )

    assert alice.get(f"/api/v1/statuses/{first['id']}").json()["favourites_count"] == 1
    assert alice.get("/api/v1/notifications").json() == []

    assert alice.post(f"/api/v1/accounts/{mallory_id}/block").status_code == 200
    roost.drain_jobs()
    peer.send(
        roost,
        {"id": f"{peer.uri}#likes/2", "type": "Like", "actor": peer.uri, "object": second["uri"]},
    )
    assert alice.get(f"/api/v1/statuses/{second['id']}").json()["favourites_count"] == 0
    assert alice.get("/api/v1/notifications").json() == []
