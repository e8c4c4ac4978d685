"""The replies of another server's post, fetched from its ``replies``
collection when a signed-in person reads its context: queued as a job (the
request waits on nothing), at most once an hour per post, the collection
read page by page (embedded first page, ``next`` pages), each reply fetched
by its id from its own server and stored when public or unlisted and
replying to that post, down to the thread depth, within the replies limit;
loops end, suspended servers are not asked. The other servers are
tests/federation/peers.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from roost.clock import utcnow
from roost.db.tables import status_replies_fetches
from roost.domain.blocks.domains import BlockChange, do_block_domain
from roost.domain.federation import hosts
from tests.conftest import Roost, User
from tests.federation.peers import Peer, serve
from tests.federation.test_received import _follow_mallory

pytestmark = pytest.mark.settings(federation_allow_insecure=True)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


def _uri(peer: Peer, n: int) -> str:
    return f"{peer.uri}/statuses/{n}"


def _replies(peer: Peer, n: int, first: list[str], later: list[str] | None = None) -> None:
    """Note ``n`` served with a replies collection as Mastodon writes it:
    the first page embedded, the next one (when ``later``) at its address."""
    collection = f"{_uri(peer, n)}/replies"
    page: dict[str, Any] = {"type": "CollectionPage", "partOf": collection, "items": first}
    if later is not None:
        page["next"] = f"{collection}/page2"
        peer.served[f"/users/mallory/statuses/{n}/replies/page2"] = {
            "id": f"{collection}/page2",
            "type": "CollectionPage",
            "partOf": collection,
            "items": later,
        }
    note = peer.served[f"/users/mallory/statuses/{n}"]
    note["replies"] = {"id": collection, "type": "Collection", "first": page}


def _search_one(user: User, uri: str) -> dict[str, Any]:
    found = user.get("/api/v2/search", params={"q": uri, "resolve": "true"}).json()
    [post] = found["statuses"]
    return dict(post)


def _descendants(user: User, status_id: str) -> list[str]:
    shown = user.get(f"/api/v1/statuses/{status_id}/context")
    assert shown.status_code == 200, shown.text
    return [p["uri"] for p in shown.json()["descendants"]]


def _notes_asked(peer: Peer) -> list[str]:
    return [p for p in peer.asked if "/statuses/" in p]


def test_given_a_remote_post_when_its_context_is_read_then_its_replies_are_fetched_by_a_job(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    peer.serve_note(1)
    for n in (2, 3):
        peer.serve_note(n, inReplyTo=_uri(peer, 1))
    # A followers-only reply its server serves anyway: never kept.
    peer.serve_note(4, inReplyTo=_uri(peer, 1), to=[f"{peer.uri}/followers"], cc=[])
    # A reply to reply 2, listed in 2's own collection.
    peer.serve_note(5, inReplyTo=_uri(peer, 2))
    _replies(peer, 1, [_uri(peer, 2)], later=[{"id": _uri(peer, 3)}, _uri(peer, 4)])
    _replies(peer, 2, [_uri(peer, 5)])
    root = _search_one(alice, _uri(peer, 1))
    asked = len(peer.asked)

    # When alice reads the post's context, it answers at once with what is here...
    assert _descendants(alice, root["id"]) == []
    assert len(peer.asked) == asked  # nothing asked while the request waited
    # ...and the job fetches the replies: both pages, and one level below.
    roost.drain_jobs()
    assert _descendants(alice, root["id"]) == [_uri(peer, n) for n in (2, 5, 3)]
    assert "/users/mallory/statuses/1/replies/page2" in peer.asked
    assert _search_one(alice, _uri(peer, 1))["replies_count"] == 2
    fetched = sorted(_notes_asked(peer)[asked:])

    # Read again within the hour: nothing is asked again.
    assert _descendants(alice, root["id"]) == [_uri(peer, n) for n in (2, 5, 3)]
    roost.drain_jobs()
    assert sorted(_notes_asked(peer)[asked:]) == fetched

    # Signed out, reading the context queues nothing either.
    peer.serve_note(6, inReplyTo=_uri(peer, 1))
    _replies(peer, 1, [_uri(peer, 2), _uri(peer, 6)])

    async def an_hour_ago() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(status_replies_fetches).values(fetched_at=utcnow() - timedelta(hours=2))
            )

    roost.run(an_hour_ago)
    assert roost.client.get(f"/api/v1/statuses/{root['id']}/context").status_code == 200
    roost.drain_jobs()
    assert _uri(peer, 6) not in _descendants(alice, root["id"])
    # An hour later, alice's read asks again and finds the new reply.
    _descendants(alice, root["id"])
    roost.drain_jobs()
    assert _uri(peer, 6) in _descendants(alice, root["id"])


@pytest.mark.settings(
    federation_allow_insecure=True, federation_replies_limit=2, federation_thread_depth=1
)
def test_given_limits_then_the_walk_takes_that_many_replies_and_that_deep(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    peer.serve_note(1)
    for n in (2, 3, 4):
        peer.serve_note(n, inReplyTo=_uri(peer, 1))
    peer.serve_note(5, inReplyTo=_uri(peer, 2))
    _replies(peer, 1, [_uri(peer, n) for n in (2, 3, 4)])
    _replies(peer, 2, [_uri(peer, 5)])
    root = _search_one(alice, _uri(peer, 1))

    _descendants(alice, root["id"])
    roost.drain_jobs()
    assert _descendants(alice, root["id"]) == [_uri(peer, 2), _uri(peer, 3)]
    assert "/users/mallory/statuses/4" not in peer.asked
    assert "/users/mallory/statuses/5" not in peer.asked


def test_given_a_collection_that_loops_or_lies_then_each_post_is_taken_once_and_checked(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    peer.serve_note(1)
    peer.serve_note(2, inReplyTo=_uri(peer, 1))
    # Not a reply to 1 at all, though 1's collection lists it.
    peer.serve_note(3)
    # 2's collection lists 1 and 2 again: a loop.
    _replies(peer, 1, [_uri(peer, 2), _uri(peer, 3), _uri(peer, 2)])
    _replies(peer, 2, [_uri(peer, 1), _uri(peer, 2)])
    root = _search_one(alice, _uri(peer, 1))
    asked = len(_notes_asked(peer))

    _descendants(alice, root["id"])
    roost.drain_jobs()
    assert _descendants(alice, root["id"]) == [_uri(peer, 2)]
    later = _notes_asked(peer)[asked:]
    assert later.count("/users/mallory/statuses/2") == 1
    assert later.count("/users/mallory/statuses/3") == 1
    found = alice.get("/api/v2/search", params={"q": _uri(peer, 3)}).json()
    assert found["statuses"] == []  # fetched, not kept


def test_given_replies_on_a_suspended_server_then_it_is_not_asked(roost: Roost, peer: Peer) -> None:
    alice = roost.account("alice")
    # One reply is on another server (127.0.0.2), which staff suspend.
    elsewhere = peer.base.replace("127.0.0.1", "127.0.0.2")
    peer.serve_note(1)
    peer.serve_note(2, inReplyTo=_uri(peer, 1))
    _replies(peer, 1, [f"{elsewhere}/users/zed/statuses/9", _uri(peer, 2)])
    root = _search_one(alice, _uri(peer, 1))

    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_block_domain(tx, "127.0.0.2", BlockChange(severity="suspend"))

    roost.run(suspend)
    _descendants(alice, root["id"])
    roost.drain_jobs()
    assert _descendants(alice, root["id"]) == [_uri(peer, 2)]

    # It was never tried: no failure of it is on record (a connection to
    # it would have been refused, and counted).
    async def state() -> hosts.Gate:
        return await hosts.gate(roost.db, hosts.host_of(elsewhere))

    assert not roost.run(state).failing


def test_given_a_local_post_or_a_followers_only_one_then_no_replies_are_asked_for(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mine = alice.post_status("mine", visibility="public")
    _descendants(alice, mine["id"])
    roost.drain_jobs()
    assert peer.asked == []

    _follow_mallory(roost, peer, alice)
    private = {**peer.serve_note(1, to=[f"{peer.uri}/followers"], cc=[])}
    _replies(peer, 1, [_uri(peer, 2)])
    peer.serve_note(2, inReplyTo=_uri(peer, 1))
    peer.send(
        roost,
        {"id": f"{_uri(peer, 1)}/activity", "type": "Create", "actor": peer.uri, "object": private},
    )
    home = alice.get("/api/v1/timelines/home").json()
    [post] = [p for p in home if p["uri"] == _uri(peer, 1)]
    assert post["visibility"] == "private"
    asked = len(peer.asked)
    _descendants(alice, post["id"])
    roost.drain_jobs()
    assert peer.asked[asked:] == []
