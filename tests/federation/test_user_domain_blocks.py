"""A user's domain block (``POST /api/v1/domain_blocks``) applied to the
accounts of that server, as on Mastodon: follows both ways and requests are
ended (with an Undo and a Reject sent there), its notifications cleared and
no new ones recorded, its posts left out of the blocker's public timelines and
its boosted posts off their home; a new Follow from there is refused. Posts
stay readable by link. Mallory's server is the plain HTTP server of
tests/federation/test_received.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Roost, User
from tests.federation.test_received import PUBLIC, Peer, _follow_mallory, _note, peer

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer"]  # the fixture, shared with test_received


def _public(user: User) -> list[str]:
    return [p["uri"] for p in user.get("/api/v1/timelines/public").json()]


def _home(user: User) -> list[tuple[str, Any]]:
    return [
        (p["uri"], (p["reblog"] or {}).get("uri"))
        for p in user.get("/api/v1/timelines/home").json()
    ]


def _relationship(user: User, other: str) -> dict[str, Any]:
    [found] = user.get("/api/v1/accounts/relationships", params={"id[]": [other]}).json()
    return dict(found)


def test_given_a_blocked_domain_then_its_accounts_are_cut_off_and_left_out_of_what_alice_reads(
    roost: Roost, peer: Peer
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    alice_uri = f"{roost.settings.base_url}/users/alice"
    mallory = _follow_mallory(roost, peer, alice)
    follow = {"id": f"{peer.uri}#follows/1", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": alice_uri})
    assert _relationship(alice, mallory)["followed_by"] is True
    peer.send(roost, _note(peer, 1, to=[PUBLIC], cc=[f"{peer.uri}/followers"]))
    note = f"{peer.uri}/statuses/1"
    alice.follow(carol)
    [shown] = [p for p in carol.get("/api/v1/timelines/public").json() if p["uri"] == note]
    boost = carol.post(f"/api/v1/statuses/{shown['id']}/reblog").json()
    post = alice.post_status("like me")
    like = {"id": f"{peer.uri}#likes/1", "type": "Like", "actor": peer.uri}
    peer.send(roost, {**like, "object": post["uri"]})
    roost.drain_jobs()
    assert note in _public(alice)
    assert (boost["uri"], note) in _home(alice)
    assert [n["type"] for n in alice.get("/api/v1/notifications").json()] == ["favourite", "follow"]

    blocked = alice.post("/api/v1/domain_blocks", json={"domain": peer.domain})
    assert blocked.status_code == 200, blocked.text
    roost.drain_jobs()

    assert alice.get("/api/v1/domain_blocks").json() == [peer.domain]
    cut = _relationship(alice, mallory)
    assert (cut["following"], cut["followed_by"], cut["requested"]) == (False, False, False)
    [undo] = peer.sent_of("Undo")
    assert undo["actor"] == alice_uri and undo["object"]["type"] == "Follow"
    [reject] = peer.sent_of("Reject")
    assert reject["object"]["id"] == follow["id"]
    assert alice.get("/api/v1/notifications").json() == []
    assert note not in _public(alice)
    assert note in _public(bob)  # only alice blocked the domain
    assert (boost["uri"], note) not in _home(alice)
    assert alice.get(f"/api/v1/statuses/{shown['id']}").status_code == 200  # not a block

    peer.send(roost, {**like, "id": f"{peer.uri}#likes/2", "object": alice.post_status("x")["uri"]})
    peer.send(roost, {**follow, "id": f"{peer.uri}#follows/2", "object": alice_uri})
    assert alice.get("/api/v1/notifications").json() == []
    assert _relationship(alice, mallory)["followed_by"] is False
    assert [r["object"]["id"] for r in peer.sent_of("Reject")][-1] == f"{peer.uri}#follows/2"

    assert alice.delete("/api/v1/domain_blocks", params={"domain": peer.domain}).json() == {}
    assert note in _public(alice)
    assert (boost["uri"], note) in _home(alice)


def test_given_ports_then_a_domain_block_keeps_them_and_refuses_bad_ones(roost: Roost) -> None:
    alice = roost.account("alice")
    assert alice.post("/api/v1/domain_blocks", json={"domain": "Lab.Example:8443"}).json() == {}
    assert alice.get("/api/v1/domain_blocks").json() == ["lab.example:8443"]
    for bad in ("lab.example:", "lab.example:0", "lab.example:70000", "lab.example:http"):
        assert alice.post("/api/v1/domain_blocks", json={"domain": bad}).status_code == 422
