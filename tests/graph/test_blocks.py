"""Blocks cut every tie, both ways, and hide each side's posts from the other."""

from __future__ import annotations

from tests.conftest import Roost, User


def ids(items: list[dict[str, object]]) -> list[object]:
    return [item["id"] for item in items]


def block(blocker: User, blocked: User) -> dict[str, object]:
    response = blocker.post(f"/api/v1/accounts/{blocked.id}/block")
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_given_follows_and_requests_both_ways_when_blocked_then_all_are_gone(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice", locked=True), roost.account("bob", locked=True)
    alice.follow(bob)  # a request
    bob.follow(alice)  # a request
    alice.post(f"/api/v1/follow_requests/{bob.id}/authorize")  # bob now follows alice

    rel = block(alice, bob)

    assert rel["blocking"] is True and rel["following"] is False and rel["followed_by"] is False
    assert rel["requested"] is False and rel["requested_by"] is False
    assert alice.get("/api/v1/follow_requests").json() == []
    assert bob.get("/api/v1/follow_requests").json() == []
    for user in (alice, bob):
        me = user.get("/api/v1/accounts/verify_credentials").json()
        assert me["followers_count"] == 0 and me["following_count"] == 0
    assert (
        bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()[0]["blocked_by"]
        is True
    )
    assert ids(alice.get("/api/v1/blocks").json()) == [bob.id]


def test_given_a_block_when_the_blocked_tries_to_follow_then_403_and_nothing_changes(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    block(alice, bob)
    for follower, target in ((bob, alice), (alice, bob)):
        response = follower.post(f"/api/v1/accounts/{target.id}/follow")
        assert response.status_code == 403
    assert alice.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 0


def test_given_a_block_then_neither_sees_the_others_posts_anywhere(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    carol.follow(alice)
    post = alice.post_status("hello #fair")
    carol.post(f"/api/v1/statuses/{post['id']}/reblog")
    reply = carol.post_status("@alice nice", in_reply_to_id=post["id"])
    bobs = bob.post_status("bob's own #fair")
    bob.post(f"/api/v1/statuses/{post['id']}/bookmark")
    bob.post(f"/api/v1/statuses/{post['id']}/favourite")

    block(alice, bob)

    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert alice.get(f"/api/v1/statuses/{bobs['id']}").status_code == 404
    everywhere = [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/fair",
        f"/api/v1/accounts/{alice.id}/statuses",
        f"/api/v1/accounts/{carol.id}/statuses",
        "/api/v1/bookmarks",
        "/api/v1/favourites",
    ]
    for path in everywhere:
        body = bob.get(path).text
        assert post["id"] not in body, path
        assert "hello" not in body, path
    assert bobs["id"] not in alice.get("/api/v1/timelines/public").text
    # Carol's reply stays readable to bob, but no longer names the hidden parent.
    seen = bob.get(f"/api/v1/statuses/{reply['id']}").json()
    assert seen["in_reply_to_id"] is None and seen["in_reply_to_account_id"] is None
    context = bob.get(f"/api/v1/statuses/{reply['id']}/context").json()
    assert context["ancestors"] == []


def test_given_a_block_when_the_blocked_replies_favourites_or_boosts_then_404(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("public")
    block(alice, bob)
    reply = bob.post("/api/v1/statuses", json={"status": "hey", "in_reply_to_id": post["id"]})
    assert reply.status_code == 404
    for verb in ("favourite", "reblog", "bookmark", "context", "favourited_by"):
        method = bob.get if verb in ("context", "favourited_by") else bob.post
        assert method(f"/api/v1/statuses/{post['id']}/{verb}").status_code == 404, verb
    assert alice.get(f"/api/v1/accounts/{alice.id}").json()["statuses_count"] == 1


def test_given_a_block_when_the_blocked_mentions_the_blocker_then_no_notification(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    block(alice, bob)
    bob.post_status("@alice are you there?")
    dm = bob.post_status("@alice psst", visibility="direct")
    roost.drain_jobs()
    assert alice.get("/api/v1/notifications").json() == []
    assert alice.get("/api/v1/conversations").json() == []
    assert alice.get(f"/api/v1/statuses/{dm['id']}").status_code == 404
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 0}


def test_given_notifications_when_the_sender_is_blocked_then_they_are_hidden_until_unblock(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("fav me")
    bob.post(f"/api/v1/statuses/{post['id']}/favourite")
    roost.drain_jobs()
    assert len(alice.get("/api/v1/notifications").json()) == 1
    block(alice, bob)
    assert alice.get("/api/v1/notifications").json() == []
    alice.post(f"/api/v1/accounts/{bob.id}/unblock")
    assert [n["type"] for n in alice.get("/api/v1/notifications").json()] == ["favourite"]


def test_given_a_block_then_account_lists_and_search_leave_the_other_out(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(carol)
    bob.follow(carol)
    block(alice, bob)
    followers = ids(alice.get(f"/api/v1/accounts/{carol.id}/followers").json())
    assert followers == [alice.id]
    assert ids(bob.get("/api/v1/accounts/search", params={"q": "ali"}).json()) == []
    # The profile itself still answers: it is where one unblocks.
    assert bob.get(f"/api/v1/accounts/{alice.id}").status_code == 200
    assert bob.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []
    assert bob.get(f"/api/v1/accounts/{alice.id}/followers").json() == []


def test_given_a_block_when_lifted_then_posts_return_but_follows_do_not(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    post = alice.post_status("back")
    block(alice, bob)
    lifted = alice.post(f"/api/v1/accounts/{bob.id}/unblock").json()
    assert lifted["blocking"] is False and lifted["followed_by"] is False
    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert alice.get("/api/v1/blocks").json() == []
