"""Timelines and paging: newest first, no gaps, no duplicates."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Roost, User


def _walk(user: User, path: str, limit: int) -> list[str]:
    """Follow rel=next links until the end, as an app scrolling down does."""
    seen: list[str] = []
    url: str | None = f"{path}?limit={limit}"
    while url:
        response = user.get(url)
        assert response.status_code == 200
        page = [s["id"] for s in response.json()]
        assert len(page) <= min(limit, 40)
        seen += page
        match = re.search(r'<([^>]+)>; rel="next"', response.headers.get("link", ""))
        url = match.group(1).replace("http://testserver", "") if match and page else None
    return seen


def test_given_many_posts_when_paged_in_any_size_then_every_post_once_newest_first(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    ids = [alice.post_status(f"post {n}")["id"] for n in range(45)]
    newest_first = list(reversed(ids))
    assert sorted(ids, key=int) == ids

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        limit=st.integers(min_value=1, max_value=45),
        path=st.sampled_from(
            [
                "/api/v1/timelines/home",
                "/api/v1/timelines/public",
                f"/api/v1/accounts/{alice.id}/statuses",
            ]
        ),
    )
    def walk_all(limit: int, path: str) -> None:
        assert _walk(bob, path, limit) == newest_first

    walk_all()

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(start=st.integers(min_value=0, max_value=44), limit=st.integers(1, 40))
    def window(start: int, limit: int) -> None:
        anchor = ids[start]
        older = bob.get("/api/v1/timelines/home", params={"max_id": anchor, "limit": limit})
        assert [s["id"] for s in older.json()] == list(reversed(ids[max(0, start - limit) : start]))
        newer = bob.get("/api/v1/timelines/home", params={"min_id": anchor, "limit": limit})
        assert [s["id"] for s in newer.json()] == list(reversed(ids[start + 1 : start + 1 + limit]))
        since = bob.get("/api/v1/timelines/home", params={"since_id": anchor, "limit": 40})
        assert [s["id"] for s in since.json()] == list(reversed(ids[start + 1 :]))[:40]

    window()


def test_given_home_when_read_then_own_and_followed_posts_only(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    mine, bobs = alice.post_status("mine"), bob.post_status("bob's")
    carol.post_status("carol's")
    home = [s["id"] for s in alice.get("/api/v1/timelines/home").json()]
    assert home == [bobs["id"], mine["id"]]


def test_given_a_reply_to_a_stranger_when_home_is_read_then_it_is_left_out(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    to_stranger = bob.post_status("@carol hi", in_reply_to_id=carol.post_status("c")["id"])
    to_alice = bob.post_status("hi alice", in_reply_to_id=alice.post_status("a")["id"])
    home = [s["id"] for s in alice.get("/api/v1/timelines/home").json()]
    assert to_alice["id"] in home and to_stranger["id"] not in home


def test_given_unlisted_and_boosts_when_public_is_read_then_only_public_originals(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    public = alice.post_status("public #tag")
    alice.post_status("quiet #tag", visibility="unlisted")
    bob.post(f"/api/v1/statuses/{public['id']}/reblog")
    listed = roost.client.get("/api/v1/timelines/public").json()
    assert [s["id"] for s in listed] == [public["id"]]
    local = roost.client.get("/api/v1/timelines/public", params={"local": "true"}).json()
    assert [s["id"] for s in local] == [public["id"]]
    assert roost.client.get("/api/v1/timelines/public", params={"remote": "true"}).json() == []
    tagged = roost.client.get("/api/v1/timelines/tag/TAG").json()
    assert [s["id"] for s in tagged] == [public["id"]]


def test_given_a_follow_without_boosts_when_home_is_read_then_their_boosts_hide(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.post(f"/api/v1/accounts/{bob.id}/follow", json={"reblogs": False})
    bob.post(f"/api/v1/statuses/{carol.post_status('c')['id']}/reblog")
    own = bob.post_status("bob's own")
    assert [s["id"] for s in alice.get("/api/v1/timelines/home").json()] == [own["id"]]
