"""GET /api/v2/search: who finds which posts, operators, and never an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Roost, User
from tests.media import samples


def _found(user: User | None, roost: Roost, q: str, **params: Any) -> list[str]:
    getter = user.get if user is not None else roost.client.get
    response = getter("/api/v2/search", params={"q": q, "type": "statuses", **params})
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["statuses"]]


def _indexable(user: User) -> None:
    response = user.patch("/api/v1/accounts/update_credentials", json={"indexable": True})
    assert response.status_code == 200


def test_given_a_post_when_searched_then_its_author_finds_it_and_a_stranger_does_not(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("Pancakes with blueberries")
    roost.drain_jobs()
    assert _found(alice, roost, "blueberries") == [post["id"]]
    assert _found(alice, roost, "PANCAKES") == [post["id"]]
    # alice has not opted in to search: strangers cannot find her posts.
    assert _found(bob, roost, "blueberries") == []
    assert _found(None, roost, "blueberries") == []


def test_given_an_indexable_account_then_its_public_posts_are_found_by_anyone(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    _indexable(alice)
    public = alice.post_status("Sourdough starter notes")
    alice.post_status("Sourdough unlisted musings", visibility="unlisted")
    alice.post_status("Sourdough for followers", visibility="private")
    roost.drain_jobs()
    assert _found(bob, roost, "sourdough") == [public["id"]]
    assert _found(None, roost, "sourdough") == [public["id"]]


def test_given_interactions_then_the_posts_interacted_with_are_found(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    faved = alice.post_status("Lighthouse keeper diaries")
    marked = alice.post_status("Lighthouse lens cleaning")
    boosted = alice.post_status("Lighthouse at dusk")
    answered = alice.post_status("Lighthouse fog horn")
    mentioning = carol.post_status("@bob the lighthouse is private", visibility="private")
    alice.post_status("Lighthouse nobody touched")
    assert bob.post(f"/api/v1/statuses/{faved['id']}/favourite").status_code == 200
    assert bob.post(f"/api/v1/statuses/{marked['id']}/bookmark").status_code == 200
    assert bob.post(f"/api/v1/statuses/{boosted['id']}/reblog").status_code == 200
    bob.post_status("nice", in_reply_to_id=answered["id"])
    roost.drain_jobs()
    expected = [mentioning["id"], answered["id"], boosted["id"], marked["id"], faved["id"]]
    assert _found(bob, roost, "lighthouse") == expected
    # The mention reaches bob only: a followers-only post stays out of others' reach.
    assert _found(alice, roost, "private lighthouse") == []


def test_given_a_block_when_searching_then_the_blocked_side_finds_nothing(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    _indexable(alice)
    alice.post_status("Kayak trip photos")
    roost.drain_jobs()
    assert len(_found(bob, roost, "kayak")) == 1
    assert alice.post(f"/api/v1/accounts/{bob.id}/block").status_code == 200
    assert _found(bob, roost, "kayak") == []


def test_given_phrases_and_exclusions_then_words_in_order_and_without(roost: Roost) -> None:
    alice = roost.account("alice")
    quick = alice.post_status("the quick brown fox")
    brown = alice.post_status("the brown quick fox")
    roost.drain_jobs()
    assert _found(alice, roost, '"quick brown"') == [quick["id"]]
    assert _found(alice, roost, "quick brown") == [brown["id"], quick["id"]]
    assert _found(alice, roost, 'fox -"quick brown"') == [brown["id"]]
    assert _found(alice, roost, '"quick brown') == [quick["id"]]


def test_given_from_operators_then_only_that_authors_posts(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    _indexable(alice)
    _indexable(bob)
    mine = bob.post_status("Gardening log: tomatoes")
    hers = alice.post_status("Gardening log: basil")
    roost.drain_jobs()
    assert _found(bob, roost, "gardening from:me") == [mine["id"]]
    assert _found(bob, roost, "gardening from:alice") == [hers["id"]]
    assert _found(bob, roost, "gardening", account_id=alice.id) == [hers["id"]]
    assert _found(bob, roost, "gardening from:nobody") == []
    assert _found(None, roost, "gardening from:me") == []


def test_given_posts_with_and_without_media_then_has_media_narrows_every_searcher(
    roost: Roost,
) -> None:
    # Given an indexable author's posts with and without an image, one of them
    # favourited by a follower
    alice, bob = roost.account("alice"), roost.account("bob")
    _indexable(alice)
    media = alice.post("/api/v2/media", files={"file": ("a.png", samples.png(), "image/png")})
    assert media.status_code in (200, 202), media.text
    pictured = alice.post_status("Harbour at dawn", media_ids=[media.json()["id"]])
    plain = alice.post_status("Harbour at dusk")
    assert bob.post(f"/api/v1/statuses/{plain['id']}/favourite").status_code == 200
    roost.drain_jobs()

    # When each searches with and without has:media (and for one author, and
    # below an id), then only the posts the operators allow are found
    for searcher in (alice, bob, None):
        assert _found(searcher, roost, "harbour") == [plain["id"], pictured["id"]]
        assert _found(searcher, roost, "harbour has:media") == [pictured["id"]]
        assert _found(searcher, roost, "harbour -has:media") == [plain["id"]]
    assert _found(bob, roost, "harbour has:media", account_id=alice.id) == [pictured["id"]]
    assert _found(bob, roost, "harbour -has:media", account_id=bob.id) == []
    assert _found(bob, roost, "harbour", max_id=plain["id"]) == [pictured["id"]]
    assert _found(bob, roost, "harbour", min_id=pictured["id"]) == [plain["id"]]


def test_given_date_operators_then_only_posts_of_those_days(roost: Roost) -> None:
    alice = roost.account("alice")
    post = alice.post_status("Moon landing anniversary")
    roost.drain_jobs()
    today = datetime.now(UTC).date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    assert _found(alice, roost, f"moon after:{yesterday}") == [post["id"]]
    assert _found(alice, roost, f"moon during:{today}") == [post["id"]]
    assert _found(alice, roost, f"moon before:{tomorrow}") == [post["id"]]
    assert _found(alice, roost, f"moon before:{today}") == []
    assert _found(alice, roost, f"moon after:{today}") == []


def test_given_an_edit_or_a_delete_then_the_index_follows(roost: Roost) -> None:
    alice = roost.account("alice")
    post = alice.post_status("Original wording about owls")
    roost.drain_jobs()
    assert (
        alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "Now about hawks"}).status_code
        == 200
    )
    roost.drain_jobs()
    assert _found(alice, roost, "owls") == []
    assert _found(alice, roost, "hawks") == [post["id"]]
    assert alice.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    roost.drain_jobs()
    assert _found(alice, roost, "hawks") == []


def test_given_an_account_opting_in_and_out_then_strangers_find_and_lose_its_posts(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("Birdwatching checklist")
    roost.drain_jobs()
    assert _found(bob, roost, "birdwatching") == []
    _indexable(alice)
    roost.drain_jobs()
    assert _found(bob, roost, "birdwatching") == [post["id"]]
    alice.patch("/api/v1/accounts/update_credentials", json={"indexable": False})
    # Gone at once, before the reindexing job has run.
    assert _found(bob, roost, "birdwatching") == []


def test_given_many_results_when_paged_by_offset_then_each_once(roost: Roost) -> None:
    alice = roost.account("alice")
    ids = [alice.post_status(f"Recipe card {n}")["id"] for n in range(7)]
    roost.drain_jobs()
    pages = [_found(alice, roost, "recipe", limit=3, offset=o) for o in (0, 3, 6)]
    assert [i for page in pages for i in page] == list(reversed(ids))
    anonymous = roost.client.get("/api/v2/search", params={"q": "recipe", "offset": 3})
    assert anonymous.status_code == 401


def test_given_accounts_and_tags_when_searched_then_found_by_prefix(roost: Roost) -> None:
    alice, alison = roost.account("alice"), roost.account("alison")
    carol = roost.account("carol")
    carol.follow(alison)
    alice.post_status("#Gardening and #gardenparty")
    roost.drain_jobs()
    result = carol.get("/api/v2/search", params={"q": "ali"}).json()
    # The most followed first.
    assert [a["username"] for a in result["accounts"]] == ["alison", "alice"]
    exact = carol.get("/api/v2/search", params={"q": "alice", "type": "accounts"}).json()
    assert [a["username"] for a in exact["accounts"]] == ["alice"]
    following = carol.get("/api/v2/search", params={"q": "ali", "following": "true"}).json()
    assert [a["username"] for a in following["accounts"]] == ["alison"]
    tags = carol.get("/api/v2/search", params={"q": "#garden", "type": "hashtags"}).json()
    # The closest (shortest) names first; the exact name before all.
    assert [t["name"] for t in tags["hashtags"]] == ["Gardening", "gardenparty"]
    assert tags["hashtags"][0]["history"][0]["uses"] == "1"
    exact_tag = carol.get("/api/v2/search", params={"q": "gardenparty", "type": "hashtags"}).json()
    assert [t["name"] for t in exact_tag["hashtags"]] == ["gardenparty"]
    v1 = carol.get("/api/v1/accounts/search", params={"q": "alis", "limit": "x"})
    assert v1.status_code == 422


def test_given_an_undiscoverable_account_then_only_its_exact_name_finds_it(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.patch("/api/v1/accounts/update_credentials", json={"discoverable": False})
    assert [a["id"] for a in bob.get("/api/v1/accounts/search", params={"q": "ali"}).json()] == []
    exact = bob.get("/api/v1/accounts/search", params={"q": "@alice"}).json()
    assert [a["id"] for a in exact] == [alice.id]
    bob.follow(alice)
    assert [a["id"] for a in bob.get("/api/v1/accounts/search", params={"q": "ali"}).json()] == [
        alice.id
    ]


def test_given_any_query_when_searched_then_never_a_server_error(roost: Roost) -> None:
    alice = roost.account("alice")
    alice.post_status('Edge cases: "quotes", -dashes, from:me and NEAR(x y) AND OR NOT *')
    roost.drain_jobs()

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.text(max_size=60))
    def search(q: str) -> None:
        response = alice.get("/api/v2/search", params={"q": q})
        assert response.status_code == 200, (q, response.text)

    search()
    for q in ["NEAR(x y)", "*", "AND", '"', "'", "\\", "before:0000-00-00", "after:0001-01-01"]:
        assert alice.get("/api/v2/search", params={"q": q}).status_code == 200
