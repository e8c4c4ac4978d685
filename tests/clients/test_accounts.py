"""Mastodon.py on one's own profile, following, and notifications."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients.conftest import LiveServer, Person, eventually

pytestmark = pytest.mark.clients


def _notifications(person: Person, kind: str) -> list[Any]:
    """Asks the server to filter by type, and checks that it did."""
    found = person.api.notifications(types=[kind])
    assert {n["type"] for n in found} <= {kind}
    return list(found)


def test_given_a_new_account_when_it_verifies_credentials_then_it_sees_its_own_settings(
    live_server: LiveServer,
) -> None:
    (alice,) = live_server.people("verify")

    me = alice.api.account_verify_credentials()

    assert me["id"] == alice.id
    assert me["username"] == me["acct"] == alice.username
    assert me["url"].startswith(live_server.url)
    assert me["source"]["privacy"] == "public"
    assert me["source"]["note"] == ""
    assert me["statuses_count"] == 0


def test_given_an_account_when_it_updates_its_profile_then_everyone_sees_the_change(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("profile", "visitor")

    updated = alice.api.account_update_credentials(
        display_name="Alice of the Roost", note="I keep bees.", locked=True
    )

    assert updated["display_name"] == "Alice of the Roost"
    assert updated["source"]["note"] == "I keep bees."
    assert "I keep bees." in updated["note"]
    assert updated["locked"] is True
    again = alice.api.account_verify_credentials()
    assert again["display_name"] == "Alice of the Roost"
    seen = bob.api.account(alice.id)
    assert seen["display_name"] == "Alice of the Roost"
    assert seen["locked"] is True
    assert seen.get("source") is None, "only the owner sees the source of their profile"


def test_given_two_people_when_one_follows_then_unfollows_then_relationships_track_it(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("follower", "followee")

    followed = alice.api.account_follow(bob.id)

    assert followed["id"] == bob.id
    assert followed["following"] is True
    (mine,) = alice.api.account_relationships([bob.id])
    assert (mine["following"], mine["followed_by"]) == (True, False)
    (theirs,) = bob.api.account_relationships([alice.id])
    assert (theirs["following"], theirs["followed_by"]) == (False, True)
    assert [a["id"] for a in bob.api.account_followers(bob.id)] == [alice.id]
    assert [a["id"] for a in alice.api.account_following(alice.id)] == [bob.id]

    unfollowed = alice.api.account_unfollow(bob.id)

    assert unfollowed["following"] is False
    (mine,) = alice.api.account_relationships([bob.id])
    assert mine["following"] is False
    assert bob.api.account_followers(bob.id) == []


def test_given_a_locked_account_when_someone_follows_then_it_is_a_request_until_authorised(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("guarded", "asker")
    alice.api.account_update_credentials(locked=True)

    asked = bob.api.account_follow(alice.id)

    assert (asked["following"], asked["requested"]) == (False, True)
    assert [a["id"] for a in alice.api.follow_requests()] == [bob.id]

    alice.api.follow_request_authorize(bob.id)

    (now,) = bob.api.account_relationships([alice.id])
    assert (now["following"], now["requested"]) == (True, False)


def test_given_a_post_when_someone_mentions_and_favourites_it_then_notifications_arrive(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("notified", "notifier")
    post = alice.api.status_post("anyone around?")

    mention = bob.api.status_post(f"@{alice.username} I am!", in_reply_to_id=post)
    bob.api.status_favourite(post)
    bob.api.account_follow(alice.id)

    (mentioned,) = eventually(lambda: _notifications(alice, "mention"))
    assert mentioned["account"]["id"] == bob.id
    assert mentioned["status"]["id"] == mention["id"]
    (favourited,) = eventually(lambda: _notifications(alice, "favourite"))
    assert favourited["account"]["id"] == bob.id
    assert favourited["status"]["id"] == post["id"]
    (followed,) = eventually(lambda: _notifications(alice, "follow"))
    assert followed["account"]["id"] == bob.id
    assert bob.api.notifications() == []
    assert {n["type"] for n in alice.api.notifications()} == {"mention", "favourite", "follow"}
    assert [n["type"] for n in alice.api.notifications(exclude_types=["mention"])] == [
        "follow",
        "favourite",
    ]

    alice.api.notifications_dismiss(mentioned["id"])
    assert _notifications(alice, "mention") == []
