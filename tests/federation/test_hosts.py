"""Each other server's delivery state, kept in the database for every worker:
a server that fails is backed off (its next deliveries wait, unsent), one
failing for days is unavailable (its deliveries dropped and counted), and a
success or an activity it sends clears it. mallory's server is a plain HTTP
server of the test's own, which records each delivery and answers what the
test says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.tables import federation_hosts, jobs
from roost.domain.federation import hosts
from tests.conftest import Roost
from tests.federation.test_received import PUBLIC, Peer, _note, peer

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer"]  # the fixture, shared with test_received


def _mallory_follows(roost: Roost, peer: Peer, name: str) -> None:
    uri = f"{roost.settings.base_url}/users/{name}"
    follow = {"id": f"{peer.uri}#follows/{name}", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": uri})


def _state(roost: Roost, peer: Peer) -> hosts.HostReport:
    async def read() -> hosts.HostReport:
        async with roost.db.read() as conn:
            [found] = await hosts.host_states(conn, peer.domain)
            return found

    return roost.run(read)


def _change(roost: Roost, peer: Peer, **values: Any) -> None:
    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(federation_hosts)
                .where(federation_hosts.c.host == peer.domain)
                .values(**values)
            )

    roost.run(write)


def _deliveries_due_now(roost: Roost) -> None:
    """Time passes: the queued deliveries are due."""

    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(jobs)
                .where(jobs.c.kind == "federation.deliver", jobs.c.state == "queued")
                .values(run_at=utcnow())
            )

    roost.run(write)


def _delivery_states(roost: Roost) -> list[str]:
    async def read() -> list[str]:
        async with roost.db.read() as conn:
            rows = await conn.execute(
                select(jobs.c.state).where(jobs.c.kind == "federation.deliver")
            )
            return sorted(str(r.state) for r in rows)

    return roost.run(read)


def test_given_a_failing_server_when_more_is_sent_then_it_waits_in_the_shared_state_untried(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _mallory_follows(roost, peer, "alice")
    assert len(peer.sent_of("Accept")) == 1
    ok = _state(roost, peer)
    assert ok.state is hosts.HostState.OK and ok.last_success_at is not None

    peer.answer = 503
    alice.post_status("first, refused")
    roost.drain_jobs()
    tried = len(peer.received)
    failing = _state(roost, peer)
    assert failing.state is hosts.HostState.BACKING_OFF
    assert failing.failures == 1 and failing.first_failure_at is not None
    assert failing.next_attempt_at is not None and failing.next_attempt_at > utcnow()

    # Another delivery to it waits its turn without a connection attempt.
    alice.post_status("second, waits")
    roost.drain_jobs()
    assert len(peer.received) == tried
    assert _state(roost, peer).queued == 2
    assert _delivery_states(roost) == ["queued", "queued"]

    # Its server is back: once due, both go, and the state is clear.
    peer.answer = 202
    _change(roost, peer, next_attempt_at=utcnow() - timedelta(seconds=1))
    _deliveries_due_now(roost)
    roost.drain_jobs()
    texts = [c["object"]["content"] for c in peer.sent_of("Create")]
    assert sum("second" in t for t in texts) == 1
    cleared = _state(roost, peer)
    assert cleared.state is hosts.HostState.OK and cleared.failures == 0
    assert cleared.queued == 0 and cleared.first_failure_at is None


def test_given_a_server_failing_for_days_then_it_is_unavailable_until_it_sends_something(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _mallory_follows(roost, peer, "alice")
    peer.answer = 503
    alice.post_status("refused")
    roost.drain_jobs()
    # Eight days of failures later (the limit is seven, as Mastodon's):
    long_ago = utcnow() - timedelta(days=8)
    _change(roost, peer, first_failure_at=long_ago, next_attempt_at=long_ago)
    _deliveries_due_now(roost)
    tried = len(peer.received)
    roost.drain_jobs()

    # One more attempt fails: the server is unavailable, the delivery dropped.
    assert len(peer.received) == tried + 1
    down = _state(roost, peer)
    assert down.state is hosts.HostState.UNAVAILABLE
    assert down.unavailable_at is not None and down.dropped == 1
    assert _delivery_states(roost) == []

    # Later posts are dropped without an attempt, and counted.
    alice.post_status("dropped, untried")
    alice.post_status("dropped too")
    roost.drain_jobs()
    assert len(peer.received) == tried + 1
    assert _state(roost, peer).dropped == 3
    assert _delivery_states(roost) == []

    # Its server posts an activity: it is alive, and deliveries go again.
    peer.answer = 202
    peer.send(roost, _note(peer, 1, to=[PUBLIC]))
    assert _state(roost, peer).state is hosts.HostState.OK
    alice.post_status("after its return")
    roost.drain_jobs()
    assert "after its return" in peer.sent_of("Create")[-1]["object"]["content"]


@pytest.mark.settings(federation_allow_insecure=True, federation_unavailable_after_days=1)
def test_given_a_shorter_limit_when_a_server_fails_past_it_then_that_limit_holds(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _mallory_follows(roost, peer, "alice")
    peer.answer = 500
    alice.post_status("refused")
    roost.drain_jobs()
    two_days = utcnow() - timedelta(days=2)
    _change(roost, peer, first_failure_at=two_days, next_attempt_at=two_days)
    _deliveries_due_now(roost)
    roost.drain_jobs()
    assert _state(roost, peer).state is hosts.HostState.UNAVAILABLE
