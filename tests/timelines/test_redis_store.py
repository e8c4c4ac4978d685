"""The Redis home timeline: fan-out, rebuilds, caps, and agreement with SQL."""

from __future__ import annotations

import asyncio
import random

import pytest

from roost.domain.timelines import fanout
from roost.domain.types import Page, Viewer
from tests.conftest import User
from tests.timelines.conftest import Scaled


def _people(scaled: Scaled, *names: str) -> list[User]:
    return [scaled.roost.account(name) for name in names]


def test_given_a_follower_who_reads_home_when_a_post_fans_out_then_it_is_cached(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    scaled.roost.drain_jobs()
    assert alice.get("/api/v1/timelines/home").json() == []
    post = bob.post_status("hello")
    scaled.roost.drain_jobs()
    assert scaled.is_cached(alice, post["id"])
    rebuilds = scaled.counter("roost_timeline_rebuilds_total")
    assert [s["id"] for s in alice.get("/api/v1/timelines/home").json()] == [post["id"]]
    assert scaled.counter("roost_timeline_rebuilds_total") == rebuilds
    assert scaled.counter("roost_timeline_cache_reads_total", result="hit") >= 1


def test_given_a_follower_who_never_reads_home_when_a_post_fans_out_then_nothing_is_written(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    bob.post_status("into the void")
    scaled.roost.drain_jobs()
    assert not scaled.redis.exists(scaled.key(alice))


def test_given_a_fanned_out_post_when_its_job_runs_again_then_it_shows_once(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    alice.get("/api/v1/timelines/home")
    post = bob.post_status("once")
    scaled.roost.drain_jobs()
    for _ in range(3):
        scaled.roost.run(lambda: fanout.published(scaled.db, scaled.store, int(post["id"])))
    assert [s["id"] for s in alice.get("/api/v1/timelines/home").json()] == [post["id"]]
    assert scaled.cached_ids(alice) == [int(post["id"])]


def test_given_a_cached_post_when_it_is_deleted_then_it_leaves_every_timeline(
    scaled: Scaled,
) -> None:
    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    carol.follow(bob)
    for reader in (alice, bob, carol):
        reader.get("/api/v1/timelines/home")
    post = bob.post_status("regrettable")
    scaled.roost.drain_jobs()
    assert all(scaled.is_cached(u, post["id"]) for u in (alice, bob, carol))
    assert bob.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    scaled.roost.drain_jobs()
    assert not any(scaled.is_cached(u, post["id"]) for u in (alice, bob, carol))
    assert alice.get("/api/v1/timelines/home").json() == []


def test_given_a_cached_timeline_when_the_viewer_unfollows_then_old_posts_stop_showing(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    alice.get("/api/v1/timelines/home")
    post = bob.post_status("soon unfollowed")
    scaled.roost.drain_jobs()
    assert scaled.is_cached(alice, post["id"])
    alice.post(f"/api/v1/accounts/{bob.id}/unfollow")
    assert alice.get("/api/v1/timelines/home").json() == []
    # The read tidied the stale entry away.
    assert not scaled.is_cached(alice, post["id"])


def test_given_a_cached_timeline_when_the_viewer_follows_someone_then_their_posts_merge_in(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    earlier = [bob.post_status(f"before {n}")["id"] for n in range(3)]
    alice.get("/api/v1/timelines/home")
    alice.follow(bob)
    scaled.roost.drain_jobs()
    assert [s["id"] for s in alice.get("/api/v1/timelines/home").json()] == earlier[::-1]
    assert scaled.cached_ids(alice) == [int(i) for i in earlier[::-1]]


@pytest.mark.scaled(fanout_max_followers=1)
def test_given_an_account_over_the_fanout_threshold_when_it_posts_then_home_merges_it_at_read(
    scaled: Scaled,
) -> None:
    alice, carol, star = _people(scaled, "alice", "carol", "star")
    alice.follow(star)
    carol.follow(star)
    scaled.roost.drain_jobs()
    alice.get("/api/v1/timelines/home")
    before = scaled.counter("roost_timeline_fanout_entries_total")
    big = star.post_status("to the stadium")
    scaled.roost.drain_jobs()
    # Only the author's own timeline (if cached) is written; followers are not.
    assert not scaled.is_cached(alice, big["id"])
    assert scaled.counter("roost_timeline_fanout_entries_total") - before <= 1
    own = alice.post_status("mine")
    scaled.roost.drain_jobs()
    assert [s["id"] for s in alice.get("/api/v1/timelines/home").json()] == [
        own["id"],
        big["id"],
    ]


@pytest.mark.scaled(timeline_max_entries=10)
def test_given_more_posts_than_the_cap_when_paging_past_it_then_the_database_answers(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    alice.get("/api/v1/timelines/home")
    ids = [bob.post_status(f"post {n}")["id"] for n in range(16)]
    scaled.roost.drain_jobs()
    assert len(scaled.cached_ids(alice)) == 10
    seen: list[str] = []
    max_id = None
    while True:
        page = scaled.home_ids(alice, max_id=max_id, limit=4)
        if not page:
            break
        seen += page
        max_id = int(page[-1])
    assert seen == ids[::-1]
    # The oldest posts, below the cap, paged from the bottom with min_id.
    assert scaled.home_ids(alice, min_id=int(ids[0]), limit=3) == ids[3:0:-1]


def test_given_an_empty_cache_when_many_read_at_once_then_one_rebuild(scaled: Scaled) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    posts = [bob.post_status(f"p{n}")["id"] for n in range(5)]
    viewer = Viewer(account_id=int(alice.id), scopes=frozenset({"read"}))
    before = scaled.counter("roost_timeline_rebuilds_total")

    async def many() -> list[list[str]]:
        async def one() -> list[str]:
            async with scaled.db.scope() as reads:
                views = await scaled.services.timelines.home(reads, viewer, Page(limit=20))
            return [str(v.value.status.id) for v in views]

        return await asyncio.gather(*(one() for _ in range(12)))

    answers = scaled.roost.run(many)
    assert all(answer == posts[::-1] for answer in answers)
    assert scaled.counter("roost_timeline_rebuilds_total") - before == 1


def test_given_an_exclusive_list_when_its_members_post_then_redis_home_leaves_them_out(
    scaled: Scaled,
) -> None:
    """Exclusive lists on the Redis store, by fan-out and by rebuild: members'
    posts (and boosts) stay cached but are not shown on home, exactly as the SQL
    store answers; when the list stops being exclusive they are back."""
    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    alice.follow(carol)
    apart = alice.post("/api/v1/lists", json={"title": "apart", "exclusive": True}).json()
    added = alice.post(f"/api/v1/lists/{apart['id']}/accounts", data={"account_ids[]": [bob.id]})
    assert added.status_code == 200, added.text
    scaled.roost.drain_jobs()
    assert alice.get("/api/v1/timelines/home").json() == []  # cached from here on
    from_bob = bob.post_status("in the list only")
    from_carol = carol.post_status("on home")
    boost_by_bob = bob.post(f"/api/v1/statuses/{from_carol['id']}/reblog").json()
    mine = alice.post_status("mine")
    scaled.roost.drain_jobs()
    assert scaled.is_cached(alice, from_bob["id"]) and scaled.is_cached(alice, boost_by_bob["id"])
    fallbacks = scaled.counter("roost_timeline_cache_reads_total", result="database")

    home = [s["id"] for s in alice.get("/api/v1/timelines/home").json()]

    assert home == [mine["id"], from_carol["id"]]
    assert scaled.home_ids(alice) == scaled.sql_home_ids(alice) == home
    assert scaled.counter("roost_timeline_cache_reads_total", result="database") == fallbacks
    # Hidden while the list is exclusive, not dropped from the cache.
    assert scaled.is_cached(alice, from_bob["id"])
    listed = alice.get(f"/api/v1/timelines/list/{apart['id']}").json()
    assert [s["id"] for s in listed] == [boost_by_bob["id"], from_bob["id"]]
    # A rebuild from the database follows the same rule.
    scaled.redis.delete(scaled.key(alice))
    assert scaled.home_ids(alice) == home

    alice.put(f"/api/v1/lists/{apart['id']}", json={"exclusive": False})

    everything = [mine["id"], boost_by_bob["id"], from_carol["id"], from_bob["id"]]
    assert scaled.home_ids(alice) == scaled.sql_home_ids(alice) == everything


def test_given_a_random_graph_when_read_from_redis_then_it_matches_sql(scaled: Scaled) -> None:
    _given_a_random_graph_when_read_from_redis_then_it_matches_sql(scaled)


@pytest.mark.scaled(fanout_max_followers=1)
def test_given_a_random_graph_all_merged_at_read_when_read_from_redis_then_it_matches_sql(
    scaled: Scaled,
) -> None:
    # Every account is over the fan-out threshold: each read merges their
    # posts from the database (the account-by-account walk, its checks of
    # direct posts and of the page's bounds) instead of reading fan-out's.
    _given_a_random_graph_when_read_from_redis_then_it_matches_sql(scaled)


def _given_a_random_graph_when_read_from_redis_then_it_matches_sql(scaled: Scaled) -> None:
    """Follows with and without boosts, replies, direct posts, followed hashtags,
    exclusive lists, mutes, unfollows and deletions: every account's home from
    Redis equals the SQL store's, page by page."""
    rng = random.Random(7)
    people = _people(scaled, *(f"user{n}" for n in range(6)))
    # Half read their home before anything happens (cached, fed by fan-out);
    # the rest are rebuilt on first read at the end.
    for reader in people[:3]:
        reader.get("/api/v1/timelines/home")
    for one in people:
        for other in people:
            if one is not other and rng.random() < 0.5:
                one.post(
                    f"/api/v1/accounts/{other.id}/follow",
                    json={"reblogs": rng.random() < 0.7},
                )
    people[4].post("/api/v1/tags/roost/follow")
    exclusive = people[5].post("/api/v1/lists", json={"title": "apart", "exclusive": True})
    people[5].post(
        f"/api/v1/lists/{exclusive.json()['id']}/accounts",
        data={"account_ids[]": [people[0].id]},
    )
    scaled.roost.drain_jobs()
    posts: list[dict[str, str]] = []
    for n in range(30):
        author = rng.choice(people)
        roll = rng.random()
        if posts and roll < 0.2:
            target = rng.choice(posts)
            response = author.post(f"/api/v1/statuses/{target['id']}/reblog")
            if response.status_code == 200:
                posts.append(response.json())
            continue
        fields: dict[str, object] = {
            "visibility": rng.choice(["public", "public", "unlisted", "private", "direct"])
        }
        text = f"post {n}"
        if posts and roll < 0.45:
            parent = rng.choice(posts)
            fields["in_reply_to_id"] = parent["id"]
        if roll > 0.8:
            text += f" @{rng.choice(people).username}"
        if rng.random() < 0.3:
            text += " #roost"
        response = author.post("/api/v1/statuses", json={"status": text, **fields})
        if response.status_code == 200:
            posts.append(response.json())
    scaled.roost.drain_jobs()
    # Changes after fan-out that reads must honour: an unfollow, a mute, a deletion.
    people[0].post(f"/api/v1/accounts/{people[1].id}/unfollow")
    people[1].post(f"/api/v1/accounts/{people[2].id}/mute")
    own = [p for p in posts if p["account"]["id"] == people[3].id and not p.get("reblog")]
    if own:
        people[3].delete(f"/api/v1/statuses/{own[0]['id']}")
    scaled.roost.drain_jobs()
    for person in people:
        expected = scaled.sql_home_ids(person, limit=40)
        assert scaled.home_ids(person, limit=40) == expected, person.username
        if len(expected) > 6:
            anchor = int(expected[5])
            assert scaled.home_ids(person, max_id=anchor, limit=4) == scaled.sql_home_ids(
                person, max_id=anchor, limit=4
            )
            assert scaled.home_ids(person, min_id=anchor, limit=3) == scaled.sql_home_ids(
                person, min_id=anchor, limit=3
            )
