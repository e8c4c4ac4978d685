"""A Delete of an actor its server erased, whose actor and key addresses
then answer 410 Gone: taken with the key cached here; and, when no key is
cached here, taken once the actor's own address answers 410 (its server
says it is gone), so its copy here goes instead of the Delete being refused
at every retry. A Delete of an actor whose server still serves it, signed
by any other key, is refused and changes nothing. mallory's server is a
real HTTP server of the test's own (tests/federation/_peer_hosts.py)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import delete, func, select

from roost.clock import utcnow
from roost.db.tables import inbox_activities, remote_actor_keys, statuses
from roost.net import signatures
from tests.conftest import Roost, User
from tests.federation._peer_hosts import PeerHost, peer_host
from tests.federation.peers import AP, PUBLIC
from tests.federation.test_received import _follow_mallory, _note

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer_host"]


def _deliver(
    roost: Roost, peer: PeerHost, activity: dict[str, Any], key: rsa.RSAPrivateKey | None = None
) -> int:
    body = orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams", **activity})
    url = roost.settings.base_url + "/inbox"
    headers = signatures.signed_headers(
        key or peer.key, f"{peer.uri}#main-key", "POST", url, body, utcnow()
    )
    headers["Content-Type"] = AP
    status = roost.client.post("/inbox", content=body, headers=headers).status_code
    roost.drain_jobs()
    return int(status)


def _delete_of_mallory(peer: PeerHost) -> dict[str, Any]:
    return {"id": f"{peer.uri}#delete", "type": "Delete", "actor": peer.uri, "object": peer.uri}


def _count(roost: Roost, table: Any) -> int:
    async def read() -> int:
        async with roost.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    return roost.run(read)


def _forget_keys(roost: Roost) -> None:
    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.execute(delete(remote_actor_keys))

    roost.run(write)


def _mallory_posted(roost: Roost, peer: PeerHost, alice: User) -> str:
    mallory_id = _follow_mallory(roost, peer, alice)
    peer.send(roost, _note(peer, 1, to=[PUBLIC]))
    assert any("note 1" in p["content"] for p in alice.get("/api/v1/timelines/home").json())
    return mallory_id


def _gone_here(roost: Roost, alice: User, mallory_id: str) -> bool:
    home = alice.get("/api/v1/timelines/home").json()
    shown = alice.get(f"/api/v1/accounts/{mallory_id}")
    return (
        not any("note 1" in p["content"] for p in home)
        and shown.status_code == 404
        and _count(roost, statuses) == 0
    )


def test_given_her_key_cached_when_her_erased_actors_delete_comes_then_it_is_taken(
    roost: Roost, peer_host: PeerHost
) -> None:
    alice = roost.account("alice")
    mallory_id = _mallory_posted(roost, peer_host, alice)
    assert _count(roost, remote_actor_keys) == 1
    # Her server erases her: her actor (and so her key) answers 410 Gone.
    peer_host.statuses["/users/mallory"] = 410
    asked = peer_host.gets("/users/mallory")

    assert _deliver(roost, peer_host, _delete_of_mallory(peer_host)) == 202
    assert peer_host.gets("/users/mallory") == asked  # verified with the cached key
    assert _gone_here(roost, alice, mallory_id)


def test_given_no_key_cached_when_her_erased_actors_delete_comes_then_her_copy_goes(
    roost: Roost, peer_host: PeerHost
) -> None:
    alice = roost.account("alice")
    mallory_id = _mallory_posted(roost, peer_host, alice)
    _forget_keys(roost)
    stored = _count(roost, inbox_activities)
    peer_host.statuses["/users/mallory"] = 410

    # Before, this answered 401 at every retry and her copy stayed.
    assert _deliver(roost, peer_host, _delete_of_mallory(peer_host)) == 202
    assert peer_host.gets("/users/mallory") >= 1  # asked of her server
    assert _gone_here(roost, alice, mallory_id)
    assert _count(roost, inbox_activities) == stored  # nothing of the request kept


def test_given_her_server_still_serves_her_then_a_delete_signed_by_another_key_is_refused(
    roost: Roost, peer_host: PeerHost
) -> None:
    alice = roost.account("alice")
    mallory_id = _mallory_posted(roost, peer_host, alice)
    forged = signatures.generate_private_key()
    assert _deliver(roost, peer_host, _delete_of_mallory(peer_host), key=forged) == 401
    _forget_keys(roost)
    assert _deliver(roost, peer_host, _delete_of_mallory(peer_host), key=forged) == 401
    assert alice.get(f"/api/v1/accounts/{mallory_id}").status_code == 200
    assert _count(roost, statuses) == 1

    # Gone, no key cached, but the Delete names another actor than the key's:
    # refused too.
    _forget_keys(roost)
    peer_host.statuses["/users/mallory"] = 410
    other = {**_delete_of_mallory(peer_host), "object": f"{peer_host.base}/users/eve"}
    assert _deliver(roost, peer_host, other) == 401
    assert alice.get(f"/api/v1/accounts/{mallory_id}").status_code == 200
