"""Scheduled posts through the Mastodon API: keeping, listing, moving,
cancelling, limits, and publishing by a job that survives a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from roost.app import create_app
from roost.clock import utcnow
from roost.db.tables import jobs, media_attachments, scheduled_statuses
from roost.domain.scheduled import actions as scheduled_actions
from tests.conftest import Roost, User
from tests.media import samples


def _at(minutes: float) -> str:
    return (utcnow() + timedelta(minutes=minutes)).isoformat()


def _schedule(user: User, text: str, minutes: float = 10, **fields: Any) -> dict[str, Any]:
    response = user.post(
        "/api/v1/statuses", json={"status": text, "scheduled_at": _at(minutes), **fields}
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _make_due(roost: Roost) -> None:
    """Move every scheduled post and its jobs into the past."""

    async def move() -> None:
        past = utcnow() - timedelta(seconds=1)
        async with roost.db.write() as tx:
            await tx.execute(update(scheduled_statuses).values(scheduled_at=past))
            await tx.execute(
                update(jobs).where(jobs.c.kind == "scheduled.publish").values(run_at=past)
            )

    roost.run(move)


def _profile(user: User) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = user.get(f"/api/v1/accounts/{user.id}/statuses").json()
    return found


def test_given_a_scheduled_post_then_it_is_kept_shown_to_its_author_only_and_not_posted(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    kept = _schedule(alice, "see you at noon", spoiler_text="lunch", visibility="unlisted")
    assert set(kept) >= {"id", "scheduled_at", "params", "media_attachments"}
    assert kept["params"]["text"] == "see you at noon"
    assert kept["params"]["spoiler_text"] == "lunch"
    assert kept["params"]["visibility"] == "unlisted"
    assert kept["scheduled_at"].endswith("Z")
    roost.drain_jobs()
    assert _profile(alice) == []
    listed = alice.get("/api/v1/scheduled_statuses").json()
    assert [s["id"] for s in listed] == [kept["id"]]
    assert alice.get(f"/api/v1/scheduled_statuses/{kept['id']}").json() == kept
    assert bob.get(f"/api/v1/scheduled_statuses/{kept['id']}").status_code == 404
    assert bob.get("/api/v1/scheduled_statuses").json() == []
    assert roost.client.get("/api/v1/scheduled_statuses").status_code == 401
    assert bob.delete(f"/api/v1/scheduled_statuses/{kept['id']}").status_code == 404
    moved = bob.put(f"/api/v1/scheduled_statuses/{kept['id']}", json={"scheduled_at": _at(60)})
    assert moved.status_code == 404


def test_given_a_time_too_soon_or_unreadable_when_scheduling_then_422(roost: Roost) -> None:
    alice = roost.account("alice")
    for when in (_at(4), _at(-60), "tomorrow-ish"):
        response = alice.post("/api/v1/statuses", json={"status": "x", "scheduled_at": when})
        assert response.status_code == 422, (when, response.text)
        assert "error" in response.json()
    assert alice.get("/api/v1/scheduled_statuses").json() == []


def test_given_a_scheduled_post_when_moved_and_cancelled_then_so_it_is(roost: Roost) -> None:
    alice = roost.account("alice")
    kept = _schedule(alice, "later")
    later = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    moved = alice.put(
        f"/api/v1/scheduled_statuses/{kept['id']}", json={"scheduled_at": later.isoformat()}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["scheduled_at"] == later.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    soon = alice.put(f"/api/v1/scheduled_statuses/{kept['id']}", json={"scheduled_at": _at(1)})
    assert soon.status_code == 422
    assert alice.delete(f"/api/v1/scheduled_statuses/{kept['id']}").json() == {}
    assert alice.get(f"/api/v1/scheduled_statuses/{kept['id']}").status_code == 404
    _make_due(roost)
    roost.drain_jobs()
    assert _profile(alice) == []


def test_given_scheduled_posts_when_listed_then_paged_newest_first(roost: Roost) -> None:
    alice = roost.account("alice")
    ids = [_schedule(alice, f"post {i}", minutes=10 + i)["id"] for i in range(3)]
    first = alice.get("/api/v1/scheduled_statuses", params={"limit": 2})
    assert [s["id"] for s in first.json()] == ids[::-1][:2]
    assert "max_id=" in first.headers["Link"]
    rest = alice.get("/api/v1/scheduled_statuses", params={"max_id": ids[1]}).json()
    assert [s["id"] for s in rest] == [ids[0]]


def test_given_posts_with_media_and_a_poll_when_due_then_published_as_written(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    upload = alice.post(
        "/api/v2/media", files={"file": ("p.png", samples.png(), "image/png")}
    ).json()
    with_media = _schedule(alice, "a picture", media_ids=[upload["id"]], sensitive=True)
    assert [m["id"] for m in with_media["media_attachments"]] == [upload["id"]]
    assert with_media["params"]["media_ids"] == [upload["id"]]
    poll = {"options": ["yes", "no"], "expires_in": 600}
    with_poll = _schedule(alice, "a question", minutes=20, poll=poll)
    assert with_poll["params"]["poll"]["options"] == ["yes", "no"]

    async def upload_expiry() -> datetime:
        async with roost.db.read() as conn:
            found = await conn.execute(
                select(media_attachments.c.expires_at).where(
                    media_attachments.c.id == int(upload["id"])
                )
            )
            return found.scalar_one()  # type: ignore[no-any-return]

    # Kept for the post beyond an upload's day.
    assert roost.run(upload_expiry) > utcnow() + timedelta(hours=24, minutes=5)
    _make_due(roost)
    roost.drain_jobs()
    posted = {s["content"]: s for s in _profile(alice)}
    assert set(posted) == {"<p>a picture</p>", "<p>a question</p>"}
    picture = posted["<p>a picture</p>"]
    assert [m["id"] for m in picture["media_attachments"]] == [upload["id"]]
    assert picture["sensitive"] is True
    assert [o["title"] for o in posted["<p>a question</p>"]["poll"]["options"]] == ["yes", "no"]
    assert alice.get("/api/v1/scheduled_statuses").json() == []
    home = bob.get("/api/v1/timelines/home").json()
    assert {s["content"] for s in home} == set(posted)
    _make_due(roost)
    roost.drain_jobs()  # a second run publishes nothing twice
    assert len(_profile(alice)) == 2


def test_given_a_post_moved_later_when_its_first_time_comes_then_it_waits(roost: Roost) -> None:
    alice = roost.account("alice")
    kept = _schedule(alice, "not yet")
    alice.put(f"/api/v1/scheduled_statuses/{kept['id']}", json={"scheduled_at": _at(120)})

    async def run_every_job_now() -> None:
        async with roost.db.write() as tx:
            await tx.execute(update(jobs).values(run_at=utcnow() - timedelta(seconds=1)))

    roost.run(run_every_job_now)
    roost.drain_jobs()
    assert _profile(alice) == []
    assert [s["id"] for s in alice.get("/api/v1/scheduled_statuses").json()] == [kept["id"]]


def test_given_a_scheduled_post_when_a_fresh_server_runs_the_jobs_then_it_is_published(
    roost: Roost,
) -> None:
    """Nothing of a scheduled post lives in a process: a server started
    afresh over the same database (a restart, or another worker) publishes it."""
    alice = roost.account("alice")
    _schedule(alice, "after the restart")
    _make_due(roost)
    restarted = create_app(roost.settings)
    with TestClient(restarted) as client:
        portal = client.portal
        assert portal is not None
        portal.call(restarted.state.job_runner.drain)
    assert [s["content"] for s in _profile(alice)] == ["<p>after the restart</p>"]


def test_given_the_limits_when_scheduling_more_then_422(
    roost: Roost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduled_actions, "DAILY_LIMIT", 2)
    monkeypatch.setattr(scheduled_actions, "TOTAL_LIMIT", 3)
    alice = roost.account("alice")
    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=12, minute=0)
    for hour in (9, 10):
        at = tomorrow.replace(hour=hour).isoformat()
        response = alice.post("/api/v1/statuses", json={"status": "x", "scheduled_at": at})
        assert response.status_code == 200, response.text
    third = alice.post(
        "/api/v1/statuses", json={"status": "x", "scheduled_at": tomorrow.isoformat()}
    )
    assert third.status_code == 422 and "for that day" in third.json()["error"]
    next_day = (tomorrow + timedelta(days=1)).isoformat()
    assert (
        alice.post("/api/v1/statuses", json={"status": "x", "scheduled_at": next_day}).status_code
        == 200
    )
    fourth = alice.post(
        "/api/v1/statuses",
        json={"status": "x", "scheduled_at": (tomorrow + timedelta(days=2)).isoformat()},
    )
    assert fourth.status_code == 422 and "limit of 3" in fourth.json()["error"]


def test_given_a_scheduled_quote_when_due_then_it_is_published_quoting(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    original = bob.post_status("worth a quote later")
    kept = _schedule(alice, "as bob said", quoted_status_id=original["id"])
    assert kept["params"]["quoted_status_id"] == original["id"]
    _make_due(roost)
    roost.drain_jobs()
    (posted,) = _profile(alice)
    assert posted["quote"]["quoted_status"]["id"] == original["id"]
