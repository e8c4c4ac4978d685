"""Erasure and what other servers left: a block and a report another server
sent about the account go with it; that server's delivery state stays, as it
names the server and nothing of the account (roost/erasure/tables.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from roost.db.tables import blocks, federation_hosts, reports
from tests.conftest import Roost
from tests.federation.test_received import Peer, peer

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer"]  # the fixture, shared with test_received


def _rows(roost: Roost, table: Any) -> list[Any]:
    async def read() -> list[Any]:
        async with roost.db.read() as conn:
            return list((await conn.execute(select(table))).all())

    return roost.run(read)


def test_given_a_remote_block_and_flag_when_the_account_is_erased_then_only_the_host_state_stays(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    follow = {"id": f"{peer.uri}#follows/1", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": alice_uri})
    post = alice.post_status("a post reported elsewhere")
    roost.drain_jobs()
    peer.send(
        roost,
        {
            "id": f"{peer.base}/reports/1",
            "type": "Flag",
            "actor": peer.uri,
            "content": "about alice",
            "object": [alice_uri, post["uri"]],
        },
    )
    peer.send(
        roost,
        {"id": f"{peer.uri}#blocks/1", "type": "Block", "actor": peer.uri, "object": alice_uri},
    )
    assert len(_rows(roost, blocks)) == 1 and len(_rows(roost, reports)) == 1
    [host] = _rows(roost, federation_hosts)
    assert host.host == peer.domain and host.last_success_at is not None

    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    live = {k: v for k, v in erased.json()["scan"].items() if k != "backups"}
    assert all(not hits for hits in live.values()), live

    assert _rows(roost, blocks) == [] and _rows(roost, reports) == []
    [kept] = _rows(roost, federation_hosts)
    assert kept.host == peer.domain
