"""Web Push: subscriptions per token, and delivery to a real local push service
that decrypts every message and checks its VAPID signature."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.tables import jobs
from roost.domain.oauth.authorized import do_revoke_app
from tests.conftest import Roost, User
from tests.push.receiver import PushService, Subscriber, push_service

pytestmark = [pytest.mark.settings(outbound_allow_private=True), pytest.mark.timeout(90)]


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as running:
        yield running


def subscribe(
    user: User, service: PushService, subscriber: Subscriber, name: str, **data: Any
) -> dict[str, Any]:
    response = user.post(
        "/api/v1/push/subscription",
        json={
            "subscription": {
                "endpoint": service.endpoint(name),
                "keys": {"p256dh": subscriber.p256dh, "auth": subscriber.auth_b64},
                "standard": data.pop("standard", True),
            },
            "data": data,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def server_key(roost: Roost) -> str:
    key: str = roost.client.get("/api/v2/instance").json()["configuration"]["vapid"]["public_key"]
    return key


def test_given_a_subscription_then_it_is_read_changed_and_removed(
    roost: Roost, service: PushService
) -> None:
    alice = roost.account("alice")
    assert alice.get("/api/v1/push/subscription").status_code == 404
    made = subscribe(alice, service, Subscriber(), "a", alerts={"mention": True, "follow": "true"})
    assert made["endpoint"] == service.endpoint("a") and made["standard"] is True
    assert made["policy"] == "all"
    assert {k for k, v in made["alerts"].items() if v} == {"mention", "follow"}
    key = server_key(roost)
    assert made["server_key"] == key and len(key) == 88
    app = alice.post(
        "/api/v1/apps", json={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    )
    assert app.json()["vapid_key"] == key
    assert alice.get("/api/v1/push/subscription").json() == made

    changed = alice.put(
        "/api/v1/push/subscription",
        json={"data": {"alerts": {"favourite": True, "follow": False}, "policy": "followed"}},
    ).json()
    assert {k for k, v in changed["alerts"].items() if v} == {"mention", "favourite"}
    assert changed["policy"] == "followed" and changed["id"] == made["id"]

    # Another token of the same account has its own (none yet).
    other = roost.account("alice2")
    assert other.get("/api/v1/push/subscription").status_code == 404
    assert (
        other.put("/api/v1/push/subscription", json={"data": {"policy": "all"}}).status_code == 404
    )

    assert alice.delete("/api/v1/push/subscription").status_code == 200
    assert alice.get("/api/v1/push/subscription").status_code == 404


def test_given_bad_keys_or_endpoint_then_422(roost: Roost, service: PushService) -> None:
    alice, subscriber = roost.account("alice"), Subscriber()
    for subscription in (
        {"endpoint": "ftp://x", "keys": {"p256dh": subscriber.p256dh, "auth": subscriber.auth_b64}},
        {
            "endpoint": service.endpoint("a"),
            "keys": {"p256dh": "AAAA", "auth": subscriber.auth_b64},
        },
        {"endpoint": service.endpoint("a"), "keys": {"p256dh": subscriber.p256dh, "auth": "AAAA"}},
        {"endpoint": service.endpoint("a"), "keys": {"p256dh": "!!", "auth": subscriber.auth_b64}},
    ):
        response = alice.post("/api/v1/push/subscription", json={"subscription": subscription})
        assert response.status_code == 422, subscription
        assert "error" in response.json()
    bad_policy = alice.post(
        "/api/v1/push/subscription",
        json={
            "subscription": {
                "endpoint": service.endpoint("a"),
                "keys": {"p256dh": subscriber.p256dh, "auth": subscriber.auth_b64},
            },
            "data": {"policy": "everyone"},
        },
    )
    assert bad_policy.status_code == 422
    no_push_scope = roost.account("bob", scopes="read write")
    assert no_push_scope.get("/api/v1/push/subscription").status_code == 403


@pytest.mark.parametrize("standard", [True, False], ids=["aes128gcm", "aesgcm"])
def test_given_a_mention_then_an_encrypted_signed_message_arrives(
    roost: Roost, service: PushService, standard: bool
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    subscriber = Subscriber()
    subscribe(alice, service, subscriber, "alice", alerts={"mention": True}, standard=standard)
    bob.patch("/api/v1/accounts/update_credentials", json={"display_name": "Bob B."})
    bob.post_status("@alice a private word for you " + "long " * 40)
    roost.drain_jobs()

    (received,) = service.received
    assert received.path == "/push/alice"
    assert received.headers["TTL"] and received.headers["User-Agent"].startswith("Roost/")
    message = subscriber.open(received, server_key(roost))
    (notification,) = alice.get("/api/v1/notifications").json()
    assert message["notification_id"] == notification["id"]
    assert message["notification_type"] == "mention"
    assert message["access_token"] == alice.token
    assert message["preferred_locale"] == "en"
    assert message["title"] == "Bob B. mentioned you"
    assert message["body"].startswith("@alice a private word for you long")
    assert len(message["body"]) <= 140
    assert message["icon"] == notification["account"]["avatar"]


def test_given_alerts_and_a_policy_then_only_those_are_pushed(
    roost: Roost, service: PushService
) -> None:
    alice, friend, stranger = (roost.account(n) for n in ("alice", "friend", "stranger"))
    alice.follow(friend)
    subscriber = Subscriber()
    subscribe(alice, service, subscriber, "alice", alerts={"mention": True}, policy="followed")
    post = alice.post_status("like me")
    friend.post(f"/api/v1/statuses/{post['id']}/favourite")  # not an alert asked for
    stranger.post_status("@alice from a stranger")  # not followed
    friend.post_status("@alice from a friend")
    roost.drain_jobs()
    assert len(alice.get("/api/v1/notifications").json()) == 3
    (received,) = service.received
    assert subscriber.open(received, server_key(roost))["title"] == "friend mentioned you"

    alice.put("/api/v1/push/subscription", json={"data": {"policy": "none"}})
    friend.post_status("@alice again")
    roost.drain_jobs()
    assert len(service.received) == 1


def test_given_a_notification_held_by_the_policy_then_nothing_is_pushed(
    roost: Roost, service: PushService
) -> None:
    alice, stranger = roost.account("alice"), roost.account("stranger")
    subscribe(alice, service, Subscriber(), "alice", alerts={"mention": True})
    stranger.post_status("@alice psst", visibility="direct")  # a private mention: filtered
    roost.drain_jobs()
    assert service.received == []


def test_given_a_post_hidden_before_delivery_then_it_is_not_pushed(
    roost: Roost, service: PushService
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    subscribe(alice, service, Subscriber(), "alice", alerts={"mention": True})
    post = bob.post_status("@alice soon gone")
    roost.drain_jobs()
    service.received.clear()
    # The notification is made, then the post deleted before its push runs.
    service.answers["/push/alice"] = [503]
    bob.post_status("@alice second")
    roost.drain_jobs()
    assert len(service.received) == 1  # tried once, 503
    bob.delete(f"/api/v1/statuses/{post['id']}")
    second = alice.get("/api/v1/notifications").json()[0]
    bob.delete(f"/api/v1/statuses/{second['status']['id']}")
    _due_now(roost)
    roost.drain_jobs()
    assert len(service.received) == 1  # not sent again: nothing left to show


def _due_now(roost: Roost) -> list[Any]:
    """Make the waiting push jobs due (the backoff's wait, skipped); their rows."""

    async def run() -> list[Any]:
        async with roost.db.write() as tx:
            await tx.execute(
                update(jobs)
                .where(jobs.c.kind == "push.deliver", jobs.c.state == "queued")
                .values(run_at=utcnow() - timedelta(seconds=1))
            )
        async with roost.db.read() as conn:
            return list(
                (await conn.execute(select(jobs).where(jobs.c.kind == "push.deliver"))).all()
            )

    return roost.run(run)


def test_given_busy_then_gone_answers_then_retried_and_the_subscription_removed(
    roost: Roost, service: PushService
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    subscriber = Subscriber()
    subscribe(alice, service, subscriber, "alice", alerts={"mention": True})
    service.answers["/push/alice"] = [429, 503]
    bob.post_status("@alice one")
    roost.drain_jobs()
    assert len(service.received) == 1

    async def waiting() -> Any:
        async with roost.db.read() as conn:
            return (await conn.execute(select(jobs).where(jobs.c.kind == "push.deliver"))).one()

    job = roost.run(waiting)
    assert job.state == "queued" and job.attempts == 1 and job.run_at > utcnow()
    assert "429" in job.last_error
    _due_now(roost)
    roost.drain_jobs()
    _due_now(roost)
    roost.drain_jobs()
    assert len(service.received) == 3  # 429, 503, then delivered
    opened = [subscriber.open(r, server_key(roost)) for r in service.received]
    assert len({m["notification_id"] for m in opened}) == 1
    assert alice.get("/api/v1/push/subscription").status_code == 200

    service.answers["/push/alice"] = [410]
    bob.post_status("@alice two")
    roost.drain_jobs()
    assert len(service.received) == 4
    assert alice.get("/api/v1/push/subscription").status_code == 404
    bob.post_status("@alice three")
    roost.drain_jobs()
    assert len(service.received) == 4


def test_given_a_revoked_token_then_its_subscription_pushes_nothing(
    roost: Roost, service: PushService
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    subscribe(alice, service, Subscriber(), "alice", alerts={"mention": True})
    bob.post_status("@alice before")
    roost.drain_jobs()
    assert len(service.received) == 1
    # Posted, then the token revoked before its jobs run; then another mention.
    bob.post_status("@alice queued")

    async def revoke() -> None:
        async with roost.db.write() as tx:
            await do_revoke_app(tx, int(alice.id), None)

    roost.run(revoke)
    bob.post_status("@alice after")
    roost.drain_jobs()
    assert len(service.received) == 1
