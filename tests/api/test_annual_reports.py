"""Annual reports ("Wrapstodon", Mastodon 4.3-4.6): offered from the 10th of
December, computed by a job from the viewer's own data for the year, followed
through the async refresh its generation names, read and marked read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, update

from roost.db.tables import statuses
from roost.domain.annual_reports import actions
from roost.domain.statuses.rows import new_status_row
from roost.ids import new_id
from roost.visibility import Visibility
from tests.conftest import Roost, User

YEAR = datetime.now(UTC).year


@pytest.fixture
def in_campaign(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 20th of December of this year, when this year's reports are offered."""
    monkeypatch.setattr(actions, "utcnow", lambda: datetime(YEAR, 12, 20, 12, tzinfo=UTC))


def _move_to_month(roost: Roost, status_id: str, month: int) -> None:
    async def move() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(statuses)
                .where(statuses.c.id == int(status_id))
                .values(created_at=datetime(YEAR, month, 15, tzinfo=UTC))
            )

    roost.run(move)


def _generated(roost: Roost, user: User) -> dict[str, Any]:
    started = user.post(f"/api/v1/annual_reports/{YEAR}/generate")
    assert started.status_code == 202, started.text
    roost.drain_jobs()
    shown = user.get(f"/api/v1/annual_reports/{YEAR}")
    assert shown.status_code == 200, shown.text
    data: dict[str, Any] = shown.json()
    return data


