"""Deletes across servers: a post's Delete reaches every server that got it,
an erased account's actor is deleted on every server that got anything from
it (signed with its key, which is then destroyed), and received activities
naming an erased account go with it.

mallory's server is the one of tests/federation/peers.py, which records
what it is sent with the headers, so the signatures can be checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.tables import (
    actor_farewells,
    inbox_activities,
    inbox_activity_accounts,
    jobs,
    status_deliveries,
    statuses,
)
from roost.domain.federation import hosts
from roost.domain.federation.named import usernames_named
from roost.keys import ring
from roost.net import signatures
from tests.conftest import Roost, User
from tests.federation.peers import AP, PUBLIC, Peer, serve
from tests.federation.test_received import _follow_mallory, _note

pytestmark = pytest.mark.settings(federation_allow_insecure=True)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    """Three more servers, each with its own mallory."""
    with serve() as x, serve() as y, serve() as z:
        yield [x, y, z]


def _followed_then_left(roost: Roost, peer: Peer, alice: User) -> dict[str, Any]:
    """mallory follows alice, alice posts (sent to mallory's server), mallory
    unfollows. The post, as the API showed it."""
    alice_uri = f"{roost.settings.base_url}/users/alice"
    follow = {"id": f"{peer.uri}#follows/1", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": alice_uri})
    post = alice.post_status("seen over there", visibility="public")
    roost.drain_jobs()
    [create] = peer.sent_of("Create")
    assert create["object"]["id"] == post["uri"]
    peer.send(
        roost,
        {
            "id": f"{peer.uri}#undo/1",
            "type": "Undo",
            "actor": peer.uri,
            "object": {**follow, "object": alice_uri},
        },
    )
    assert alice.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 0
    return post


def _rows(roost: Roost, query: Any) -> list[Any]:
    async def read() -> list[Any]:
        async with roost.db.read() as conn:
            return list((await conn.execute(query)).all())

    return roost.run(read)


def test_given_a_post_sent_to_mallorys_server_when_she_left_then_its_delete_still_goes_there(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    post = _followed_then_left(roost, peer, alice)
    assert _rows(roost, select(status_deliveries.c.inbox_url)) == [(f"{peer.base}/inbox",)]

    assert alice.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    roost.drain_jobs()

    [delete] = peer.sent_of("Delete")
    assert delete["object"] == {"id": post["uri"], "type": "Tombstone"}
    assert peer.headers[-1]["path"] == "/inbox"
    # Where it went goes with the post.
    assert _rows(roost, select(status_deliveries)) == []


def test_given_alice_federated_when_erased_then_her_actor_is_deleted_everywhere_it_went(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    _followed_then_left(roost, peer, alice)
    actor = roost.client.get("/users/alice", headers={"Accept": AP}).json()
    public_key = signatures.load_public_key(actor["publicKey"]["publicKeyPem"])

    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    live = {k: v for k, v in erased.json()["scan"].items() if k != "backups"}
    assert all(not hits for hits in live.values()), live
    assert "1 inbox(es)" in erased.json()["stores"]["other servers"]

    # Queued: the job names an inbox and the farewell, nothing of alice; the
    # farewell row holds her actor and key sealed under a key of its own.
    payloads = [r.payload for r in _rows(roost, select(jobs.c.payload))]
    farewells = [p for p in payloads if "farewell_id" in orjson.dumps(p).decode()]
    assert farewells and "alice" not in orjson.dumps(farewells).decode()
    [(farewell_id, sealed_actor)] = _rows(
        roost,
        select(actor_farewells.c.id, actor_farewells.c.actor_uri),
    )
    assert sealed_actor == alice_uri  # opens under the farewell's own key
    assert ring.key(farewell_id) is not None

    roost.drain_jobs()

    [delete] = peer.sent_of("Delete")
    assert delete["type"] == "Delete"
    assert delete["actor"] == alice_uri and delete["object"] == alice_uri
    at = peer.received.index(delete)
    headers = peer.headers[at]
    assert headers["path"] == "/inbox"
    parsed = signatures.parse_signature(headers["signature"])
    assert parsed.key_id == f"{alice_uri}#main-key"
    signatures.verify(public_key, parsed, "POST", "/inbox", headers)  # raises if not
    signatures.check_digest(headers, peer.bodies[at])
    # Sent: the key is destroyed, the row gone.
    assert _rows(roost, select(actor_farewells)) == []
    ring.evict(farewell_id)
    assert ring.key(farewell_id) is None


def test_given_activities_naming_alice_when_she_is_erased_then_they_are_gone(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    base = roost.settings.base_url
    peer.send(
        roost,
        {
            "id": f"{peer.uri}#follows/1",
            "type": "Follow",
            "actor": peer.uri,
            "object": f"{base}/users/alice",
        },
        path="/users/alice/inbox",
    )
    # To the shared inbox: one names alice in a Mention tag, one in its
    # content only, one names bob.
    for n, fields in enumerate(
        [
            {"tag": [{"type": "Mention", "href": f"{base}/users/ALICE"}]},
            {"content": f"<p>hi <a href='{base}/@alice'>@alice</a></p>"},
            {"tag": [{"type": "Mention", "href": f"{base}/users/bob"}]},
        ]
    ):
        note = {
            "id": f"{peer.uri}/statuses/{n}",
            "type": "Note",
            "attributedTo": peer.uri,
            "content": "<p>x</p>",
            "to": [PUBLIC],
            **fields,
        }
        peer.send(
            roost,
            {"id": f"{note['id']}/activity", "type": "Create", "actor": peer.uri, "object": note},
        )
    assert len(_rows(roost, select(inbox_activities.c.id))) == 4
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200

    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text

    # The one left is the note naming bob (its body may already be emptied,
    # once processed: docs/residency.md).
    [(left,)] = _rows(roost, select(inbox_activities.c.activity_uri))
    assert left == f"{peer.uri}/statuses/2/activity"
    [(bobs,)] = _rows(roost, select(inbox_activity_accounts.c.account_id))
    assert str(bobs) == bob.id


def test_given_escaped_or_cased_addresses_when_read_then_the_local_names_are_found() -> None:
    base = "https://roost.example"
    activity = orjson.loads(
        b'{"to": ["https:\\/\\/roost.example\\/users\\/Alice"],'
        b' "object": {"content": "hey @Carol@roost.example and @dave@elsewhere.example",'
        b' "inReplyTo": "https://ROOST.example/users/bob/statuses/1",'
        b' "cc": ["https://roost.example.evil/users/eve", "https://elsewhere/users/frank"]}}'
    )

    assert usernames_named(activity, base) == {"alice", "bob", "carol"}


def test_given_mallorys_posts_here_when_her_server_deletes_her_actor_then_they_are_deleted(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mallory_id = _follow_mallory(roost, peer, alice)
    for n in (1, 2):
        peer.send(roost, _note(peer, n, to=[PUBLIC]))
    mine = select(statuses.c.id).where(statuses.c.account_id == int(mallory_id))
    assert len(_rows(roost, mine)) == 2
    assert len(alice.get("/api/v1/timelines/home").json()) == 2

    peer.send(
        roost, {"id": f"{peer.uri}#delete", "type": "Delete", "actor": peer.uri, "object": peer.uri}
    )

    assert _rows(roost, mine) == []
    assert alice.get("/api/v1/timelines/home").json() == []
    assert alice.get(f"/api/v1/accounts/{mallory_id}").status_code == 404


def test_given_servers_reached_three_ways_when_alice_is_erased_then_each_is_told_once(
    roost: Roost, peers: list[Peer]
) -> None:
    x, y, z = peers
    alice = roost.account("alice")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    # X got a post, its follower then left and the post was deleted (so only
    # the record of what alice's account sent names X); mallory on Y follows
    # alice; alice asked to follow mallory on Z (never answered).
    gone = _followed_then_left(roost, x, alice)
    assert alice.delete(f"/api/v1/statuses/{gone['id']}").status_code == 200
    roost.drain_jobs()
    assert _rows(roost, select(status_deliveries)) == []
    y.send(
        roost,
        {"id": f"{y.uri}#follows/1", "type": "Follow", "actor": y.uri, "object": alice_uri},
    )
    found = alice.get("/api/v2/search", params={"q": f"@mallory@{z.domain}", "resolve": "true"})
    [mallory_z] = found.json()["accounts"]
    assert alice.post(f"/api/v1/accounts/{mallory_z['id']}/follow").status_code == 200
    roost.drain_jobs()
    assert z.sent_of("Follow")

    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    assert "3 inbox(es)" in erased.json()["stores"]["other servers"]
    roost.drain_jobs()

    for server in peers:
        [delete] = server.sent_of("Delete")[-1:]
        assert delete["object"] == alice_uri, server.base
        assert [d["object"] for d in server.sent_of("Delete")].count(alice_uri) == 1
    assert _rows(roost, select(actor_farewells)) == []


def test_given_mallorys_server_away_when_the_window_ends_then_the_farewell_key_is_destroyed(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _followed_then_left(roost, peer, alice)
    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    [(farewell_id,)] = _rows(roost, select(actor_farewells.c.id))

    # Her server answers 503: the Delete waits for a retry, the key is kept.
    peer.answer = 503
    roost.drain_jobs()
    assert len(peer.sent_of("Delete")) == 1
    assert _rows(roost, select(actor_farewells.c.id)) == [(farewell_id,)]

    # When the week is over (its end job comes due), the key and the row go.
    def due(kind: str) -> None:
        async def now() -> None:
            async with roost.db.write() as tx:
                await tx.execute(update(jobs).where(jobs.c.kind == kind).values(run_at=utcnow()))

        roost.run(now)

    due("federation.farewell.end")
    roost.drain_jobs()
    assert _rows(roost, select(actor_farewells)) == []
    ring.evict(farewell_id)
    assert ring.key(farewell_id) is None

    # Her server back, the delivery still waiting is dropped unsent.
    peer.answer = 202
    roost.run(lambda: hosts.succeeded(roost.db, peer.domain))  # seen alive
    due("federation.farewell")
    roost.drain_jobs()
    assert len(peer.sent_of("Delete")) == 1
    assert _rows(roost, select(jobs.c.id).where(jobs.c.kind.like("federation.farewell%"))) == []
