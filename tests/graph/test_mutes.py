"""Mutes quiet the muter's timelines and notifications; they hide nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import roost.domain.graph.mutes as mutes_module
from tests.conftest import Roost, User


def ids(items: list[dict[str, object]]) -> list[object]:
    return [item["id"] for item in items]


def mute(muter: User, muted: User, **params: object) -> dict[str, object]:
    response = muter.post(f"/api/v1/accounts/{muted.id}/mute", json=params)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_given_a_mute_then_home_public_and_tag_timelines_leave_the_muted_out(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    alice.follow(carol)
    bobs = bob.post_status("bob #news")
    boost = carol.post(f"/api/v1/statuses/{bobs['id']}/reblog").json()
    reply_to_bob = carol.post_status("@bob right", in_reply_to_id=bobs["id"])
    carols = carol.post_status("carol #news")

    rel = mute(alice, bob)

    assert rel["muting"] is True and rel["muting_notifications"] is True
    assert ids(alice.get("/api/v1/timelines/home").json()) == [carols["id"]]
    assert ids(alice.get("/api/v1/timelines/public").json()) == [carols["id"], reply_to_bob["id"]]
    assert ids(alice.get("/api/v1/timelines/tag/news").json()) == [carols["id"]]
    # Not a privacy rule: the posts still answer, and others still see them.
    assert alice.get(f"/api/v1/statuses/{bobs['id']}").status_code == 200
    assert alice.get(f"/api/v1/statuses/{boost['id']}").status_code == 200
    assert bobs["id"] in ids(carol.get("/api/v1/timelines/public").json())

    alice.post(f"/api/v1/accounts/{bob.id}/unmute")
    assert len(alice.get("/api/v1/timelines/home").json()) == 4


def test_given_a_mute_with_notifications_then_they_are_hidden_and_not_created(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("hi")
    bob.post(f"/api/v1/statuses/{post['id']}/favourite")
    roost.drain_jobs()
    mute(alice, bob)
    assert alice.get("/api/v1/notifications").json() == []
    bob.post_status("@alice hello?")
    roost.drain_jobs()
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 0}
    alice.post(f"/api/v1/accounts/{bob.id}/unmute")
    # The favourite from before the mute shows again; the mention was never made.
    assert [n["type"] for n in alice.get("/api/v1/notifications").json()] == ["favourite"]


def test_given_a_mute_without_notifications_then_notifications_still_arrive(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    rel = mute(alice, bob, notifications=False)
    assert rel["muting"] is True and rel["muting_notifications"] is False
    bob.post_status("@alice hello")
    roost.drain_jobs()
    assert [n["type"] for n in alice.get("/api/v1/notifications").json()] == ["mention"]


def test_given_a_mute_with_a_duration_when_time_passes_then_it_ends(
    roost: Roost, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    post = bob.post_status("soon back")
    before = datetime.now(UTC)
    mute(alice, bob, duration=3600)
    listed = alice.get("/api/v1/mutes").json()
    assert ids(listed) == [bob.id]
    ends = datetime.fromisoformat(listed[0]["mute_expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=3590) < ends < before + timedelta(seconds=3610)
    assert alice.get("/api/v1/timelines/home").json() == []

    later = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(mutes_module, "utcnow", lambda: later)

    assert ids(alice.get("/api/v1/timelines/home").json()) == [post["id"]]
    assert alice.get("/api/v1/mutes").json() == []
    assert (
        alice.get("/api/v1/accounts/relationships", params={"id[]": bob.id}).json()[0]["muting"]
        is False
    )


def test_given_a_negative_duration_when_muting_then_422(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    assert alice.post(f"/api/v1/accounts/{bob.id}/mute", json={"duration": -5}).status_code == 422
    assert alice.get("/api/v1/mutes").json() == []


def test_given_a_muted_thread_then_replies_in_it_notify_no_more_until_unmuted(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    root = alice.post_status("a thread")
    first = bob.post_status("@alice one", in_reply_to_id=root["id"])
    roost.drain_jobs()
    assert len(alice.get("/api/v1/notifications").json()) == 1

    muted = alice.post(f"/api/v1/statuses/{first['id']}/mute")
    assert muted.status_code == 200 and muted.json()["muted"] is True
    second = bob.post_status("@alice two", in_reply_to_id=first["id"])
    bob.post(f"/api/v1/statuses/{root['id']}/favourite")
    elsewhere = bob.post_status("@alice elsewhere")
    roost.drain_jobs()
    statuses = [n["status"]["id"] for n in alice.get("/api/v1/notifications").json()]
    assert statuses == [elsewhere["id"], first["id"]]

    unmuted = alice.post(f"/api/v1/statuses/{root['id']}/unmute")
    assert unmuted.json()["muted"] is False
    third = bob.post_status("@alice three", in_reply_to_id=second["id"])
    roost.drain_jobs()
    assert alice.get("/api/v1/notifications").json()[0]["status"]["id"] == third["id"]


def test_given_a_hidden_post_when_its_thread_is_muted_then_404(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    secret = alice.post_status("only me", visibility="direct")
    assert bob.post(f"/api/v1/statuses/{secret['id']}/mute").status_code == 404
