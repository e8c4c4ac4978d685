"""The admin dashboard's measures, dimensions and retention, computed from
Roost's own rows, for staff with view_dashboard; keys Roost does not
compute are left out, as Mastodon leaves out those it does not know."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from roost.clock import utcnow
from roost.domain.roles.permissions import Permission
from tests.api.staff_support import staff_with
from tests.conftest import Roost, User


def _viewer(roost: Roost) -> User:
    return staff_with(roost, "dash", int(Permission.VIEW_DASHBOARD))


def _today() -> str:
    return utcnow().date().isoformat()


def _week_ago() -> str:
    return (utcnow().date() - timedelta(days=6)).isoformat()


def test_given_activity_today_when_staff_ask_for_measures_then_each_counts_todays_rows(
    roost: Roost,
) -> None:
    dash = _viewer(roost)
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("hello")
    bob.post(f"/api/v1/statuses/{post['id']}/favourite")
    bob.post(f"/api/v1/statuses/{post['id']}/reblog")
    bob.post_status("hi back", in_reply_to_id=post["id"])
    bob.post("/api/v1/reports", data={"account_id": alice.id, "comment": "test"})

    answer = dash.post(
        "/api/v1/admin/measures",
        data={
            "keys[]": [
                "new_users",
                "interactions",
                "opened_reports",
                "resolved_reports",
                "active_users",
                "instance_accounts",
                "no_such_key",
            ],
            "start_at": _week_ago(),
            "end_at": _today(),
        },
    )

    assert answer.status_code == 200, answer.text
    found = {m["key"]: m for m in answer.json()}
    assert list(found) == [
        "new_users",
        "interactions",
        "opened_reports",
        "resolved_reports",
        "active_users",
    ]
    assert found["new_users"]["total"] == "3"  # alice, bob and the staff member
    assert found["interactions"]["total"] == "3"  # a favourite, a boost and a reply
    assert found["opened_reports"]["total"] == "1"
    assert found["resolved_reports"]["total"] == "0"
    assert found["active_users"]["total"] == "3"  # each was given a token today
    days = found["new_users"]["data"]
    assert len(days) == 7 and days[-1] == {"date": f"{_today()}T00:00:00Z", "value": "3"}
    assert all(d["value"] == "0" for d in days[:-1])
    assert found["new_users"]["previous_total"] == "0"


def test_given_posts_in_two_languages_when_staff_ask_for_dimensions_then_each_answers(
    roost: Roost,
) -> None:
    dash = _viewer(roost)
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post_status("hello", language="en")
    bob.post_status("hallo", language="de")
    bob.post_status("hello", language="en")

    answer = dash.post(
        "/api/v1/admin/dimensions",
        data={
            "keys[]": ["languages", "software_versions", "space_usage", "sources", "servers"],
            "start_at": _week_ago(),
            "end_at": _today(),
        },
    )

    assert answer.status_code == 200, answer.text
    found = {d["key"]: d["data"] for d in answer.json()}
    assert list(found) == ["languages", "software_versions", "space_usage", "sources"]
    assert found["languages"] == [
        {"key": "en", "human_key": "English", "value": "2"},
        {"key": "de", "human_key": "German", "value": "1"},
    ]
    assert found["software_versions"][0]["key"] == "roost"
    assert {i["key"] for i in found["software_versions"]} & {"sqlite", "postgresql"}
    database = found["space_usage"][0]
    assert database["unit"] == "bytes" and int(database["value"]) > 0
    assert sum(int(i["value"]) for i in found["sources"]) == 3


def test_given_accounts_signed_up_today_when_staff_ask_for_retention_then_todays_cohort_is_active(
    roost: Roost,
) -> None:
    dash = _viewer(roost)
    roost.account("alice")

    answer = dash.post(
        "/api/v1/admin/retention",
        data={"start_at": _week_ago(), "end_at": _today(), "frequency": "day"},
    )

    assert answer.status_code == 200, answer.text
    cohorts = answer.json()
    assert len(cohorts) == 7 and cohorts[0]["frequency"] == "day"
    assert len(cohorts[0]["data"]) == 7 and len(cohorts[-1]["data"]) == 1
    today = cohorts[-1]
    assert today["period"] == f"{_today()}T00:00:00Z"
    assert today["data"] == [{"date": f"{_today()}T00:00:00Z", "rate": 1.0, "value": "2"}]
    assert all(d["value"] == "0" and d["rate"] == 0.0 for d in cohorts[0]["data"])


@pytest.mark.parametrize(
    ("path", "fields", "status"),
    [
        ("/api/v1/admin/measures", {"keys[]": "new_users"}, 400),
        ("/api/v1/admin/measures", {"start_at": "yesterday", "end_at": "2024-01-01"}, 400),
        ("/api/v1/admin/measures", {"start_at": "2024-02-01", "end_at": "2024-01-01"}, 422),
        ("/api/v1/admin/measures", {"start_at": "2020-01-01", "end_at": "2024-01-01"}, 422),
        (
            "/api/v1/admin/retention",
            {"start_at": "2024-01-01", "end_at": "2024-01-02", "frequency": "week"},
            422,
        ),
        (
            "/api/v1/admin/retention",
            {"start_at": "2024-01-01", "end_at": "2024-06-01", "frequency": "day"},
            422,
        ),
    ],
)
def test_given_a_bad_period_when_asked_then_mastodons_error(
    roost: Roost, path: str, fields: dict[str, str], status: int
) -> None:
    answer = _viewer(roost).post(path, data=fields)

    assert answer.status_code == status
    assert set(answer.json()) >= {"error"}


def test_given_monthly_retention_when_asked_then_one_cohort_per_month(roost: Roost) -> None:
    answer = _viewer(roost).post(
        "/api/v1/admin/retention",
        data={"start_at": "2024-01-15", "end_at": "2024-03-02", "frequency": "month"},
    )

    assert [c["period"][:10] for c in answer.json()] == ["2024-01-01", "2024-02-01", "2024-03-01"]


def _tag_measures(dash: User, tag_id: str, start: str, end: str) -> dict[str, Any]:
    answer = dash.post(
        "/api/v1/admin/measures",
        data={
            "keys[]": ["tag_accounts", "tag_uses", "tag_servers"],
            "tag_accounts[id]": tag_id,
            "tag_uses[id]": tag_id,
            "tag_servers[id]": tag_id,
            "start_at": start,
            "end_at": end,
        },
    )
    assert answer.status_code == 200, answer.text
    return {m["key"]: m for m in answer.json()}


def test_given_a_hashtag_used_today_when_staff_ask_for_its_measures_then_they_count_its_uses(
    roost: Roost,
) -> None:
    dash = _viewer(roost)
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    first = alice.post_status("Morning #Roost")
    alice.post_status("Evening #roost")
    bob.post_status("Quietly #roost", visibility="unlisted")
    carol.post_status("Followers only #roost", visibility="private")  # not a use anyone sees
    carol.post_status("Another #topic")
    bob.post(f"/api/v1/statuses/{first['id']}/reblog")  # a boost is not a use
    tag = roost.client.get("/api/v1/tags/roost").json()["id"]
    today = utcnow().date()
    tomorrow = (today + timedelta(days=1)).isoformat()

    week = _tag_measures(dash, tag, _week_ago(), _today())

    assert list(week) == ["tag_accounts", "tag_uses", "tag_servers"]
    totals = {key: (m["total"], m["previous_total"]) for key, m in week.items()}
    assert totals == {
        "tag_accounts": ("2", "0"),  # alice and bob
        "tag_uses": ("3", "0"),
        "tag_servers": ("1", "0"),  # this server
    }
    uses = week["tag_uses"]["data"]
    assert len(uses) == 7 and uses[-1] == {"date": f"{_today()}T00:00:00Z", "value": "3"}
    assert all(d["value"] == "0" for d in uses[:-1])
    assert week["tag_accounts"]["data"][-1]["value"] == "2"

    # Two days from tomorrow: nothing yet, and the two days before hold today.
    ahead = _tag_measures(dash, tag, tomorrow, (today + timedelta(days=2)).isoformat())
    assert {key: (m["total"], m["previous_total"]) for key, m in ahead.items()} == {
        "tag_accounts": ("0", "2"),
        "tag_uses": ("0", "3"),
        "tag_servers": ("0", "1"),
    }
    assert [d["value"] for d in ahead["tag_uses"]["data"]] == ["0", "0"]

    other = roost.client.get("/api/v1/tags/topic").json()["id"]
    assert _tag_measures(dash, other, _today(), _today())["tag_uses"]["total"] == "1"


def test_given_a_tag_measure_without_a_known_hashtag_then_404_as_mastodon(roost: Roost) -> None:
    dash = _viewer(roost)
    period = {"start_at": _today(), "end_at": _today()}
    unknown = dash.post(
        "/api/v1/admin/measures",
        data={"keys[]": ["tag_uses"], "tag_uses[id]": "4242424242", **period},
    )
    missing = dash.post("/api/v1/admin/measures", data={"keys[]": ["tag_accounts"], **period})
    assert unknown.status_code == 404 and unknown.json()["error"].startswith("Record not found")
    assert missing.status_code == 404
    # Other keys are unaffected by a tag parameter they do not use.
    plain = dash.post(
        "/api/v1/admin/measures",
        data={"keys[]": ["new_users"], "tag_uses[id]": "4242424242", **period},
    )
    assert plain.status_code == 200 and [m["key"] for m in plain.json()] == ["new_users"]


def _instance_measures(dash: User, domain: str | None, day: str) -> Any:
    keys = [
        "instance_accounts",
        "instance_statuses",
        "instance_media_attachments",
        "instance_follows",
        "instance_followers",
        "instance_reports",
    ]
    data: dict[str, Any] = {"keys[]": keys, "start_at": day, "end_at": day}
    if domain is not None:
        data.update({f"{key}[domain]": domain for key in keys})
    return dash.post("/api/v1/admin/measures", data=data)


def test_given_accounts_of_another_server_when_staff_ask_for_its_measures_then_they_count(
    roost: Roost,
) -> None:
    from sqlalchemy import insert

    from roost.db.tables import follows
    from roost.domain.federation.remote import store_actor
    from roost.ids import new_id

    dash = _viewer(roost)
    alice = roost.account("alice")

    async def remote(name: str, domain: str) -> int:
        return await store_actor(
            roost.db,
            {
                "id": f"https://{domain}/users/{name}",
                "type": "Person",
                "preferredUsername": name,
                "inbox": f"https://{domain}/users/{name}/inbox",
            },
        )

    herons = [roost.run(lambda n=n: remote(n, "herons.example")) for n in ("ann", "ben")]
    roost.run(lambda: remote("cy", "elsewhere.example"))

    async def alice_follows(target: int) -> None:
        # As after the other server's Accept of alice's Follow.
        async with roost.db.write() as tx:
            await tx.execute(
                insert(follows).values(
                    id=new_id(),
                    account_id=int(alice.id),
                    target_account_id=target,
                    show_reblogs=True,
                    notify=False,
                    created_at=utcnow(),
                )
            )

    roost.run(lambda: alice_follows(herons[0]))
    reported = alice.post("/api/v1/reports", data={"account_id": str(herons[1]), "comment": "x"})
    assert reported.status_code == 200, reported.text

    answer = _instance_measures(dash, "Herons.Example.", _today())

    assert answer.status_code == 200, answer.text
    found = {m["key"]: m for m in answer.json()}
    assert {key: m["total"] for key, m in found.items()} == {
        "instance_accounts": "2",  # ann and ben, not cy of elsewhere
        "instance_statuses": "0",
        "instance_media_attachments": "0",  # media of other servers is not fetched
        "instance_follows": "0",
        "instance_followers": "1",  # alice follows ann
        "instance_reports": "1",  # alice reported ben
    }
    assert found["instance_media_attachments"]["unit"] == "bytes"
    assert found["instance_accounts"]["data"] == [{"date": f"{_today()}T00:00:00Z", "value": "2"}]
    nobody = _instance_measures(dash, "unknown.example", _today())
    assert {m["total"] for m in nobody.json()} == {"0"}
    missing = _instance_measures(dash, None, _today())
    assert missing.status_code == 200 and missing.json() == []  # no server named
