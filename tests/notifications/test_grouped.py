"""Notifications v2: groups, their accounts and posts, unread counts, paging."""

from __future__ import annotations

from typing import Any

import pytest

from roost.domain.notifications import grouped as grouped_reads
from tests.conftest import Roost, User


def grouped(user: User, **params: Any) -> dict[str, Any]:
    response = user.get("/api/v2/notifications", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _likes_boost_mention(roost: Roost) -> tuple[User, list[User], dict[str, Any]]:
    alice = roost.account("alice")
    fans = [roost.account(name) for name in ("bob", "carol", "dave")]
    post = alice.post_status("a post to like")
    for fan in fans:
        assert fan.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    fans[0].post(f"/api/v1/statuses/{post['id']}/reblog")
    fans[0].post_status("@alice hello")
    roost.drain_jobs()
    return alice, fans, post


def test_given_likes_a_boost_and_a_mention_then_likes_are_one_group(roost: Roost) -> None:
    alice, (bob, carol, dave), post = _likes_boost_mention(roost)

    data = grouped(alice)

    groups = data["notification_groups"]
    assert [g["type"] for g in groups] == ["mention", "reblog", "favourite"]
    mention, boost, likes = groups
    assert mention["group_key"] == f"ungrouped-{mention['most_recent_notification_id']}"
    assert likes["notifications_count"] == 3 and boost["notifications_count"] == 1
    assert likes["sample_account_ids"] == [dave.id, carol.id, bob.id]
    assert likes["status_id"] == post["id"] and boost["status_id"] == post["id"]
    assert likes["group_key"].startswith(f"favourite-{post['id']}-")
    assert likes["page_min_id"] < likes["page_max_id"] == likes["most_recent_notification_id"]
    assert likes["latest_page_notification_at"].endswith("Z")
    # Each account and post once, beside the groups.
    assert sorted(a["id"] for a in data["accounts"]) == sorted([bob.id, carol.id, dave.id])
    assert post["id"] in [s["id"] for s in data["statuses"]]
    assert len(data["statuses"]) == len({s["id"] for s in data["statuses"]}) == 2
    # v1 names the same groups.
    v1 = alice.get("/api/v1/notifications", params={"types[]": "favourite"}).json()
    assert {n["group_key"] for n in v1} == {likes["group_key"]}


def test_given_grouped_types_then_only_those_group(roost: Roost) -> None:
    alice, _fans, _post = _likes_boost_mention(roost)
    data = grouped(alice, **{"grouped_types[]": ["reblog"]})
    types = [g["type"] for g in data["notification_groups"]]
    assert types.count("favourite") == 3
    assert all(
        g["group_key"].startswith("ungrouped-")
        for g in data["notification_groups"]
        if g["type"] != "reblog"
    )
    only = grouped(alice, **{"types[]": ["favourite"]})["notification_groups"]
    assert [g["type"] for g in only] == ["favourite"]
    not_likes = grouped(alice, **{"exclude_types[]": ["favourite"]})["notification_groups"]
    assert {g["type"] for g in not_likes} == {"mention", "reblog"}


def test_given_a_group_then_it_is_read_listed_and_dismissed_whole(roost: Roost) -> None:
    alice, (bob, carol, dave), _post = _likes_boost_mention(roost)
    likes = grouped(alice, **{"types[]": ["favourite"]})["notification_groups"][0]
    key = likes["group_key"]

    one = alice.get(f"/api/v2/notifications/{key}").json()
    assert [g["group_key"] for g in one["notification_groups"]] == [key]
    assert one["notification_groups"][0]["notifications_count"] == 3
    accounts = alice.get(f"/api/v2/notifications/{key}/accounts").json()
    assert [a["id"] for a in accounts] == [dave.id, carol.id, bob.id]
    # Not someone else's.
    assert bob.get(f"/api/v2/notifications/{key}").status_code == 404
    assert bob.post(f"/api/v2/notifications/{key}/dismiss").status_code == 404

    assert alice.post(f"/api/v2/notifications/{key}/dismiss").status_code == 200
    assert alice.get(f"/api/v2/notifications/{key}").status_code == 404
    assert [g["type"] for g in grouped(alice)["notification_groups"]] == ["mention", "reblog"]
    assert alice.get("/api/v2/notifications/ungrouped-12/accounts").status_code == 404


def test_given_a_post_that_became_hidden_then_its_group_is_not_shown(roost: Roost) -> None:
    alice, (bob, carol, _dave), post = _likes_boost_mention(roost)
    # A block hides the blocked account from the samples and the accounts.
    alice.post(f"/api/v1/accounts/{carol.id}/block")
    likes = grouped(alice, **{"types[]": ["favourite"]})
    assert carol.id not in likes["notification_groups"][0]["sample_account_ids"]
    assert carol.id not in [a["id"] for a in likes["accounts"]]
    assert likes["notification_groups"][0]["notifications_count"] == 2
    # Bob's boost and mention are gone with bob's post and his mention deleted.
    mention = grouped(alice, **{"types[]": ["mention"]})["notification_groups"][0]
    assert bob.delete(f"/api/v1/statuses/{mention['status_id']}").status_code == 200
    assert grouped(alice, **{"types[]": ["mention"]})["notification_groups"] == []
    # The liked post deleted: no group about it remains.
    alice.delete(f"/api/v1/statuses/{post['id']}")
    assert grouped(alice)["notification_groups"] == []


def test_given_pages_of_groups_then_links_walk_them(roost: Roost) -> None:
    alice, _fans, _post = _likes_boost_mention(roost)
    first = alice.get("/api/v2/notifications", params={"limit": 2})
    assert [g["type"] for g in first.json()["notification_groups"]] == ["mention", "reblog"]
    next_url = first.headers["Link"].split(";")[0].strip("<>")
    second = alice.get(next_url).json()
    assert [g["type"] for g in second["notification_groups"]] == ["favourite"]
    newer = alice.get(
        "/api/v2/notifications",
        params={"min_id": second["notification_groups"][0]["page_max_id"], "limit": 1},
    ).json()
    assert [g["type"] for g in newer["notification_groups"]] == ["reblog"]


def test_given_a_read_marker_then_unread_counts_groups(roost: Roost) -> None:
    alice, (bob, _carol, _dave), _post = _likes_boost_mention(roost)
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 3}
    assert alice.get(
        "/api/v2/notifications/unread_count", params={"grouped_types[]": ["reblog"]}
    ).json() == {"count": 5}
    assert alice.get("/api/v1/notifications/unread_count").json() == {"count": 5}
    newest = grouped(alice)["notification_groups"][0]["most_recent_notification_id"]
    alice.post("/api/v1/markers", json={"notifications": {"last_read_id": newest}})
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 0}
    bob.post_status("@alice again")
    roost.drain_jobs()
    assert alice.get("/api/v2/notifications/unread_count").json() == {"count": 1}


