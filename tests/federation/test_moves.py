"""Account moves across servers (roost/domain/federation/moves.py), against the
server of tests/federation/peers.py serving two actors, mallory (the old
account) and mallory2 (the new one), and recording what it is sent.

In: a Move whose target names its origin in ``alsoKnownAs`` makes the local
followers follow the new account (a Follow is sent) and leave the old one,
except one who blocks the new account; one who follows it already just
leaves the old one; the old account shows ``moved``; the same Move again
changes nothing more. A Move whose target does not name its origin is
refused and changes nothing.

Out: a local account moves to mallory2 once she names it: the signed Move
reaches her server, the local followers follow her, the old account shows
``moved`` and ``movedTo`` and posts no more, but still signs in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from roost.db.tables import inbox_activities
from tests.conftest import Roost, User
from tests.federation.peers import Peer, serve

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
AP = "application/activity+json"
PASSWORD = "correct horse battery"


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as server:
        server.key_of("mallory2")  # her server serves mallory2 too
        yield server


def _resolve(user: User, acct: str) -> dict[str, Any]:
    found = user.get("/api/v2/search", params={"q": f"@{acct}", "resolve": "true"}).json()
    [account] = found["accounts"]
    return dict(account)


def _follow(roost: Roost, peer: Peer, user: User, name: str) -> str:
    """``user`` follows ``name`` on the peer, who accepts; its local id."""
    remote = _resolve(user, f"{name}@{peer.domain}")
    assert user.post(f"/api/v1/accounts/{remote['id']}/follow").status_code == 200
    roost.drain_jobs()
    follow = next(
        f
        for f in reversed(peer.sent_of("Follow"))
        if f["actor"].endswith(f"/users/{user.username}") and f["object"] == peer.actor_uri(name)
    )
    accept = {
        "id": f"{peer.actor_uri(name)}#accepts/{user.username}",
        "type": "Accept",
        "actor": peer.actor_uri(name),
        "object": follow,
    }
    peer.send(roost, accept, actor=name)
    return str(remote["id"])


def _relationship(user: User, account_id: str) -> dict[str, Any]:
    [rel] = user.get("/api/v1/accounts/relationships", params={"id": account_id}).json()
    return dict(rel)


def _move(peer: Peer, n: int = 1) -> dict[str, Any]:
    return {
        "id": f"{peer.actor_uri('mallory')}#moves/{n}",
        "type": "Move",
        "actor": peer.actor_uri("mallory"),
        "object": peer.actor_uri("mallory"),
        "target": peer.actor_uri("mallory2"),
    }


def _states(roost: Roost) -> list[str]:
    async def read() -> list[str]:
        async with roost.db.read() as conn:
            rows = await conn.execute(
                select(inbox_activities.c.activity_type, inbox_activities.c.state).where(
                    inbox_activities.c.activity_type == "Move"
                )
            )
            return [str(r.state) for r in rows]

    return roost.run(read)


def test_given_followers_of_mallory_when_she_moves_to_mallory2_then_they_follow_mallory2(
    roost: Roost, peer: Peer
) -> None:
    alice, carol, dave = (roost.account(n) for n in ("alice", "carol", "dave"))
    mallory = _follow(roost, peer, alice, "mallory")
    _follow(roost, peer, carol, "mallory")
    _follow(roost, peer, dave, "mallory")
    mallory2 = _follow(roost, peer, dave, "mallory2")  # dave follows both already
    assert carol.post(f"/api/v1/accounts/{mallory2}/block").status_code == 200
    peer.aliases["mallory2"] = [peer.actor_uri("mallory")]
    follows_before = len(peer.sent_of("Follow"))

    peer.send(roost, _move(peer), actor="mallory")

    assert _states(roost) == ["handled"]
    # alice asked to follow mallory2 (a Follow went) and left mallory (Undo).
    assert _relationship(alice, mallory2)["requested"] is True
    assert _relationship(alice, mallory)["following"] is False
    [new_follow] = peer.sent_of("Follow")[follows_before:]
    assert new_follow["actor"].endswith("/users/alice")
    assert new_follow["object"] == peer.actor_uri("mallory2")
    undone = [u["object"]["actor"] for u in peer.sent_of("Undo")]
    assert sorted(a.rsplit("/", 1)[-1] for a in undone) == ["alice", "dave"]
    # carol blocks mallory2: she keeps following mallory.
    assert _relationship(carol, mallory)["following"] is True
    assert _relationship(carol, mallory2)["requested"] is False
    # dave followed mallory2 already: he only left mallory.
    assert _relationship(dave, mallory2)["following"] is True
    assert _relationship(dave, mallory)["following"] is False
    shown = alice.get(f"/api/v1/accounts/{mallory}").json()
    assert shown["moved"]["id"] == mallory2
    assert shown["moved"]["acct"] == f"mallory2@{peer.domain}"
    looked_up = alice.get("/api/v1/accounts/lookup", params={"acct": f"mallory@{peer.domain}"})
    assert looked_up.json()["moved"]["id"] == mallory2
    assert "moved" not in alice.get(f"/api/v1/accounts/{mallory2}").json()

    # The same Move again (another id) sends nothing more and changes nothing.
    sent = len(peer.received)
    peer.send(roost, _move(peer, 2), actor="mallory")
    assert len(peer.received) == sent
    assert _relationship(carol, mallory)["following"] is True
    assert alice.get(f"/api/v1/accounts/{mallory}").json()["moved"]["id"] == mallory2


def test_given_mallory2_does_not_name_mallory_when_mallory_moves_then_nothing_changes(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mallory = _follow(roost, peer, alice, "mallory")
    sent = len(peer.received)

    peer.send(roost, _move(peer), actor="mallory")

    assert _states(roost) == ["failed"]
    assert _relationship(alice, mallory)["following"] is True
    assert "moved" not in alice.get(f"/api/v1/accounts/{mallory}").json()
    assert len(peer.received) == sent
    # A Move whose object is not its actor is not acted on either.
    peer.aliases["mallory2"] = [peer.actor_uri("mallory")]
    forged = {**_move(peer, 3), "object": f"{roost.settings.base_url}/users/alice"}
    peer.send(roost, forged, actor="mallory")
    assert _relationship(alice, mallory)["following"] is True
    assert "moved" not in alice.get(f"/api/v1/accounts/{mallory}").json()


def test_given_alice_followed_here_and_there_when_she_moves_to_mallory2_then_all_are_told(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    alice_uri = f"{roost.settings.base_url}/users/alice"
    # mallory (on the peer) follows alice too.
    peer.send(
        roost,
        {
            "id": f"{peer.actor_uri('mallory')}#follows/9",
            "type": "Follow",
            "actor": peer.actor_uri("mallory"),
            "object": alice_uri,
        },
        actor="mallory",
    )
    move = {"acct": f"mallory2@{peer.domain}", "password": PASSWORD}

    # Not before mallory2 names alice; nor without the password.
    refused = alice.post("/api/v1/roost/account/move", json=move)
    assert refused.status_code == 422, refused.text
    assert "alsoKnownAs" in refused.json()["error"]
    peer.aliases["mallory2"] = [alice_uri]
    assert alice.post("/api/v1/roost/account/move", json={**move, "password": ""}).status_code == (
        422
    )
    wrong = alice.post("/api/v1/roost/account/move", json={**move, "password": "not it at all"})
    assert wrong.status_code in (401, 403, 422), wrong.text
    assert "moved" not in alice.get("/api/v1/accounts/verify_credentials").json()

    moved = alice.post("/api/v1/roost/account/move", json=move)
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved_to"]["uri"] == peer.actor_uri("mallory2")
    roost.drain_jobs()

    [sent] = peer.sent_of("Move")
    assert sent["actor"] == alice_uri and sent["object"] == alice_uri
    assert sent["target"] == peer.actor_uri("mallory2")
    mallory2 = moved.json()["moved_to"]["id"]
    assert _relationship(bob, mallory2)["requested"] is True
    assert _relationship(bob, alice.id)["following"] is False
    me = alice.get("/api/v1/accounts/verify_credentials")
    assert me.status_code == 200  # still signs in
    assert me.json()["moved"]["id"] == mallory2
    assert bob.get(f"/api/v1/accounts/{alice.id}").json()["moved"]["id"] == mallory2
    document = roost.client.get("/users/alice", headers={"Accept": AP}).json()
    assert document["movedTo"] == peer.actor_uri("mallory2")
    # It posts no more.
    post = alice.post("/api/v1/statuses", json={"status": "still here?"})
    assert post.status_code == 422, post.text


def test_given_actor_documents_then_also_known_as_reads_ids_however_they_are_written() -> None:
    from roost.domain.federation.moves import also_known_as

    old = "https://old.example/users/a"
    assert also_known_as({"alsoKnownAs": old}) == [old]
    assert also_known_as({"alsoKnownAs": [old, {"id": "https://b.example/u/b"}, 3]}) == [
        old,
        "https://b.example/u/b",
    ]
    assert also_known_as({}) == []
    assert also_known_as({"alsoKnownAs": {"name": "no id"}}) == []
