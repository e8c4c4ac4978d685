"""Servers marked unavailable are probed, at doubling intervals, and one
that answers again is available at once, its deliveries still queued sent.
mallory's server is a real HTTP server of the test's own
(tests/federation/_peer_hosts.py), stopped and started again on its port."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.tables import federation_hosts, jobs
from roost.domain.blocks.domains import BlockChange, do_block_domain
from roost.domain.federation import hosts, probes, upkeep
from tests.conftest import Roost
from tests.federation._peer_hosts import PeerHost, peer_host

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer_host"]


def _followed_by_mallory(roost: Roost, peer: PeerHost) -> None:
    uri = f"{roost.settings.base_url}/users/alice"
    follow = {"id": f"{peer.uri}#follows/1", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": uri})
    assert len(peer.sent_of("Accept")) == 1


def _host(roost: Roost, peer: PeerHost) -> Any:
    async def read() -> Any:
        async with roost.db.read() as conn:
            h = federation_hosts.c
            return (await conn.execute(select(federation_hosts).where(h.host == peer.domain))).one()

    return roost.run(read)


def _change(roost: Roost, peer: PeerHost, **values: Any) -> None:
    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(federation_hosts)
                .where(federation_hosts.c.host == peer.domain)
                .values(**values)
            )

    roost.run(write)


def _queued_deliveries(roost: Roost) -> list[Any]:
    async def read() -> list[Any]:
        async with roost.db.read() as conn:
            rows = await conn.execute(
                select(jobs.c.run_at).where(
                    jobs.c.kind == "federation.deliver", jobs.c.state == "queued"
                )
            )
            return [r.run_at for r in rows]

    return roost.run(read)


def _deliveries_wait(roost: Roost, wait: timedelta) -> None:
    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(jobs)
                .where(jobs.c.kind == "federation.deliver", jobs.c.state == "queued")
                .values(run_at=utcnow() + wait)
            )

    roost.run(write)


def _probe(roost: Roost) -> int:
    return roost.run(lambda: probes.probe_due(roost.db, roost.settings))


def test_given_an_unavailable_server_when_it_comes_back_then_a_probe_finds_it_and_deliveries_go(
    roost: Roost, peer_host: PeerHost
) -> None:
    alice = roost.account("alice")
    _followed_by_mallory(roost, peer_host)
    # Its server goes away: what alice posts now waits, queued.
    peer_host.stop()
    alice.post_status("first, while it is away")
    roost.drain_jobs()
    alice.post_status("second, while it is away")
    roost.drain_jobs()
    assert len(_queued_deliveries(roost)) == 2
    # Days later it is marked unavailable; the two wait out its hour of backoff.
    _change(
        roost, peer_host, unavailable_at=utcnow(), first_failure_at=utcnow() - timedelta(days=8)
    )
    _deliveries_wait(roost, timedelta(hours=1))

    # Probed while it is still away: no answer, the next probe a minute on.
    assert _probe(roost) == 0
    row = _host(roost, peer_host)
    assert row.unavailable_at is not None and row.probes == 1
    assert timedelta(seconds=30) < row.next_probe_at - utcnow() <= timedelta(seconds=60)
    assert _probe(roost) == 0 and _host(roost, peer_host).probes == 1  # not due yet
    # Due again, still away: the wait doubles.
    _change(roost, peer_host, next_probe_at=utcnow() - timedelta(seconds=1))
    assert _probe(roost) == 0
    row = _host(roost, peer_host)
    assert row.probes == 2
    assert timedelta(seconds=90) < row.next_probe_at - utcnow() <= timedelta(seconds=120)
    assert peer_host.requests[-1:] != [("GET", "/.well-known/nodeinfo")]

    # It comes back on its address. The periodic upkeep's next probe finds it.
    peer_host.start()
    _change(roost, peer_host, next_probe_at=utcnow() - timedelta(seconds=1))
    roost.run(lambda: upkeep.ensure_upkeep(roost.db))
    roost.drain_jobs()
    assert ("GET", "/.well-known/nodeinfo") in peer_host.requests
    row = _host(roost, peer_host)
    assert row.unavailable_at is None and row.failures == 0
    assert row.probes == 0 and row.next_probe_at is None
    report = roost.run(lambda: _report(roost, peer_host))
    assert report.state is hosts.HostState.OK
    # Its held deliveries went at once, in the same drain.
    texts = [c["object"]["content"] for c in peer_host.sent_of("Create")]
    assert sorted(texts) == ["<p>first, while it is away</p>", "<p>second, while it is away</p>"]
    assert _queued_deliveries(roost) == []


async def _report(roost: Roost, peer: PeerHost) -> hosts.HostReport:
    async with roost.db.read() as conn:
        [found] = await hosts.host_states(conn, peer.domain)
        return found


def test_given_an_unavailable_server_suspended_then_it_is_not_probed(
    roost: Roost, peer_host: PeerHost
) -> None:
    roost.account("alice")
    _followed_by_mallory(roost, peer_host)
    _change(roost, peer_host, unavailable_at=utcnow(), failures=9)

    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_block_domain(tx, "127.0.0.1", BlockChange(severity="suspend"))

    roost.run(suspend)
    asked = len(peer_host.requests)
    assert _probe(roost) == 0
    assert len(peer_host.requests) == asked
    assert _host(roost, peer_host).unavailable_at is not None
