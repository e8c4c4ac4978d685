"""The notification policy (v2) and notification requests: strangers' notifications
held back, accepted, dismissed or dropped."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Roost, User

pytestmark = pytest.mark.timeout(60)


def types_of(user: User) -> list[str]:
    return [n["type"] for n in user.get("/api/v1/notifications").json()]


def test_given_no_policy_then_defaults_and_an_empty_summary(roost: Roost) -> None:
    alice = roost.account("alice")
    assert alice.get("/api/v2/notifications/policy").json() == {
        "for_not_following": "accept",
        "for_not_followers": "accept",
        "for_new_accounts": "accept",
        "for_private_mentions": "filter",
        "for_limited_accounts": "filter",
        "summary": {"pending_requests_count": 0, "pending_notifications_count": 0},
    }
    bad = alice.patch("/api/v2/notifications/policy", json={"for_not_following": "maybe"})
    assert bad.status_code == 422


def test_given_filter_strangers_then_their_notifications_wait_in_a_request(
    roost: Roost,
) -> None:
    alice, friend, stranger = (roost.account(n) for n in ("alice", "friend", "stranger"))
    alice.follow(friend)
    changed = alice.patch("/api/v2/notifications/policy", json={"for_not_following": "filter"})
    assert changed.json()["for_not_following"] == "filter"
    assert changed.json()["for_private_mentions"] == "filter"
    post = alice.post_status("hello")
    stranger.post_status("@alice who are you")
    stranger.post(f"/api/v1/statuses/{post['id']}/favourite")
    friend.post_status("@alice hi friend")
    roost.drain_jobs()

    assert types_of(alice) == ["mention"]
    assert len(alice.get("/api/v2/notifications").json()["notification_groups"]) == 1
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 1}
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 1}
    with_held = alice.get("/api/v1/notifications", params={"include_filtered": "true"}).json()
    assert len(with_held) == 3
    summary = alice.get("/api/v2/notifications/policy").json()["summary"]
    assert summary == {"pending_requests_count": 1, "pending_notifications_count": 2}
    (request,) = alice.get("/api/v1/notifications/requests").json()
    assert request["account"]["id"] == stranger.id
    assert request["notifications_count"] == "2"
    assert request["last_status"]["id"] == post["id"]
    assert alice.get(f"/api/v1/notifications/requests/{request['id']}").json() == request
    # Only alice's.
    assert friend.get(f"/api/v1/notifications/requests/{request['id']}").status_code == 404
    assert friend.post(f"/api/v1/notifications/requests/{request['id']}/accept").status_code == 404

    accepted = alice.post(f"/api/v1/notifications/requests/{request['id']}/accept")
    assert accepted.status_code == 200
    assert sorted(types_of(alice)) == ["favourite", "mention", "mention"]
    assert alice.get("/api/v1/notifications/requests").json() == []
    assert alice.get("/api/v1/notifications/requests/merged").json() == {"merged": True}
    # Let through from now on.
    stranger.post_status("@alice thanks")
    roost.drain_jobs()
    assert len(types_of(alice)) == 4


def test_given_requests_dismissed_in_bulk_then_their_notifications_go(roost: Roost) -> None:
    alice = roost.account("alice")
    one, two = roost.account("one"), roost.account("two")
    alice.patch("/api/v2/notifications/policy", json={"for_not_followers": "filter"})
    one.post_status("@alice one")
    two.post_status("@alice two")
    roost.drain_jobs()
    ids = [r["id"] for r in alice.get("/api/v1/notifications/requests").json()]
    assert len(ids) == 2
    assert alice.post("/api/v1/notifications/requests/dismiss", json={"id": ids}).status_code == 200
    assert alice.get("/api/v1/notifications/requests").json() == []
    assert alice.get("/api/v1/notifications", params={"include_filtered": "true"}).json() == []
    # Dismissed is not accepted: the next one is held again.
    one.post_status("@alice again")
    roost.drain_jobs()
    assert types_of(alice) == []
    (again,) = alice.get("/api/v1/notifications/requests").json()
    bulk = alice.post("/api/v1/notifications/requests/accept", data={"id[]": [again["id"]]})
    assert bulk.status_code == 200
    assert types_of(alice) == ["mention"]


def test_given_drop_then_nothing_is_recorded(roost: Roost) -> None:
    alice, stranger = roost.account("alice"), roost.account("stranger")
    alice.patch("/api/v2/notifications/policy", data={"for_not_following": "drop"})
    stranger.post_status("@alice shouting")
    stranger.follow(alice)
    roost.drain_jobs()
    assert alice.get("/api/v1/notifications", params={"include_filtered": "true"}).json() == []
    assert alice.get("/api/v1/notifications/requests").json() == []


def test_given_a_private_mention_from_a_stranger_then_held_by_default(roost: Roost) -> None:
    alice, bob, stranger = (roost.account(n) for n in ("alice", "bob", "stranger"))
    alice.follow(bob)
    stranger.post_status("@alice a secret", visibility="direct")
    bob.post_status("@alice a secret from bob", visibility="direct")
    mine = alice.post_status("@stranger hello", visibility="direct")
    stranger.post_status("@alice answering", visibility="direct", in_reply_to_id=mine["id"])
    roost.drain_jobs()
    shown = alice.get("/api/v1/notifications").json()
    senders = sorted(n["account"]["username"] for n in shown)
    assert senders == ["bob", "stranger"]  # bob is followed; the stranger answered alice
    (request,) = alice.get("/api/v1/notifications/requests").json()
    assert request["account"]["username"] == "stranger"


def test_given_a_blocked_sender_then_its_request_is_not_shown(roost: Roost) -> None:
    alice, stranger = roost.account("alice"), roost.account("stranger")
    alice.patch("/api/v2/notifications/policy", json={"for_not_following": "filter"})
    stranger.post_status("@alice hey")
    roost.drain_jobs()
    (request,) = alice.get("/api/v1/notifications/requests").json()
    alice.post(f"/api/v1/accounts/{stranger.id}/block")
    assert alice.get("/api/v1/notifications/requests").json() == []
    assert alice.get(f"/api/v1/notifications/requests/{request['id']}").status_code == 404
    summary = alice.get("/api/v2/notifications/policy").json()["summary"]
    assert summary == {"pending_requests_count": 0, "pending_notifications_count": 0}


def test_given_a_held_notification_then_no_stream_event_for_it(roost: Roost) -> None:
    alice, friend, stranger = (roost.account(n) for n in ("alice", "friend", "stranger"))
    alice.follow(friend)
    alice.patch("/api/v2/notifications/policy", json={"for_not_following": "filter"})
    query = f"stream=user:notification&access_token={alice.token}"
    with roost.client.websocket_connect(f"/api/v1/streaming?{query}") as socket:
        stranger.post_status("@alice held back")
        roost.drain_jobs()
        friend.post_status("@alice let through")
        roost.drain_jobs()
        message = socket.receive_json()
    # Events arrive in order: had the held one been sent, it would come first.
    payload = json.loads(message["payload"])
    assert message["event"] == "notification"
    assert payload["account"]["username"] == "friend"


def test_given_new_accounts_filtered_then_a_followed_new_account_still_notifies(
    roost: Roost,
) -> None:
    alice, friend, newcomer = (roost.account(n) for n in ("alice", "friend", "newcomer"))
    alice.follow(friend)
    alice.patch("/api/v2/notifications/policy", json={"for_new_accounts": "filter"})
    newcomer.post_status("@alice I just arrived")  # made today, not followed
    friend.post_status("@alice made today too, but followed")
    roost.drain_jobs()
    assert [n["account"]["username"] for n in alice.get("/api/v1/notifications").json()] == [
        "friend"
    ]
    (request,) = alice.get("/api/v1/notifications/requests").json()
    assert request["account"]["username"] == "newcomer"
