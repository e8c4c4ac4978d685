"""Notifications: every type, once per event, filtered and managed."""

from __future__ import annotations

from typing import Any

from roost.domain.notifications.actions import do_notify
from roost.domain.statuses.jobs import StatusPublished
from roost.jobs.registry import handler_for
from tests.conftest import Roost, User


def types_of(user: User, **params: Any) -> list[str]:
    response = user.get("/api/v1/notifications", params=params)
    assert response.status_code == 200, response.text
    return [n["type"] for n in response.json()]


def test_given_every_kind_of_event_then_each_notifies_once(roost: Roost) -> None:
    alice = roost.account("alice", locked=True)
    bob, carol = roost.account("bob"), roost.account("carol")
    carol.follow(alice)  # follow_request
    alice.post(f"/api/v1/follow_requests/{carol.id}/authorize")
    alice.post(f"/api/v1/accounts/{bob.id}/follow", json={"notify": True})
    bob.follow(alice)  # follow_request, never approved
    post = alice.post_status("hello")
    bob_post = bob.post_status("subscribed")  # status
    carol.post(f"/api/v1/statuses/{post['id']}/favourite")  # favourite
    carol.post(f"/api/v1/statuses/{bob_post['id']}/reblog")
    carol.post_status("@alice hi")  # mention
    alice.post(f"/api/v1/statuses/{bob_post['id']}/reblog")
    bob.put(f"/api/v1/statuses/{bob_post['id']}", json={"status": "subscribed, edited"})
    roost.drain_jobs()
    roost.drain_jobs()

    assert sorted(types_of(alice)) == sorted(
        ["follow", "follow_request", "status", "favourite", "mention", "update"]
    )
    assert sorted(types_of(bob)) == ["follow", "reblog", "reblog"]


def test_given_a_job_that_runs_twice_then_the_notification_is_made_once(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = bob.post_status("@alice hi")
    runner = roost.client.app.state.job_runner  # type: ignore[attr-defined]
    publish = handler_for(StatusPublished)
    assert publish is not None

    async def run_twice() -> None:
        for _ in range(2):
            await publish(runner.context, StatusPublished(int(post["id"])))
        async with roost.db.write() as tx:
            again = await do_notify(
                tx,
                type="mention",
                account_id=int(alice.id),
                from_account_id=int(bob.id),
                status_id=int(post["id"]),
            )
            assert again is False

    roost.run(run_twice)
    roost.drain_jobs()
    assert types_of(alice) == ["mention"]


def test_given_filters_then_types_exclusions_and_account_narrow_the_list(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    post = alice.post_status("hi")
    bob.follow(alice)
    bob.post(f"/api/v1/statuses/{post['id']}/favourite")
    carol.post_status("@alice hey")
    roost.drain_jobs()

    assert sorted(types_of(alice)) == ["favourite", "follow", "mention"]
    assert types_of(alice, **{"types[]": ["mention"]}) == ["mention"]
    assert sorted(types_of(alice, **{"exclude_types[]": ["mention"]})) == ["favourite", "follow"]
    assert sorted(types_of(alice, account_id=bob.id)) == ["favourite", "follow"]
    unread = alice.get("/api/v1/notifications/unread_count", params={"types[]": "mention"})
    assert unread.json() == {"count": 1}
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 3}


def test_given_a_notification_when_fetched_dismissed_and_cleared_then_each_acts(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.post_status("@alice one")
    bob.post_status("@alice two")
    roost.drain_jobs()
    first, second = alice.get("/api/v1/notifications").json()
    assert alice.get(f"/api/v1/notifications/{first['id']}").json()["id"] == first["id"]
    # Someone else's notification does not exist for bob.
    assert bob.get(f"/api/v1/notifications/{first['id']}").status_code == 404
    assert bob.post(f"/api/v1/notifications/{first['id']}/dismiss").status_code == 404

    assert alice.post(f"/api/v1/notifications/{first['id']}/dismiss").status_code == 200
    assert [n["id"] for n in alice.get("/api/v1/notifications").json()] == [second["id"]]
    assert alice.post("/api/v1/notifications/clear").status_code == 200
    assert alice.get("/api/v1/notifications").json() == []


def test_given_a_notification_about_a_post_turned_invisible_then_it_is_hidden(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    post = bob.post_status("@alice for followers", visibility="private")
    roost.drain_jobs()
    notification = alice.get("/api/v1/notifications").json()[0]
    assert notification["status"]["id"] == post["id"]
    bob.post(f"/api/v1/accounts/{alice.id}/block")
    assert alice.get("/api/v1/notifications").json() == []
    assert alice.get(f"/api/v1/notifications/{notification['id']}").status_code == 404


def test_given_a_subscriber_who_cannot_see_a_post_then_no_status_notification(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.post(f"/api/v1/accounts/{bob.id}/follow", json={"notify": True})
    carol.follow(bob)  # else her policy holds a stranger's private mention back
    bob.post_status("@carol just us", visibility="direct")
    roost.drain_jobs()
    assert types_of(alice) == []
    assert types_of(carol) == ["mention"]


def test_given_a_read_marker_then_the_unread_count_counts_only_newer_ones(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.post_status("@alice one")
    roost.drain_jobs()
    (first,) = alice.get("/api/v1/notifications").json()
    bob.post_status("@alice two")
    bob.post_status("@alice three")
    roost.drain_jobs()
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 3}

    saved = alice.post("/api/v1/markers", json={"notifications": {"last_read_id": first["id"]}})

    assert saved.status_code == 200, saved.text
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 2}
    capped = alice.get("/api/v1/notifications/unread_count", params={"limit": 1})
    assert capped.json() == {"count": 1}
