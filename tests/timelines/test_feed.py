"""The feed presenter (roost/domain/statuses/feed.py) against the general one.

Timelines build their views with ``feed.present`` (prepared reads, caches of
the viewer-independent parts); single posts and other lists still use
``queries.hydrate``. Both must show every viewer exactly the same thing, and
the caches must never show an old version of a post.
"""

from __future__ import annotations

import asyncio
from typing import Any

from roost.api.mastodon import serializers
from roost.domain.graph.counts import do_suspend
from roost.domain.statuses import queries
from roost.domain.statuses.shared import SHARED
from roost.domain.timelines.reads import Timelines
from roost.domain.types import Page, Viewer
from roost.streaming.events import STATUS_DELETED, StreamEvent
from roost.timelines.sql import SqlTimelineStore
from tests.conftest import Roost, User

BASE = "http://localhost"


def _viewer(user: User) -> Viewer:
    return Viewer(account_id=int(user.id), scopes=frozenset({"read", "write"}))


def _suspend(roost: Roost, account_id: int) -> None:
    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_suspend(tx, account_id)

    roost.run(suspend)


def _both(roost: Roost, user: User) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(home through the presenter, the same posts through hydrate), as JSON."""
    viewer = _viewer(user)

    async def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with roost.db.scope() as reads:
            fast = await Timelines(SqlTimelineStore()).home(reads, viewer, Page(limit=40))
            conn = await reads.conn()
            slow = await queries.statuses_by_ids(conn, viewer, [v.value.status.id for v in fast])
        base = roost.settings.base_url
        return (
            [serializers.status(v, base) for v in fast],
            [serializers.status(v, base) for v in slow],
        )

    result: tuple[list[dict[str, Any]], list[dict[str, Any]]] = roost.run(read)
    return result


def test_given_a_varied_home_when_presented_then_it_matches_the_general_path(
    roost: Roost,
) -> None:
    # Given boosts, replies to posts the reader may and may not see, a mention
    # of a suspended account, private posts, the reader's own marks.
    alice, bob, carol, mallory = (roost.account(n) for n in ("alice", "bob", "carol", "mallory"))
    for other in (bob, carol):
        alice.follow(other)
    carol.follow(bob)
    hidden = bob.post_status("followers only, carol follows", visibility="direct")
    bob.post_status("a reply to a post alice cannot see", in_reply_to_id=hidden["id"])
    seen = carol.post_status("hello @bob and @mallory #roost")
    reply = bob.post_status("@carol yes", in_reply_to_id=seen["id"])
    bob.post_status("for followers", visibility="private")
    assert carol.post(f"/api/v1/statuses/{reply['id']}/reblog").status_code == 200
    assert alice.post(f"/api/v1/statuses/{seen['id']}/favourite").status_code == 200
    assert alice.post(f"/api/v1/statuses/{reply['id']}/bookmark").status_code == 200
    _suspend(roost, int(mallory.id))

    # When alice's home is read through both paths, twice (the second from the caches).
    for _ in range(2):
        fast, slow = _both(roost, alice)
        # Then they agree field for field.
        assert fast == slow
    assert len(fast) == 5
    mentioned = next(p for p in fast if p["id"] == seen["id"])["mentions"]
    assert [m["username"] for m in mentioned] == ["bob"]  # mallory is suspended
    orphan = next(p for p in fast if p["content"].startswith("<p>a reply"))
    assert orphan["in_reply_to_id"] is None


def test_given_a_cached_post_when_edited_favourited_or_deleted_then_home_follows(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    post = bob.post_status("first words")
    assert alice.get("/api/v1/timelines/home").json()[0]["content"] == "<p>first words</p>"

    # When the post is edited and favourited after it was cached...
    assert (
        bob.put(f"/api/v1/statuses/{post['id']}", json={"status": "second words"}).status_code
        == 200
    )
    assert bob.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    shown = alice.get("/api/v1/timelines/home").json()[0]
    # ...then the timeline shows the new version and the new count.
    assert shown["content"] == "<p>second words</p>"
    assert shown["edited_at"] is not None
    assert shown["favourites_count"] == 1
    assert _both(roost, alice)[0] == _both(roost, alice)[1]

    # When it is deleted, its text leaves the cache at once.
    assert bob.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert SHARED.get(int(post["id"]), None) is None
    assert all(sid != int(post["id"]) for sid, _ in SHARED._entries)
    assert alice.get("/api/v1/timelines/home").json() == []


def test_given_a_delete_announced_by_another_process_then_the_cache_forgets_it(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    post = bob.post_status("said elsewhere")
    alice.get("/api/v1/timelines/home")
    post_id = int(post["id"])
    assert any(sid == post_id for sid, _ in SHARED._entries)

    # When the bus carries a deletion this process did not make...
    bus = roost.client.app.state.services.bus  # type: ignore[attr-defined]

    async def announce() -> None:
        await bus.publish(StreamEvent(kind=STATUS_DELETED, status_id=post_id))
        for _ in range(100):
            if not any(sid == post_id for sid, _ in SHARED._entries):
                return
            await asyncio.sleep(0.01)

    roost.run(announce)
    # Then the janitor dropped it.
    assert not any(sid == post_id for sid, _ in SHARED._entries)


def _home_json(user: User) -> list[dict[str, Any]]:
    response = user.get("/api/v1/timelines/home")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()
    return data


def test_given_others_marks_on_a_post_then_each_viewer_sees_only_their_own(
    roost: Roost,
) -> None:
    # Given bob's favourite, bookmark and boost of carol's post, and carol's pin.
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    for follower, followed in ((alice, carol), (bob, carol), (alice, bob)):
        follower.follow(followed)
    post = carol.post_status("carol says")
    for mark in ("favourite", "bookmark", "reblog"):
        assert bob.post(f"/api/v1/statuses/{post['id']}/{mark}").status_code == 200
    assert carol.post(f"/api/v1/statuses/{post['id']}/pin").status_code == 200

    # When alice reads her home (the post, and bob's boost of it)...
    home = _home_json(alice)
    original = next(p for p in home if p["id"] == post["id"])
    boost = next(p for p in home if p["reblog"])
    # ...then none of their marks are hers.
    for shown in (original, boost["reblog"]):
        assert not any(shown[m] for m in ("favourited", "bookmarked", "reblogged", "pinned"))

    # When she favourites it, the boost's original shows her mark, the boost not.
    assert alice.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    boost = next(p for p in _home_json(alice) if p["reblog"])
    assert boost["reblog"]["favourited"] is True and boost["favourited"] is False
    # Bob still sees his own marks, and nobody's are shown to nobody.
    mine = next(p for p in _home_json(bob) if p["id"] == post["id"])
    assert mine["favourited"] and mine["bookmarked"] and mine["reblogged"]
    public = roost.client.get("/api/v1/timelines/public").json()
    assert not any(p["favourited"] or p["bookmarked"] for p in public)


def test_given_mentions_of_accounts_blocked_either_way_then_the_reader_is_not_shown_them(
    roost: Roost,
) -> None:
    alice, carol, dave, erin = (roost.account(n) for n in ("alice", "carol", "dave", "erin"))
    alice.follow(carol)
    carol.post_status("hi @dave and @erin")
    assert [m["username"] for m in _home_json(alice)[0]["mentions"]] == ["dave", "erin"]

    # When alice blocks dave and erin blocks alice...
    assert alice.post(f"/api/v1/accounts/{dave.id}/block").status_code == 200
    assert erin.post(f"/api/v1/accounts/{alice.id}/block").status_code == 200

    # ...then her home and the public timeline name neither (from the caches too).
    public = alice.get("/api/v1/timelines/public").json()
    assert all(p["mentions"] == [] for p in _home_json(alice) + public)
    # Carol, who blocks nobody, still sees both named.
    assert [m["username"] for m in _home_json(carol)[0]["mentions"]] == ["dave", "erin"]