def test_given_partial_avatars_then_only_each_groups_latest_account_is_full(
    roost: Roost,
) -> None:
    alice, (bob, carol, dave), _post = _likes_boost_mention(roost)
    data = grouped(alice, expand_accounts="partial_avatars", **{"types[]": ["favourite"]})
    assert [a["id"] for a in data["accounts"]] == [dave.id]
    partial = data["partial_accounts"]
    assert sorted(a["id"] for a in partial) == sorted([carol.id, bob.id])
    assert set(partial[0]) == {"id", "acct", "url", "avatar", "avatar_static", "locked", "bot"}


def test_given_more_likes_than_are_scanned_then_all_are_counted(
    roost: Roost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grouped_reads, "SAMPLE_SCAN", 2)
    alice, (_bob, carol, dave), _post = _likes_boost_mention(roost)
    likes = grouped(alice, **{"types[]": ["favourite"]})["notification_groups"][0]
    assert likes["notifications_count"] == 3
    assert likes["sample_account_ids"] == [dave.id, carol.id]


def test_given_more_likes_than_are_scanned_when_all_types_are_read_then_all_are_counted(
    roost: Roost, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three likes of one post, and groups sampled two at a time
    monkeypatch.setattr(grouped_reads, "SAMPLE_SCAN", 2)
    alice, (_bob, carol, dave), post = _likes_boost_mention(roost)

    # When alice reads every type grouped (the prepared reads' road)
    groups = grouped(alice)["notification_groups"]

    # Then the likes are one group of three, sampled from the newest two
    likes = [g for g in groups if g["type"] == "favourite"]
    assert len(likes) == 1 and likes[0]["status_id"] == post["id"]
    assert likes[0]["notifications_count"] == 3
    assert likes[0]["sample_account_ids"] == [dave.id, carol.id]
