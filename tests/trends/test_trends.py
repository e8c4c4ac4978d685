"""Trends: hashtags, posts and links ranked from recent public activity,
shown to everyone only after staff approved them (GET /api/v1/trends/*),
reviewed by administrators through the admin API; private, unlisted,
suspended and undiscoverable activity never counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roost.domain.graph.counts import do_suspend
from roost.domain.trends.queries import forget_ranked
from tests.cards.site import Site, opengraph, serving
from tests.conftest import Roost, User


@pytest.fixture(autouse=True)
def _fresh_ranking() -> Iterator[None]:
    forget_ranked()
    yield
    forget_ranked()


def _admin(roost: Roost) -> User:
    return roost.account("staff", admin=True, scopes="read write admin:read admin:write")


def _review(staff: User, kind: str) -> list[dict[str, object]]:
    response = staff.get(f"/api/v1/admin/trends/{kind}")
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()
    return items


def test_given_a_hashtag_used_by_several_accounts_then_it_trends_only_once_approved(
    roost: Roost,
) -> None:
    staff = _admin(roost)
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    for user in (alice, bob, carol):
        user.post_status("dawn at the lake #Herons")
    for _ in range(4):
        alice.post_status("only mine #solo")
    assert roost.client.get("/api/v1/trends/tags").json() == []
    assert roost.client.get("/api/v1/trends").json() == []
    waiting = _review(staff, "tags")
    assert [t["name"] for t in waiting] == ["Herons"]  # one account alone never trends
    assert waiting[0]["requires_review"] is True and waiting[0]["trendable"] is False
    # Not staff: refused.
    assert alice.get("/api/v1/admin/trends/tags").status_code == 403
    tag_id = waiting[0]["id"]
    assert alice.post(f"/api/v1/admin/trends/tags/{tag_id}/approve").status_code == 403
    approved = staff.post(f"/api/v1/admin/trends/tags/{tag_id}/approve")
    assert approved.status_code == 200
    assert (approved.json()["name"], approved.json()["trendable"]) == ("Herons", True)
    shown = roost.client.get("/api/v1/trends/tags").json()
    assert [t["name"] for t in shown] == ["Herons"]
    assert len(shown[0]["history"]) == 7
    assert (shown[0]["history"][0]["uses"], shown[0]["history"][0]["accounts"]) == ("3", "3")
    assert alice.get("/api/v1/trends").json()[0]["following"] is False
    assert _review(staff, "tags")[0]["requires_review"] is False
    # Rejected: gone from the public trends, and no longer awaiting review.
    assert staff.post(f"/api/v1/admin/trends/tags/{tag_id}/reject").status_code == 200
    assert roost.client.get("/api/v1/trends/tags").json() == []
    assert _review(staff, "tags")[0]["trendable"] is False
    assert staff.post("/api/v1/admin/trends/tags/4242424242/approve").status_code == 404


def test_unlisted_private_suspended_and_undiscoverable_activity_does_not_count(
    roost: Roost,
) -> None:
    staff = _admin(roost)
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    alice.post_status("#quiet", visibility="unlisted")
    bob.post_status("#quiet", visibility="private")
    carol.post_status("#quiet")
    hidden = dave.patch("/api/v1/accounts/update_credentials", data={"discoverable": "false"})
    assert hidden.status_code == 200
    dave.post_status("#quiet")
    assert _review(staff, "tags") == []
    erin = roost.account("erin")
    erin.post_status("#quiet")
    assert [t["name"] for t in _review(staff, "tags")] == ["quiet"]

    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_suspend(tx, int(erin.id))

    roost.run(suspend)
    forget_ranked()
    assert _review(staff, "tags") == []


def test_a_post_favourited_and_boosted_by_others_trends_for_those_who_may_see_it(
    roost: Roost,
) -> None:
    staff = _admin(roost)
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    popular = alice.post_status("a heron caught a fish")
    private = alice.post_status("followers only", visibility="private")
    reply = alice.post_status("a reply", in_reply_to_id=popular["id"])
    bob.follow(alice)
    carol.follow(alice)
    for user in (bob, carol):
        for post in (popular, private, reply):
            assert user.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    alice.post(f"/api/v1/statuses/{popular['id']}/favourite")  # the author's own: not counted
    assert bob.post(f"/api/v1/statuses/{popular['id']}/reblog").status_code == 200
    waiting = _review(staff, "statuses")
    assert [s["id"] for s in waiting] == [popular["id"]]
    assert roost.client.get("/api/v1/trends/statuses").json() == []
    assert staff.post(f"/api/v1/admin/trends/statuses/{popular['id']}/approve").status_code == 200
    shown = roost.client.get("/api/v1/trends/statuses").json()
    assert [s["id"] for s in shown] == [popular["id"]]
    assert shown[0]["favourites_count"] == 3
    # A viewer the author blocks does not see it trend.
    assert alice.post(f"/api/v1/accounts/{dave.id}/block").status_code == 200
    assert dave.get("/api/v1/trends/statuses").json() == []
    assert bob.get("/api/v1/trends/statuses").json()[0]["favourited"] is True


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as running:
        yield running


@pytest.mark.settings(outbound_allow_private=True)
def test_a_link_shared_by_several_accounts_trends_with_its_card_and_history(
    roost: Roost, site: Site
) -> None:
    staff = _admin(roost)
    alice, bob = roost.account("alice"), roost.account("bob")
    site.page("/story", opengraph("The heron story", description="Long read"))
    site.page("/other", opengraph("Only once"))
    alice.post_status(f"read {site.url}/story")
    bob.post_status(f"this {site.url}/story")
    bob.post_status(f"and {site.url}/other")
    roost.drain_jobs()
    waiting = _review(staff, "links")
    assert [link["title"] for link in waiting] == ["The heron story"]
    assert roost.client.get("/api/v1/trends/links").json() == []
    card_id = waiting[0]["id"]
    assert staff.post(f"/api/v1/admin/trends/links/{card_id}/approve").status_code == 200
    (link,) = roost.client.get("/api/v1/trends/links").json()
    assert link["url"] == site.url + "/story" and link["description"] == "Long read"
    assert (link["history"][0]["uses"], link["history"][0]["accounts"]) == ("2", "2")
    assert roost.client.get("/api/v1/trends/links", params={"offset": 1}).json() == []


def test_given_a_post_and_a_boost_of_it_then_only_the_post_itself_may_trend(
    roost: Roost,
) -> None:
    from sqlalchemy import select

    from roost.db.tables import statuses
    from roost.domain.privacy import trendable_post

    # Given alice's public post, boosted by bob (the boost's row is public too)
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("a heron caught a fish")
    boost = bob.post(f"/api/v1/statuses/{post['id']}/reblog").json()

    # When the policy says which of the two may make anything trend
    async def trendable() -> set[int]:
        asked = [int(post["id"]), int(boost["id"])]
        async with roost.db.read() as conn:
            rows = await conn.execute(
                select(statuses.c.id).where(statuses.c.id.in_(asked), trendable_post())
            )
            return {int(row.id) for row in rows}

    # Then the post does, and the boost (counted as the post's activity) does not
    assert roost.run(trendable) == {int(post["id"])}
