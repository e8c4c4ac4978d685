"""Mastodon.py against a live server: a push subscription set, read, changed and
removed, its messages decrypted by Mastodon.py itself; grouped notifications,
the notification policy and requests."""

from __future__ import annotations

import pytest
from mastodon import MastodonNotFoundError

from tests.clients.conftest import LiveServer, eventually
from tests.push.receiver import push_service

pytestmark = [pytest.mark.clients, pytest.mark.timeout(120)]


def test_given_a_push_subscription_then_mastodon_py_decrypts_what_arrives(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("alice", "bob")
    with push_service() as service:
        private, public = alice.api.push_subscription_generate_keys()
        made = alice.api.push_subscription_set(
            service.endpoint("alice"), public, mention_events=True, follow_events=True
        )
        assert made["endpoint"] == service.endpoint("alice")
        assert made["alerts"]["mention"] is True and made["alerts"]["favourite"] is False
        assert made["server_key"] == alice.api.instance_v2()["configuration"]["vapid"]["public_key"]
        assert alice.api.push_subscription()["id"] == made["id"]
        changed = alice.api.push_subscription_update(favourite_events=True)
        assert changed["alerts"]["favourite"] is True and changed["alerts"]["mention"] is True

        bob.api.status_post(f"@{alice.username} pushed to you")
        received = eventually(lambda: service.received[:1])[0]
        message = alice.api.push_subscription_decrypt_push(
            received.body,
            private,
            received.headers["Encryption"],
            received.headers["Crypto-Key"],
        )
        assert message["notification_type"] == "mention"
        assert message["access_token"] == alice.token
        assert message["title"] == f"{bob.username} mentioned you"
        assert str(message["notification_id"]) == str(alice.api.notifications()[0]["id"])

        alice.api.push_subscription_delete()
        with pytest.raises(MastodonNotFoundError):
            alice.api.push_subscription()


def test_given_likes_then_mastodon_py_reads_them_grouped(live_server: LiveServer) -> None:
    alice, bob, carol = live_server.people("alice", "bob", "carol")
    post = alice.api.status_post("like this")
    bob.api.status_favourite(post["id"])
    carol.api.status_favourite(post["id"])
    bob.api.status_post(f"@{alice.username} and a mention")

    def both() -> object:
        found = alice.api.grouped_notifications(expand_accounts="full")
        return found if len(found["notification_groups"]) == 2 else None

    grouped = eventually(both)
    mention, likes = grouped["notification_groups"]
    assert mention["type"] == "mention" and likes["type"] == "favourite"
    assert likes["notifications_count"] == 2
    assert [str(a) for a in likes["sample_account_ids"]] == [carol.id, bob.id]
    one = alice.api.grouped_notification(likes["group_key"])
    assert one["notification_groups"][0]["notifications_count"] == 2
    accounts = alice.api.grouped_notification_accounts(likes["group_key"])
    assert [str(a["id"]) for a in accounts] == [carol.id, bob.id]
    assert alice.api.unread_grouped_notifications_count() == 2
    alice.api.dismiss_grouped_notification(likes["group_key"])
    assert len(alice.api.grouped_notifications()["notification_groups"]) == 1


def test_given_a_filtering_policy_then_mastodon_py_accepts_the_request(
    live_server: LiveServer,
) -> None:
    alice, stranger = live_server.people("alice", "stranger")
    policy = alice.api.update_notifications_policy(for_not_following="filter")
    assert policy["for_not_following"] == "filter"
    stranger.api.status_post(f"@{alice.username} hello from a stranger")
    requests = eventually(lambda: alice.api.notification_requests())
    assert str(requests[0]["account"]["id"]) == stranger.id
    assert alice.api.notifications() == []
    assert alice.api.notifications_policy()["summary"]["pending_requests_count"] == 1
    alice.api.accept_notification_request(requests[0]["id"])
    assert alice.api.notifications_merged() is True
    assert [n["type"] for n in alice.api.notifications()] == ["mention"]
