"""List timelines in Redis: fan-out, membership changes, rebuilds, and
agreement with the SQL store's list timeline."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from roost.domain.types import Page, Viewer
from tests.conftest import User
from tests.timelines.conftest import Scaled


def _people(scaled: Scaled, *names: str) -> list[User]:
    return [scaled.roost.account(name) for name in names]


def _make_list(owner: User, *members: User, **fields: Any) -> str:
    made = owner.post("/api/v1/lists", json={"title": "a list", **fields})
    assert made.status_code == 200, made.text
    list_id = str(made.json()["id"])
    if members:
        _add(owner, list_id, *members)
    return list_id


def _add(owner: User, list_id: str, *members: User) -> None:
    added = owner.post(
        f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": [m.id for m in members]}
    )
    assert added.status_code == 200, added.text


def _remove(owner: User, list_id: str, *members: User) -> None:
    removed = owner.delete(
        f"/api/v1/lists/{list_id}/accounts", params={"account_ids[]": [m.id for m in members]}
    )
    assert removed.status_code == 200, removed.text


def _read(owner: User, list_id: str, **params: Any) -> list[str]:
    response = owner.get(f"/api/v1/timelines/list/{list_id}", params=params)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def test_given_an_owner_who_reads_a_list_when_a_member_posts_then_it_is_cached(
    scaled: Scaled,
) -> None:
    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    alice.follow(carol)
    close = _make_list(alice, bob)
    scaled.roost.drain_jobs()
    assert _read(alice, close) == []  # rebuilt (empty) and cached from here on
    assert scaled.redis.exists(scaled.list_key(alice, close))
    from_bob = bob.post_status("for the list")
    carol.post_status("not in the list")
    scaled.roost.drain_jobs()

    rebuilds = scaled.counter("roost_timeline_rebuilds_total")
    shown = _read(alice, close)

    assert shown == [from_bob["id"]]
    assert scaled.cached_list_ids(alice, close) == [int(from_bob["id"])]
    assert scaled.counter("roost_timeline_rebuilds_total") == rebuilds


def test_given_a_list_nobody_reads_when_a_member_posts_then_nothing_is_written(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    close = _make_list(alice, bob)
    bob.post_status("into the void")
    scaled.roost.drain_jobs()
    assert not scaled.redis.exists(scaled.list_key(alice, close))


def test_given_a_cached_list_when_a_post_is_deleted_then_it_leaves_the_list(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    close = _make_list(alice, bob)
    scaled.roost.drain_jobs()
    _read(alice, close)
    post = bob.post_status("regrettable")
    scaled.roost.drain_jobs()
    assert scaled.cached_list_ids(alice, close) == [int(post["id"])]

    assert bob.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    scaled.roost.drain_jobs()

    assert scaled.cached_list_ids(alice, close) == []
    assert _read(alice, close) == []


def test_given_a_cached_list_when_its_owner_adds_a_member_then_their_posts_show_at_once(
    scaled: Scaled,
) -> None:
    # Given alice's list of bob, read (so kept in Redis), and carol's post
    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    alice.follow(carol)
    close = _make_list(alice, bob)
    older = carol.post_status("before joining")
    from_bob = bob.post_status("member")
    scaled.roost.drain_jobs()
    assert _read(alice, close) == [from_bob["id"]]
    assert scaled.cached_list_ids(alice, close) == [int(from_bob["id"])]

    # When alice adds carol, and reads the list before any job has run
    _add(alice, close, carol)

    # Then carol's post is there: the change dropped the kept list as it
    # committed (not only in its job), and the read rebuilt it
    assert _read(alice, close) == [from_bob["id"], older["id"]]
    scaled.roost.drain_jobs()
    assert _read(alice, close) == [from_bob["id"], older["id"]]
    assert scaled.cached_list_ids(alice, close) == [int(from_bob["id"]), int(older["id"])]


def test_given_a_cached_list_when_a_member_is_removed_then_their_posts_are_gone(
    scaled: Scaled,
) -> None:
    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    alice.follow(carol)
    close = _make_list(alice, bob, carol)
    scaled.roost.drain_jobs()
    _read(alice, close)
    from_bob = bob.post_status("stays")
    from_carol = carol.post_status("leaves")
    scaled.roost.drain_jobs()
    assert scaled.cached_list_ids(alice, close) == [int(from_carol["id"]), int(from_bob["id"])]

    _remove(alice, close, carol)

    # At once, before any job ran: reads apply the membership of now.
    assert _read(alice, close) == [from_bob["id"]]
    scaled.roost.drain_jobs()
    assert scaled.cached_list_ids(alice, close) in ([], [int(from_bob["id"])])
    assert _read(alice, close) == [from_bob["id"]]
    assert scaled.cached_list_ids(alice, close) == [int(from_bob["id"])]


def test_given_a_cached_list_when_its_replies_policy_widens_then_the_replies_show(
    scaled: Scaled,
) -> None:
    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    alice.follow(carol)
    close = _make_list(alice, bob, replies_policy="none")
    scaled.roost.drain_jobs()
    _read(alice, close)
    question = carol.post_status("a question")
    reply = bob.post_status("an answer", in_reply_to_id=question["id"])
    scaled.roost.drain_jobs()
    assert _read(alice, close) == []

    alice.put(f"/api/v1/lists/{close}", json={"replies_policy": "followed"})
    scaled.roost.drain_jobs()

    assert _read(alice, close) == [reply["id"]] == scaled.sql_list_ids(alice, close)


def test_given_a_followed_replies_list_when_the_owner_follows_someone_then_replies_show(
    scaled: Scaled,
) -> None:
    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    close = _make_list(alice, bob, replies_policy="followed")
    scaled.roost.drain_jobs()
    _read(alice, close)
    question = carol.post_status("a question")
    reply = bob.post_status("an answer", in_reply_to_id=question["id"])
    scaled.roost.drain_jobs()
    assert _read(alice, close) == []

    alice.follow(carol)
    scaled.roost.drain_jobs()

    assert _read(alice, close) == [reply["id"]] == scaled.sql_list_ids(alice, close)


def test_given_a_cached_list_when_it_is_deleted_then_its_key_goes(scaled: Scaled) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    close = _make_list(alice, bob)
    scaled.roost.drain_jobs()
    _read(alice, close)
    assert scaled.redis.exists(scaled.list_key(alice, close))

    assert alice.delete(f"/api/v1/lists/{close}").status_code == 200
    scaled.roost.drain_jobs()

    assert not scaled.redis.exists(scaled.list_key(alice, close))
    assert alice.get(f"/api/v1/timelines/list/{close}").status_code == 404


def test_given_someone_elses_list_when_read_then_not_found(scaled: Scaled) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    close = _make_list(alice, bob)
    assert bob.get(f"/api/v1/timelines/list/{close}").status_code == 404
    assert not scaled.redis.exists(scaled.list_key(bob, close))


def test_given_flushed_lists_when_many_read_at_once_then_one_rebuild_per_list(
    scaled: Scaled,
) -> None:
    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    alice.follow(carol)
    lists = {_make_list(alice, bob): bob, _make_list(alice, carol): carol}
    expected = {
        list_id: [member.post_status(f"p{n}")["id"] for n in range(4)][::-1]
        for list_id, member in lists.items()
    }
    scaled.roost.drain_jobs()
    for list_id in lists:
        assert _read(alice, list_id) == expected[list_id]
    for list_id in lists:
        scaled.redis.delete(scaled.list_key(alice, list_id))
    viewer = Viewer(account_id=int(alice.id), scopes=frozenset({"read"}))
    before = scaled.counter("roost_timeline_rebuilds_total")

    async def many() -> list[tuple[str, list[str]]]:
        async def one(list_id: str) -> tuple[str, list[str]]:
            async with scaled.db.scope() as reads:
                views = await scaled.services.timelines.list_timeline(
                    reads, viewer, int(list_id), Page(limit=20)
                )
            return list_id, [str(v.value.status.id) for v in views]

        return await asyncio.gather(*(one(list_id) for _ in range(8) for list_id in lists))

    answers = scaled.roost.run(many)

    assert all(ids == expected[list_id] for list_id, ids in answers)
    assert scaled.counter("roost_timeline_rebuilds_total") - before == len(lists)


@pytest.mark.scaled(fanout_max_followers=1)
def test_given_a_member_over_the_fanout_threshold_when_it_posts_then_the_list_merges_it(
    scaled: Scaled,
) -> None:
    alice, carol, star = _people(scaled, "alice", "carol", "star")
    alice.follow(star)
    carol.follow(star)
    alice.follow(carol)
    close = _make_list(alice, star, carol)
    scaled.roost.drain_jobs()
    _read(alice, close)
    big = star.post_status("to the stadium")
    small = carol.post_status("to a friend")
    scaled.roost.drain_jobs()

    assert scaled.cached_list_ids(alice, close) == [int(small["id"])]
    assert _read(alice, close) == [small["id"], big["id"]] == scaled.sql_list_ids(alice, close)


@pytest.mark.scaled(timeline_max_entries=10)
def test_given_more_posts_than_the_cap_when_paging_a_list_past_it_then_the_database_answers(
    scaled: Scaled,
) -> None:
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    close = _make_list(alice, bob)
    scaled.roost.drain_jobs()
    _read(alice, close)
    ids = [bob.post_status(f"post {n}")["id"] for n in range(16)]
    scaled.roost.drain_jobs()
    assert len(scaled.cached_list_ids(alice, close)) == 10
    seen: list[str] = []
    max_id = None
    while True:
        page = scaled.list_ids(alice, close, max_id=max_id, limit=4)
        if not page:
            break
        seen += page
        max_id = int(page[-1])
    assert seen == ids[::-1]
    assert scaled.list_ids(alice, close, min_id=int(ids[0]), limit=3) == ids[3:0:-1]


def test_given_random_lists_when_read_from_redis_then_they_match_sql(scaled: Scaled) -> None:
    _given_random_lists_when_read_from_redis_then_they_match_sql(scaled)


@pytest.mark.scaled(fanout_max_followers=1)
def test_given_random_lists_all_merged_at_read_when_read_from_redis_then_they_match_sql(
    scaled: Scaled,
) -> None:
    # Every account is over the fan-out threshold: each read merges their
    # posts from the database (the account-by-account walk, its checks of
    # direct posts and of the page's bounds) instead of reading fan-out's.
    _given_random_lists_when_read_from_redis_then_they_match_sql(scaled)


def _given_random_lists_when_read_from_redis_then_they_match_sql(scaled: Scaled) -> None:
    """Lists with every replies policy, posts, boosts, replies, direct posts,
    and afterwards members added and removed, a policy changed, an unfollow, a
    mute and a deletion: every list from Redis equals the SQL store's, page by
    page."""
    rng = random.Random(11)
    people = _people(scaled, *(f"user{n}" for n in range(6)))
    for one in people:
        for other in people:
            if one is not other and rng.random() < 0.6:
                one.post(f"/api/v1/accounts/{other.id}/follow")
    scaled.roost.drain_jobs()

    def followed_by(owner: User) -> list[User]:
        found = owner.get(f"/api/v1/accounts/{owner.id}/following", params={"limit": 80})
        ids = {a["id"] for a in found.json()}
        return [p for p in people if p.id in ids]

    lists: list[tuple[User, str]] = []
    for owner in people[:4]:
        for policy in ("followed", "list", "none"):
            followed = followed_by(owner)
            chosen = [p for p in followed if rng.random() < 0.5]
            lists.append((owner, _make_list(owner, *chosen, replies_policy=policy)))
    scaled.roost.drain_jobs()
    # Half are read (cached, fed by fan-out) before anything is posted; the
    # rest are rebuilt on their first read at the end.
    for owner, list_id in lists[::2]:
        _read(owner, list_id)
    posts: list[dict[str, Any]] = []
    for n in range(40):
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
        if posts and roll < 0.55:
            fields["in_reply_to_id"] = rng.choice(posts)["id"]
        if roll > 0.8:
            text += f" @{rng.choice(people).username}"
        response = author.post("/api/v1/statuses", json={"status": text, **fields})
        if response.status_code == 200:
            posts.append(response.json())
    scaled.roost.drain_jobs()

    def compare() -> None:
        for owner, list_id in lists:
            expected = scaled.sql_list_ids(owner, list_id, limit=40)
            label = f"{owner.username} list {list_id}"
            assert scaled.list_ids(owner, list_id, limit=40) == expected, label
            if len(expected) > 5:
                anchor = int(expected[3])
                assert scaled.list_ids(
                    owner, list_id, max_id=anchor, limit=3
                ) == scaled.sql_list_ids(owner, list_id, max_id=anchor, limit=3), label
                assert scaled.list_ids(
                    owner, list_id, min_id=anchor, limit=2
                ) == scaled.sql_list_ids(owner, list_id, min_id=anchor, limit=2), label

    compare()
    # Changes after fan-out that the cached lists must follow.
    for owner, list_id in lists[:6]:
        followed = followed_by(owner)
        members = owner.get(f"/api/v1/lists/{list_id}/accounts", params={"limit": 0}).json()
        held = {m["id"] for m in members}
        outside = [p for p in followed if p.id not in held]
        if outside:
            _add(owner, list_id, rng.choice(outside))
        inside = [p for p in people if p.id in held]
        if inside and rng.random() < 0.5:
            _remove(owner, list_id, rng.choice(inside))
    owner, list_id = lists[-1]
    owner.put(f"/api/v1/lists/{list_id}", json={"replies_policy": "followed"})
    target = next(p for p in followed_by(people[0]))
    people[0].post(f"/api/v1/accounts/{target.id}/unfollow")
    people[1].post(f"/api/v1/accounts/{people[2].id}/mute")
    own = [p for p in posts if p["account"]["id"] == people[3].id and not p.get("reblog")]
    if own:
        people[3].delete(f"/api/v1/statuses/{own[0]['id']}")
    for n in range(5):
        rng.choice(people).post_status(f"later {n}")
    scaled.roost.drain_jobs()
    fallbacks = scaled.counter("roost_timeline_cache_reads_total", result="database")
    compare()
    # Served from Redis throughout, every list cached again.
    assert scaled.counter("roost_timeline_cache_reads_total", result="database") == fallbacks
    assert all(scaled.redis.exists(scaled.list_key(o, i)) for o, i in lists)


def test_given_cached_lists_when_an_account_is_erased_then_its_lists_and_posts_leave_redis(
    scaled: Scaled,
) -> None:
    from roost.erasure.erase import erase_account

    alice, bob, carol = _people(scaled, "alice", "bob", "carol")
    alice.follow(bob)
    carol.follow(alice)
    carol.follow(bob)
    own = _make_list(alice, bob)
    theirs = _make_list(carol, alice, bob)
    scaled.roost.drain_jobs()
    _read(alice, own)
    _read(carol, theirs)
    erased_post = alice.post_status("soon erased")
    kept = bob.post_status("kept")
    scaled.roost.drain_jobs()
    assert scaled.cached_list_ids(carol, theirs) == [int(kept["id"]), int(erased_post["id"])]

    receipt = scaled.roost.run(lambda: erase_account(scaled.services, int(alice.id)))

    assert "FAILED" not in receipt.stores["timelines"], receipt.stores
    assert receipt.hits.get("redis") == [], receipt.hits
    assert not scaled.redis.keys(scaled.list_key(alice, own) + "*")
    assert scaled.cached_list_ids(carol, theirs) == [int(kept["id"])]
    assert _read(carol, theirs) == [kept["id"]]


def test_given_a_list_being_rebuilt_when_it_changes_then_the_stale_rebuild_is_not_kept(
    scaled: Scaled, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roost.domain.timelines import fanout
    from roost.domain.timelines.cached import ListTimeline

    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    close = _make_list(alice, bob)
    post = bob.post_status("listed")
    scaled.roost.drain_jobs()
    original = ListTimeline.contents

    async def contents_then_changed(self: ListTimeline, conn: Any, limit: int) -> list[int]:
        ids = await original(self, conn, limit)
        # The list changes (its job runs) after this rebuild read the members.
        await fanout.list_changed(scaled.store, int(alice.id), int(close))
        return ids

    monkeypatch.setattr(ListTimeline, "contents", contents_then_changed)
    before = scaled.counter("roost_timeline_cache_reads_total", result="database")

    assert _read(alice, close) == [post["id"]]

    # Answered from the database; nothing (possibly stale) written to Redis.
    assert scaled.counter("roost_timeline_cache_reads_total", result="database") == before + 1
    assert not scaled.redis.exists(scaled.list_key(alice, close))
    monkeypatch.setattr(ListTimeline, "contents", original)
    assert _read(alice, close) == [post["id"]]
    assert scaled.cached_list_ids(alice, close) == [int(post["id"])]


def test_given_redis_away_when_a_list_change_commits_then_the_change_stands_and_the_job_remains(
    scaled: Scaled, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Redis refuses the listener's drop of the kept list
    from roost.domain.timelines import fanout

    async def refused(*_args: Any) -> None:
        raise ConnectionError("redis is away")

    monkeypatch.setattr(fanout, "list_changed", refused)
    alice, bob = _people(scaled, "alice", "bob")
    alice.follow(bob)
    close = _make_list(alice)
    # When alice adds bob, then the change is made all the same
    _add(alice, close, bob)
    members = alice.get(f"/api/v1/lists/{close}/accounts").json()
    assert [m["id"] for m in members] == [bob.id]
    # And the list.changed job is still queued to drop the kept list
    from sqlalchemy import func, select

    from roost.db.tables import jobs

    async def queued() -> int:
        async with scaled.roost.db.read() as conn:
            counted = await conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.kind == "list.changed", jobs.c.state == "queued")
            )
            return int(counted.scalar_one())

    assert scaled.roost.run(queued) >= 1
