"""Posts of other servers found by their address (``search?resolve=true``),
and the posts above a received reply fetched to a bounded depth, as jobs,
through the outbound client and the servers' delivery state. The other
server is the one of tests/federation/peers.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from roost.domain.federation import hosts
from tests.conftest import Roost, User
from tests.federation.peers import AP, PUBLIC, Peer, serve
from tests.federation.test_received import _follow_mallory

pytestmark = pytest.mark.settings(federation_allow_insecure=True)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


def _search(user: User, q: str, **params: str) -> list[dict[str, Any]]:
    answer = user.get("/api/v2/search", params={"q": q, "resolve": "true", **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["statuses"])


def _create(peer: Peer, n: int, **fields: Any) -> dict[str, Any]:
    note = {
        "id": f"{peer.uri}/statuses/{n}",
        "type": "Note",
        "attributedTo": peer.uri,
        "content": f"<p>note {n}</p>",
        "published": "2026-01-02T03:04:05Z",
        "to": [PUBLIC],
        "cc": [f"{peer.uri}/followers"],
        **fields,
    }
    return {"id": f"{note['id']}/activity", "type": "Create", "actor": peer.uri, "object": note}


def _notes_asked(peer: Peer) -> list[str]:
    return [p for p in peer.asked if "/statuses/" in p or p.startswith("/@mallory/")]


def _context(user: User, status_id: str) -> dict[str, list[str]]:
    shown = user.get(f"/api/v1/statuses/{status_id}/context").json()
    return {k: [p["uri"] for p in shown[k]] for k in ("ancestors", "descendants")}


def _home_post(user: User, uri: str) -> dict[str, Any]:
    return next(p for p in user.get("/api/v1/timelines/home").json() if p["uri"] == uri)


def test_given_a_remote_posts_page_when_resolved_then_it_is_fetched_once_and_shown(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    note = peer.serve_note(1, content="<p>pelicans</p>")

    # When alice searches the post's page with resolve=true...
    [found] = _search(alice, f"{peer.base}/@mallory/1")
    # ...then it is the Note, stored as a received one, by its author.
    assert found["uri"] == note["id"] and found["url"] == note["url"]
    assert found["content"] == "<p>pelicans</p>" and found["visibility"] == "public"
    assert found["account"]["acct"] == f"mallory@{peer.domain}"
    # The page redirected to the Note, which was fetched by its id.
    assert _notes_asked(peer) == ["/@mallory/1", "/users/mallory/statuses/1"]
    assert alice.get(f"/api/v1/statuses/{found['id']}").json()["uri"] == note["id"]

    # Found again by its id, without asking its server.
    assert [p["id"] for p in _search(alice, note["id"])] == [found["id"]]
    assert len(_notes_asked(peer)) == 2
    # Without resolve, an address is only words: nothing is fetched.
    assert _search(alice, f"{peer.base}/@mallory/2", resolve="false") == []
    assert len(_notes_asked(peer)) == 2
    # Signed out, resolve is refused (as Mastodon refuses it).
    anonymous = roost.client.get("/api/v2/search", params={"q": note["id"], "resolve": "true"})
    assert anonymous.status_code == 401
    # An address that is not a Note finds nothing, and stores nothing.
    assert _search(alice, f"{peer.base}/@mallory/404") == []
    assert _search(alice, peer.uri) == []


def test_given_followers_only_or_direct_notes_when_resolved_then_nothing_is_shown_or_stored(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    bob_uri = f"{roost.settings.base_url}/users/bob"
    # A server serving them to anyone anyway: still not taken from a fetch.
    peer.serve_note(1, to=[f"{peer.uri}/followers"], cc=[])
    peer.serve_note(2, to=[bob_uri], cc=[], tag=[{"type": "Mention", "href": bob_uri}])
    for n in (1, 2):
        assert _search(bob, f"{peer.uri}/statuses/{n}") == []
    assert roost.client.get("/api/v1/timelines/public").json() == []
    assert bob.get("/api/v1/conversations").json() == []

    # A followers-only note received here (alice follows mallory) is found
    # by her, and by its address is still hidden from bob, who does not.
    _follow_mallory(roost, peer, alice)
    peer.send(roost, _create(peer, 3, to=[f"{peer.uri}/followers"], cc=[]))
    uri = f"{peer.uri}/statuses/3"
    assert [p["uri"] for p in _search(alice, uri)] == [uri]
    assert _search(bob, uri) == []
    assert "/users/mallory/statuses/3" not in _notes_asked(peer)


def test_given_local_posts_when_their_addresses_are_resolved_then_the_policy_decides(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    base = roost.settings.base_url
    public = alice.post_status("open to all", visibility="public")
    private = alice.post_status("for followers", visibility="private")

    for address in (public["uri"], public["url"], f"{base}/@alice/{public['id']}"):
        assert [p["id"] for p in _search(bob, address)] == [public["id"]]
    assert _search(bob, private["uri"]) == []
    assert [p["id"] for p in _search(alice, private["url"])] == [private["id"]]
    assert _search(bob, f"{base}/@alice/1") == []
    # A boost's address names no post of its own.
    boost = bob.post(f"/api/v1/statuses/{public['id']}/reblog").json()
    assert _search(bob, f"{base}/users/bob/statuses/{boost['id']}") == []

    # The page answers another server asking for ActivityPub with the Note.
    page = roost.client.get(
        f"/@alice/{public['id']}", headers={"Accept": AP}, follow_redirects=False
    )
    assert page.status_code == 302
    assert page.headers["location"] == f"/users/alice/statuses/{public['id']}"
    note = roost.client.get(page.headers["location"], headers={"Accept": AP}).json()
    assert note["id"] == public["uri"]


def test_given_a_reply_whose_thread_is_elsewhere_then_its_ancestors_are_fetched_by_jobs(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.serve_note(1)
    peer.serve_note(2, inReplyTo=f"{peer.uri}/statuses/1")
    peer.serve_note(3, inReplyTo=f"{peer.uri}/statuses/2")

    # When only the last reply reaches alice...
    peer.send(roost, _create(peer, 4, inReplyTo=f"{peer.uri}/statuses/3"), drain=False)
    # (the inbox request only stored it: nothing was fetched for it yet)
    assert _notes_asked(peer) == []
    roost.drain_jobs()

    # ...then the three above it were fetched, once each, and the thread shows.
    reply = _home_post(alice, f"{peer.uri}/statuses/4")
    assert _context(alice, reply["id"]) == {
        "ancestors": [f"{peer.uri}/statuses/{n}" for n in (1, 2, 3)],
        "descendants": [],
    }
    assert sorted(_notes_asked(peer)) == [f"/users/mallory/statuses/{n}" for n in (1, 2, 3)]
    assert reply["in_reply_to_account_id"] is not None
    [root] = _search(alice, f"{peer.uri}/statuses/1")
    assert root["replies_count"] == 1
    assert _context(alice, root["id"])["descendants"] == [
        f"{peer.uri}/statuses/{n}" for n in (2, 3, 4)
    ]


@pytest.mark.settings(federation_allow_insecure=True, federation_thread_depth=2)
def test_given_a_long_thread_then_only_the_bounded_depth_is_fetched(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.serve_note(1)
    for n in (2, 3, 4):
        peer.serve_note(n, inReplyTo=f"{peer.uri}/statuses/{n - 1}")

    peer.send(roost, _create(peer, 5, inReplyTo=f"{peer.uri}/statuses/4"))

    reply = _home_post(alice, f"{peer.uri}/statuses/5")
    assert _context(alice, reply["id"])["ancestors"] == [f"{peer.uri}/statuses/{n}" for n in (3, 4)]
    assert sorted(_notes_asked(peer)) == ["/users/mallory/statuses/3", "/users/mallory/statuses/4"]


def test_given_a_thread_that_loops_then_each_post_is_fetched_once_and_the_loop_is_not_closed(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.serve_note(2, inReplyTo=f"{peer.uri}/statuses/3")
    peer.serve_note(3, inReplyTo=f"{peer.uri}/statuses/2")

    peer.send(roost, _create(peer, 4, inReplyTo=f"{peer.uri}/statuses/3"))

    reply = _home_post(alice, f"{peer.uri}/statuses/4")
    assert _context(alice, reply["id"])["ancestors"] == [f"{peer.uri}/statuses/3"]
    assert sorted(_notes_asked(peer)) == ["/users/mallory/statuses/2", "/users/mallory/statuses/3"]
    [three] = _search(alice, f"{peer.uri}/statuses/3")
    assert three["in_reply_to_id"] is None


def test_given_a_private_or_missing_ancestor_then_the_walk_stops_quietly(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.serve_note(1)
    peer.serve_note(2, inReplyTo=f"{peer.uri}/statuses/1", to=[f"{peer.uri}/followers"], cc=[])

    peer.send(roost, _create(peer, 3, inReplyTo=f"{peer.uri}/statuses/2"))
    peer.send(roost, _create(peer, 5, inReplyTo=f"{peer.uri}/statuses/404"))

    for n in (3, 5):
        reply = _home_post(alice, f"{peer.uri}/statuses/{n}")
        assert _context(alice, reply["id"])["ancestors"] == []
    # The followers-only one was fetched (its server chose to serve it) but
    # not kept, and nothing above it was asked.
    assert sorted(_notes_asked(peer)) == [
        "/users/mallory/statuses/2",
        "/users/mallory/statuses/404",
    ]
    assert _search(alice, f"{peer.uri}/statuses/2") == []


# Only the ancestors' fetches are counted: reading the context fetches no
# replies collection here (tests/federation/test_replies.py).
@pytest.mark.settings(federation_allow_insecure=True, federation_replies_limit=0)
def test_given_a_thread_on_a_server_that_is_down_then_it_costs_one_attempt_per_backoff(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    with serve() as dead:
        dead.fetch_answer = 503
        # mallory replies to posts of a third server, which is down.
        peer.send(roost, _create(peer, 3, inReplyTo=f"{dead.base}/users/zed/statuses/1"))
        assert dead.asked == ["/users/zed/statuses/1"]

        async def state() -> hosts.Gate:
            return await hosts.gate(roost.db, dead.domain)

        failing = roost.run(state)
        assert failing.failing and failing.wait_s > 0
        # While it backs off, another reply's parent is not asked for at
        # all, nor is a post looked up by its address.
        peer.send(roost, _create(peer, 4, inReplyTo=f"{dead.base}/users/zed/statuses/2"))
        assert _search(alice, f"{dead.base}/users/zed/statuses/2") == []
        assert dead.asked == ["/users/zed/statuses/1"]
    for n in (3, 4):
        reply = _home_post(alice, f"{peer.uri}/statuses/{n}")
        assert _context(alice, reply["id"])["ancestors"] == []


# Only the ancestors' fetches are counted: reading the context fetches no
# replies collection here (tests/federation/test_replies.py).
@pytest.mark.settings(federation_allow_insecure=True, federation_replies_limit=0)
def test_given_a_server_that_misses_one_fetch_then_the_ancestor_is_asked_for_again_later(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.serve_note(1)
    # The parent's server answers 503 for a moment (a restart, load)...
    peer.fetch_answer = 503
    peer.send(roost, _create(peer, 2, inReplyTo=f"{peer.uri}/statuses/1"))
    assert _notes_asked(peer) == ["/users/mallory/statuses/1"]
    reply = _home_post(alice, f"{peer.uri}/statuses/2")
    assert _context(alice, reply["id"])["ancestors"] == []

    # ...and answers again: the job left for later (3 s, past the server's
    # own first pause of 2 s) fetches the parent and the thread shows.
    peer.fetch_answer = None
    time.sleep(3.5)
    roost.drain_jobs()
    assert _notes_asked(peer) == ["/users/mallory/statuses/1"] * 2
    assert _context(alice, reply["id"])["ancestors"] == [f"{peer.uri}/statuses/1"]


@pytest.mark.settings(federation=False)
def test_given_federation_off_when_addresses_are_resolved_then_only_local_posts_are_found(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    public = alice.post_status("open to all", visibility="public")

    assert [p["id"] for p in _search(bob, public["url"])] == [public["id"]]
    assert _search(bob, "https://elsewhere.example/@mallory/1") == []