def test_given_a_years_activity_when_the_report_is_generated_then_it_tells_that_year(
    roost: Roost, in_campaign: None
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    spring = alice.post_status("first #tomatoes of the year")
    _move_to_month(roost, spring["id"], 3)
    loved = alice.post_status("more #tomatoes and #basil")
    alice.post_status("just #basil")
    alice.post_status("a secret", visibility="direct")
    bob.post(f"/api/v1/statuses/{loved['id']}/reblog")
    bob.post(f"/api/v1/statuses/{spring['id']}/favourite")
    carol.post(f"/api/v1/statuses/{spring['id']}/favourite")
    bob.follow(alice)
    carol.follow(alice)

    wrapped = _generated(roost, alice)

    (report,) = wrapped["annual_reports"]
    assert report["year"] == YEAR and report["schema_version"] == 2
    assert report["account_id"] == alice.id and report["share_url"] is None
    data = report["data"]
    assert data["archetype"] == "lurker"  # four posts: fewer than the average
    months = {m["month"]: m for m in data["time_series"]}
    assert len(months) == 12
    this_month = datetime.now(UTC).month
    assert months[3]["statuses"] == 1
    assert months[this_month]["statuses"] == (3 if this_month != 3 else 4)
    assert months[this_month]["followers"] == 2
    assert sum(m["followers"] for m in data["time_series"]) == 2
    assert data["top_hashtags"] in (
        [{"name": "basil", "count": 2}],
        [{"name": "tomatoes", "count": 2}],
    )
    assert data["top_statuses"] == {
        "by_reblogs": loved["id"],
        "by_favourites": spring["id"],
        "by_replies": None,
    }
    assert {s["id"] for s in wrapped["statuses"]} == {loved["id"], spring["id"]}
    assert wrapped["accounts"] == []


def test_given_a_generation_then_state_and_async_refresh_follow_it_to_the_end(
    roost: Roost, in_campaign: None
) -> None:
    alice = roost.account("alice")
    alice.post_status("hello")
    assert alice.get(f"/api/v1/annual_reports/{YEAR}/state").json() == {"state": "eligible"}

    started = alice.post(f"/api/v1/annual_reports/{YEAR}/generate")

    assert started.status_code == 202
    header = started.headers["Mastodon-Async-Refresh"]
    refresh = header.split('"')[1]
    assert header.endswith("retry=2")
    assert alice.get(f"/api/v1/annual_reports/{YEAR}/state").json() == {"state": "generating"}
    running = alice.get(f"/api/v1_alpha/async_refreshes/{refresh}").json()
    assert running == {"async_refresh": {"id": refresh, "status": "running"}}
    assert alice.get(f"/api/v1/annual_reports/{YEAR}").status_code == 404
    again = alice.post(f"/api/v1/annual_reports/{YEAR}/generate")
    assert again.status_code == 202  # still under way: the same refresh, no second job
    assert again.headers["Mastodon-Async-Refresh"] == header
    roost.drain_jobs()
    assert alice.get(f"/api/v1/annual_reports/{YEAR}/state").json() == {"state": "available"}
    finished = alice.get(f"/api/v1_alpha/async_refreshes/{refresh}").json()
    assert finished["async_refresh"]["status"] == "finished"
    assert alice.post(f"/api/v1/annual_reports/{YEAR}/generate").status_code == 200


def test_given_someone_elses_refresh_id_then_404(roost: Roost, in_campaign: None) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post_status("hello")
    started = alice.post(f"/api/v1/annual_reports/{YEAR}/generate")
    refresh = started.headers["Mastodon-Async-Refresh"].split('"')[1]

    answer = bob.get(f"/api/v1_alpha/async_refreshes/{refresh}")

    assert answer.status_code == 404 and answer.json() == {"error": "Not Found"}
    assert bob.get("/api/v1/annual_reports").json()["annual_reports"] == []
    assert bob.get(f"/api/v1/annual_reports/{YEAR}").status_code == 404


def test_given_no_post_this_year_then_ineligible_and_nothing_generated(
    roost: Roost, in_campaign: None
) -> None:
    alice = roost.account("alice")

    started = alice.post(f"/api/v1/annual_reports/{YEAR}/generate")

    assert started.status_code == 200 and "Mastodon-Async-Refresh" not in started.headers
    assert alice.get(f"/api/v1/annual_reports/{YEAR}/state").json() == {"state": "ineligible"}
    assert alice.get(f"/api/v1/annual_reports/{YEAR}").status_code == 404


def test_given_a_day_outside_the_campaign_then_no_year_is_offered(roost: Roost) -> None:
    alice = roost.account("alice")
    alice.post_status("hello")
    outside = datetime(YEAR, 12, 9, tzinfo=UTC)

    assert actions.campaign(outside) is None
    assert actions.campaign(datetime(YEAR, 12, 10, tzinfo=UTC)) == YEAR
    assert actions.campaign(datetime(YEAR, 6, 20, tzinfo=UTC)) is None
    if actions.campaign(datetime.now(UTC)) is None:
        assert alice.post(f"/api/v1/annual_reports/{YEAR}/generate").status_code == 200
        state = alice.get(f"/api/v1/annual_reports/{YEAR}/state").json()
        assert state == {"state": "ineligible"}
    assert alice.get(f"/api/v1/annual_reports/{YEAR - 1}/state").json()["state"] == "ineligible"
    assert alice.get("/api/v1/annual_reports/nonsense/state").json()["state"] == "ineligible"
    assert alice.get("/api/v1/annual_reports/4242424242").status_code == 404


def test_given_a_report_marked_read_then_it_leaves_the_list_but_is_still_there_by_year(
    roost: Roost, in_campaign: None
) -> None:
    alice = roost.account("alice")
    alice.post_status("hello")
    assert alice.post(f"/api/v1/annual_reports/{YEAR}/read").status_code == 404
    _generated(roost, alice)
    listed = alice.get("/api/v1/annual_reports").json()
    assert [r["year"] for r in listed["annual_reports"]] == [YEAR]

    read = alice.post(f"/api/v1/annual_reports/{YEAR}/read")

    assert read.status_code == 200 and read.json() == {}
    assert alice.get("/api/v1/annual_reports").json()["annual_reports"] == []
    assert alice.get(f"/api/v1/annual_reports/{YEAR}").status_code == 200


def test_given_many_boosts_and_few_posts_then_the_archetype_is_booster(
    roost: Roost, in_campaign: None
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    original = bob.post_status("boost me")
    at = datetime.now(UTC)

    async def busy_year() -> None:
        async with roost.db.write() as tx:
            rows = [
                new_status_row(
                    status_id=new_id(),
                    account_id=int(alice.id),
                    visibility=Visibility.PUBLIC,
                    created_at=at,
                    reblog_of_id=int(original["id"]) if n < 100 else None,
                )
                for n in range(130)
            ]
            await tx.execute(insert(statuses), rows)

    roost.run(busy_year)

    data = _generated(roost, alice)["annual_reports"][0]["data"]

    assert data["archetype"] == "booster"  # 100 boosts > 2 x 30 posts, 130 >= 113


def test_given_no_token_then_annual_reports_are_401(roost: Roost) -> None:
    assert roost.client.get("/api/v1/annual_reports").status_code == 401
    assert roost.client.post(f"/api/v1/annual_reports/{YEAR}/generate").status_code == 401
