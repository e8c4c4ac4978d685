"""Follows, requests to locked accounts, relationships, hidden follow lists."""

from __future__ import annotations

from tests.conftest import Roost, User

RELATIONSHIP_KEYS = {
    "id",
    "following",
    "showing_reblogs",
    "notifying",
    "languages",
    "followed_by",
    "blocking",
    "blocked_by",
    "muting",
    "muting_notifications",
    "requested",
    "requested_by",
    "domain_blocking",
    "endorsed",
    "note",
}


def relationship(viewer: User, other: User) -> dict[str, object]:
    rels = viewer.get("/api/v1/accounts/relationships", params={"id[]": other.id}).json()
    assert len(rels) == 1
    result: dict[str, object] = rels[0]
    return result


def notification_types(user: User) -> list[str]:
    return [n["type"] for n in user.get("/api/v1/notifications").json()]


def test_given_a_locked_account_when_asked_then_request_listed_and_approval_makes_a_follower(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice", locked=True), roost.account("bob")
    asked = bob.follow(alice)
    assert asked["requested"] is True and asked["following"] is False
    assert relationship(alice, bob)["requested_by"] is True
    roost.drain_jobs()
    assert notification_types(alice) == ["follow_request"]
    assert [a["id"] for a in alice.get("/api/v1/follow_requests").json()] == [bob.id]

    approved = alice.post(f"/api/v1/follow_requests/{bob.id}/authorize")
    roost.drain_jobs()

    assert approved.status_code == 200 and approved.json()["followed_by"] is True
    assert alice.get("/api/v1/follow_requests").json() == []
    assert relationship(bob, alice)["following"] is True
    # The request's notification became the follow's: one notification per follow.
    assert notification_types(alice) == ["follow"]
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["followers_count"] == 1 and me["source"]["follow_requests_count"] == 0


def test_given_a_request_when_rejected_then_it_and_its_notification_are_gone(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice", locked=True), roost.account("bob")
    bob.follow(alice)
    roost.drain_jobs()

    rejected = alice.post(f"/api/v1/follow_requests/{bob.id}/reject")

    assert rejected.status_code == 200 and rejected.json()["requested_by"] is False
    assert relationship(bob, alice)["requested"] is False
    assert alice.get("/api/v1/follow_requests").json() == []
    assert notification_types(alice) == []


def test_given_a_request_when_withdrawn_before_its_job_runs_then_no_notification(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice", locked=True), roost.account("bob")
    bob.follow(alice)
    bob.post(f"/api/v1/accounts/{alice.id}/unfollow")
    roost.drain_jobs()
    assert notification_types(alice) == []
    assert alice.get("/api/v1/follow_requests").json() == []


def test_given_no_request_when_authorized_or_rejected_then_404_and_nothing_changes(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice", locked=True), roost.account("bob")
    for verb in ("authorize", "reject"):
        response = alice.post(f"/api/v1/follow_requests/{bob.id}/{verb}")
        assert response.status_code == 404
        assert "follow request" in response.json()["error"].lower()
    assert relationship(bob, alice)["following"] is False
    assert alice.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 0
    assert alice.post("/api/v1/follow_requests/123456/authorize").status_code == 404


def test_given_oneself_when_followed_blocked_or_muted_then_422_and_nothing_changes(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    for verb in ("follow", "block", "mute", "remove_from_followers"):
        response = alice.post(f"/api/v1/accounts/{alice.id}/{verb}")
        assert response.status_code == 422, verb
        assert "yourself" in response.json()["error"]
    assert alice.get("/api/v1/blocks").json() == []
    assert alice.get("/api/v1/mutes").json() == []
    assert alice.get("/api/v1/accounts/verify_credentials").json()["following_count"] == 0


def test_given_an_unknown_account_when_followed_or_blocked_then_404(roost: Roost) -> None:
    alice = roost.account("alice")
    for verb in ("follow", "block", "mute", "unblock", "unmute", "note", "pin"):
        assert alice.post(f"/api/v1/accounts/424242/{verb}").status_code == 404, verb


def test_given_a_follower_when_removed_then_they_no_longer_follow(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    private = alice.post_status("followers only", visibility="private")
    assert bob.get(f"/api/v1/statuses/{private['id']}").status_code == 200

    removed = alice.post(f"/api/v1/accounts/{bob.id}/remove_from_followers")

    assert removed.json()["followed_by"] is False
    assert bob.get(f"/api/v1/statuses/{private['id']}").status_code == 404
    assert alice.get(f"/api/v1/accounts/{alice.id}").json()["followers_count"] == 0
    assert bob.get(f"/api/v1/accounts/{bob.id}").json()["following_count"] == 0


def test_given_follow_options_when_set_then_relationship_notifications_and_home_honour_them(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    options = alice.post(
        f"/api/v1/accounts/{bob.id}/follow", json={"notify": True, "reblogs": False}
    ).json()
    assert options["notifying"] is True and options["showing_reblogs"] is False
    original = carol.post_status("carol's")
    bob.post(f"/api/v1/statuses/{original['id']}/reblog")
    own = bob.post_status("bob's own")
    roost.drain_jobs()

    home = [s["id"] for s in alice.get("/api/v1/timelines/home").json()]
    assert home == [own["id"]]  # the boost is left out
    statuses = alice.get("/api/v1/notifications", params={"types[]": "status"}).json()
    assert [n["status"]["id"] for n in statuses] == [own["id"]]

    changed = alice.post(f"/api/v1/accounts/{bob.id}/follow", json={"reblogs": True}).json()
    assert changed["showing_reblogs"] is True and changed["notifying"] is True
    later = carol.post_status("carol's later")
    boost = bob.post(f"/api/v1/statuses/{later['id']}/reblog").json()
    roost.drain_jobs()
    assert alice.get("/api/v1/timelines/home").json()[0]["id"] == boost["id"]


def test_given_hidden_collections_when_others_ask_then_lists_are_empty_but_owner_sees_them(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    alice.follow(bob)
    alice.patch("/api/v1/accounts/update_credentials", json={"hide_collections": True})
    for direction in ("followers", "following"):
        path = f"/api/v1/accounts/{alice.id}/{direction}"
        assert roost.client.get(path).json() == []
        assert bob.get(path).json() == []
        assert [a["id"] for a in alice.get(path).json()] == [bob.id]


def test_given_every_relation_when_relationships_asked_then_every_field_is_true(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post(f"/api/v1/accounts/{bob.id}/follow", json={"notify": True})
    bob.follow(alice)
    assert alice.post(f"/api/v1/accounts/{bob.id}/pin").status_code == 200
    alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "met at the fair"})
    alice.post(f"/api/v1/accounts/{bob.id}/mute", json={"notifications": True})

    rel = relationship(alice, bob)

    assert set(rel) == RELATIONSHIP_KEYS
    for key in ("following", "showing_reblogs", "notifying", "followed_by", "muting"):
        assert rel[key] is True, key
    assert rel["muting_notifications"] is True and rel["endorsed"] is True
    assert rel["note"] == "met at the fair"
    assert rel["blocking"] is False and rel["requested"] is False
    assert [a["id"] for a in alice.get("/api/v1/endorsements").json()] == [bob.id]
    # A private note is private: bob's view of alice says nothing about it.
    assert relationship(bob, alice)["note"] == ""


def test_given_an_account_not_followed_when_endorsed_then_422(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    response = alice.post(f"/api/v1/accounts/{bob.id}/pin")
    assert response.status_code == 422
    assert alice.get("/api/v1/endorsements").json() == []


def test_given_a_note_when_cleared_then_relationship_note_is_empty(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "x"})
    cleared = alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": ""}).json()
    assert cleared["note"] == ""
    too_long = alice.post(f"/api/v1/accounts/{bob.id}/note", json={"comment": "x" * 2001})
    assert too_long.status_code == 422
