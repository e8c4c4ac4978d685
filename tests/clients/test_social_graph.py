"""Mastodon.py against a live server: locked accounts and requests, followers-only
posts, direct-message conversations, blocks and mutes, the way apps use them."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError

from tests.clients.conftest import LiveServer, eventually

pytestmark = pytest.mark.clients


def test_given_a_locked_account_when_asked_and_approved_then_the_follower_sees_its_private_posts(
    live_server: LiveServer,
) -> None:
    owner, follower, stranger = live_server.people("owner", "follower", "stranger")
    owner.api.account_update_credentials(locked=True)

    asked = follower.api.account_follow(owner.id)
    assert asked["requested"] is True and asked["following"] is False
    assert [str(a["id"]) for a in owner.api.follow_requests()] == [follower.id]
    approved = owner.api.follow_request_authorize(follower.id)
    assert approved["followed_by"] is True
    assert owner.api.follow_requests() == []

    post = owner.api.status_post("for my followers only", visibility="private")

    assert follower.api.status(post["id"])["visibility"] == "private"
    assert post["id"] in [s["id"] for s in follower.api.timeline_home()]
    with pytest.raises(MastodonNotFoundError):
        stranger.api.status(post["id"])
    with pytest.raises(MastodonNotFoundError):
        live_server.client().status(post["id"])
    assert post["id"] not in [s["id"] for s in stranger.api.account_statuses(owner.id)]
    with pytest.raises(MastodonAPIError):
        follower.api.status_reblog(post["id"])


def test_given_a_request_when_rejected_then_nothing_is_shared(live_server: LiveServer) -> None:
    owner, asker = live_server.people("owner", "asker")
    owner.api.account_update_credentials(locked=True)
    asker.api.account_follow(owner.id)
    owner.api.follow_request_reject(asker.id)
    post = owner.api.status_post("still private", visibility="private")
    relationship = asker.api.account_relationships(owner.id)[0]
    assert relationship["requested"] is False and relationship["following"] is False
    with pytest.raises(MastodonNotFoundError):
        asker.api.status(post["id"])


def test_given_a_direct_message_then_a_conversation_with_unread_state_and_replies(
    live_server: LiveServer,
) -> None:
    alice, bob, carol = live_server.people("alice", "bob", "carol")
    dm = alice.api.status_post(f"@{bob.username} lunch tomorrow?", visibility="direct")

    (entry,) = bob.api.conversations()
    assert entry["unread"] is True
    assert entry["last_status"]["id"] == dm["id"]
    assert [str(a["id"]) for a in entry["accounts"]] == [alice.id]
    assert bob.api.conversations_read(entry["id"])["unread"] is False
    with pytest.raises(MastodonNotFoundError):
        carol.api.status(dm["id"])
    assert carol.api.conversations() == []

    answer = bob.api.status_post(
        f"@{alice.username} yes!", visibility="direct", in_reply_to_id=dm["id"]
    )

    (alices,) = alice.api.conversations()
    assert alices["last_status"]["id"] == answer["id"] and alices["unread"] is True
    mentions = eventually(lambda: alice.api.notifications(types=["mention"]))
    assert mentions[0]["status"]["id"] == answer["id"]


def test_given_a_block_then_the_blocked_can_neither_follow_nor_see_nor_notify(
    live_server: LiveServer,
) -> None:
    alice, bob, carol = live_server.people("alice", "bob", "carol")
    bob.api.account_follow(alice.id)
    post = alice.api.status_post("hello world")

    blocked = alice.api.account_block(bob.id)

    assert blocked["blocking"] is True and blocked["followed_by"] is False
    assert [str(a["id"]) for a in alice.api.blocks()] == [bob.id]
    with pytest.raises(MastodonNotFoundError):
        bob.api.status(post["id"])
    with pytest.raises(MastodonAPIError):
        bob.api.account_follow(alice.id)
    with pytest.raises(MastodonNotFoundError):
        bob.api.status_post("@alice hey", in_reply_to_id=post["id"])
    bob.api.status_post(f"@{alice.username} are you there?")
    dm = bob.api.status_post(f"@{alice.username} psst", visibility="direct")
    assert bob.api.account_relationships(alice.id)[0]["blocked_by"] is True
    assert alice.api.conversations() == []
    with pytest.raises(MastodonNotFoundError):
        alice.api.status(dm["id"])
    # Jobs run a moment later: once carol's later mention has arrived, bob's would have.
    sentinel = carol.api.status_post(f"@{alice.username} hi from carol")
    mentions = eventually(lambda: alice.api.notifications(types=["mention"]))
    assert [n["status"]["id"] for n in mentions] == [sentinel["id"]]

    alice.api.account_unblock(bob.id)
    assert bob.api.status(post["id"])["id"] == post["id"]


def test_given_a_mute_with_a_duration_then_the_muted_leave_home_and_notifications(
    live_server: LiveServer,
) -> None:
    alice, bob, carol = live_server.people("alice", "bob", "carol")
    alice.api.account_follow(bob.id)
    bob.api.status_post("before the mute")

    muted = alice.api.account_mute(bob.id, notifications=True, duration=3600)

    assert muted["muting"] is True and muted["muting_notifications"] is True
    (listed,) = alice.api.mutes()
    assert str(listed["id"]) == bob.id and listed["mute_expires_at"] is not None
    bob.api.status_post(f"@{alice.username} after the mute")
    assert alice.api.timeline_home() == []
    sentinel = carol.api.status_post(f"@{alice.username} hi from carol")
    notes = eventually(lambda: alice.api.notifications())
    assert [n["status"]["id"] for n in notes] == [sentinel["id"]]
    alice.api.account_unmute(bob.id)
    assert len(alice.api.timeline_home()) == 2


def test_given_a_muted_thread_then_its_replies_notify_no_more(live_server: LiveServer) -> None:
    alice, bob = live_server.people("alice", "bob")
    root = alice.api.status_post("a thread")
    assert alice.api.status_mute(root["id"])["muted"] is True
    bob.api.status_post(f"@{alice.username} reply", in_reply_to_id=root["id"])
    elsewhere = bob.api.status_post(f"@{alice.username} another topic")
    mentions = eventually(lambda: alice.api.notifications(types=["mention"]))
    assert [n["status"]["id"] for n in mentions] == [elsewhere["id"]]
    assert alice.api.status_unmute(root["id"])["muted"] is False
