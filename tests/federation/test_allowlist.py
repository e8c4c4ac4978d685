"""The allow-list mode (ROOST_FEDERATION_MODE=allowlist, Mastodon's limited
federation mode): only the servers staff allow are federated with. A
delivery from another is refused before anything is stored or its key
fetched, nothing is sent to it, nothing fetched from it (search's resolve
included), and unsigned reads of actors need a signature. mallory's server
is a real HTTP server of the test's own (tests/federation/_peer_hosts.py)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from roost.clock import utcnow
from roost.db.tables import inbox_activities
from roost.domain.blocks.domains import do_allow_domain, do_disallow_domain
from roost.net import signatures
from tests.conftest import Roost
from tests.federation._peer_hosts import PeerHost, peer_host
from tests.federation.peers import AP

pytestmark = pytest.mark.settings(federation_allow_insecure=True, federation_mode="allowlist")
__all__ = ["peer_host"]


def _deliver(roost: Roost, peer: PeerHost, activity: dict[str, Any]) -> int:
    body = orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams", **activity})
    url = roost.settings.base_url + "/inbox"
    headers = signatures.signed_headers(
        peer.key, f"{peer.uri}#main-key", "POST", url, body, utcnow()
    )
    headers["Content-Type"] = AP
    status = roost.client.post("/inbox", content=body, headers=headers).status_code
    roost.drain_jobs()
    return int(status)


def _stored(roost: Roost) -> int:
    async def count() -> int:
        async with roost.db.read() as conn:
            found = await conn.execute(select(func.count()).select_from(inbox_activities))
            return int(found.scalar_one())

    return roost.run(count)


def _allow(roost: Roost, domain: str) -> int:
    async def allow() -> int:
        async with roost.db.write() as tx:
            return (await do_allow_domain(tx, domain)).id

    return roost.run(allow)


def _disallow(roost: Roost, allow_id: int) -> None:
    async def disallow() -> None:
        async with roost.db.write() as tx:
            await do_disallow_domain(tx, allow_id)

    roost.run(disallow)


def _follow(roost: Roost, peer: PeerHost, name: str) -> dict[str, Any]:
    uri = f"{roost.settings.base_url}/users/{name}"
    return {"id": f"{peer.uri}#follows/{name}", "type": "Follow", "actor": peer.uri, "object": uri}


def test_given_a_server_not_allowed_then_nothing_of_it_is_taken_fetched_or_resolved(
    roost: Roost, peer_host: PeerHost
) -> None:
    alice = roost.account("alice")
    # Its delivery: refused before anything is stored, its key never asked for.
    assert _deliver(roost, peer_host, _follow(roost, peer_host, "alice")) == 403
    assert _stored(roost) == 0
    assert peer_host.requests == []
    # Resolving one of its accounts asks it nothing and finds nobody.
    found = alice.get(
        "/api/v2/search", params={"q": f"@mallory@{peer_host.domain}", "resolve": "true"}
    ).json()
    assert found["accounts"] == []
    assert peer_host.requests == []
    # Reads of actors need a signature in this mode (Mastodon's too).
    unsigned = roost.client.get("/users/alice", headers={"Accept": AP})
    assert unsigned.status_code == 401
    assert alice.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 0


def test_given_a_server_allowed_then_it_federates_until_the_allow_is_removed(
    roost: Roost, peer_host: PeerHost
) -> None:
    alice = roost.account("alice")
    allow_id = _allow(roost, "127.0.0.1")
    assert _deliver(roost, peer_host, _follow(roost, peer_host, "alice")) == 202
    assert alice.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 1
    [accept] = peer_host.sent_of("Accept")
    assert accept["object"]["id"] == f"{peer_host.uri}#follows/alice"
    alice.post_status("while allowed")
    roost.drain_jobs()
    assert [c["object"]["content"] for c in peer_host.sent_of("Create")] == ["<p>while allowed</p>"]

    # Staff take it off the list: nothing more goes to it, nothing is taken.
    _disallow(roost, allow_id)
    sent_before = len(peer_host.received)
    alice.post_status("after the allow is gone")
    roost.drain_jobs()
    assert len(peer_host.received) == sent_before
    gets_before = len(peer_host.requests)
    assert _deliver(roost, peer_host, _follow(roost, peer_host, "bob")) == 403
    assert len(peer_host.requests) == gets_before


@pytest.mark.settings(federation_allow_insecure=True)
def test_given_the_open_mode_then_a_server_not_allowed_still_federates(
    roost: Roost, peer_host: PeerHost
) -> None:
    roost.account("alice")
    assert _deliver(roost, peer_host, _follow(roost, peer_host, "alice")) == 202
    assert peer_host.sent_of("Accept")
    assert roost.client.get("/users/alice", headers={"Accept": AP}).status_code == 200
