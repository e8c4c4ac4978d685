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
from roost.domain.statuses.feed import SHARED
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
            fast = await SqlTimelineStore().home(reads, viewer, Page(limit=40))
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
