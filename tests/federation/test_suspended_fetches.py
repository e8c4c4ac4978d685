"""Signed reads by a server not federated with: a GET of an actor, a post
or a collection signed with a key of a server staff suspended here is
refused 403 (as Mastodon and GoToSocial refuse it), without its key being
asked for, where it used to be read as anonymous; the same read unsigned is
answered as before. In the allow-list mode, a read signed by a server not
allowed is refused 403 likewise. mallory's server is tests/federation/peers.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roost.clock import utcnow
from roost.domain.blocks.domains import BlockChange, do_allow_domain, do_block_domain
from roost.net import signatures
from tests.conftest import Roost
from tests.federation.peers import AP, Peer, serve

pytestmark = pytest.mark.settings(federation_allow_insecure=True)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


def _signed_get(roost: Roost, peer: Peer, path: str) -> int:
    url = roost.settings.base_url + path
    headers = signatures.signed_headers(peer.key, f"{peer.uri}#main-key", "GET", url, b"", utcnow())
    headers["Accept"] = AP
    return int(roost.client.get(path, headers=headers).status_code)


def _unsigned_get(roost: Roost, path: str) -> int:
    return int(roost.client.get(path, headers={"Accept": AP}).status_code)


def _suspend(roost: Roost, domain: str) -> None:
    async def block() -> None:
        async with roost.db.write() as tx:
            await do_block_domain(tx, domain, BlockChange(severity="suspend"))

    roost.run(block)


def _paths(roost: Roost) -> list[str]:
    alice = roost.account("alice")
    post = alice.post_status("open to all", visibility="public")
    roost.drain_jobs()
    return [
        "/users/alice",
        f"/users/alice/statuses/{post['id']}",
        f"/users/alice/statuses/{post['id']}/activity",
        "/users/alice/outbox",
        "/users/alice/outbox?page=true",
        "/users/alice/followers",
        "/users/alice/following",
        "/users/alice/collections/featured",
    ]


def test_given_a_suspended_server_when_it_fetches_signed_then_it_is_refused_403(
    roost: Roost, peer: Peer
) -> None:
    paths = _paths(roost)
    # Before the suspension its signed reads are answered (its key fetched).
    assert [_signed_get(roost, peer, p) for p in paths] == [200] * len(paths)

    # When staff suspend its server...
    _suspend(roost, "127.0.0.1")
    asked_before = list(peer.asked)
    # ...then every signed read is refused 403, and nothing is asked of it.
    assert [_signed_get(roost, peer, p) for p in paths] == [403] * len(paths)
    assert peer.asked == asked_before
    # Unsigned reads are answered as before, as anyone's.
    assert [_unsigned_get(roost, p) for p in paths] == [200] * len(paths)
    # The instance actor stays open: other servers check Roost's own key there.
    assert _signed_get(roost, peer, "/actor") == 200


def test_given_a_suspended_server_never_seen_when_it_fetches_signed_then_its_key_is_not_asked(
    roost: Roost, peer: Peer
) -> None:
    paths = _paths(roost)
    _suspend(roost, "127.0.0.1")
    assert _signed_get(roost, peer, paths[0]) == 403
    assert _signed_get(roost, peer, paths[1]) == 403
    assert peer.asked == []


@pytest.mark.settings(federation_allow_insecure=True, federation_mode="allowlist")
def test_given_the_allowlist_mode_when_a_server_not_allowed_fetches_signed_then_403(
    roost: Roost, peer: Peer
) -> None:
    paths = _paths(roost)
    # A server not allowed: refused 403 before its key is asked for.
    assert [_signed_get(roost, peer, p) for p in paths] == [403] * len(paths)
    assert peer.asked == []
    # Unsigned reads need a signature in this mode (401), as before.
    assert _unsigned_get(roost, paths[0]) == 401

    async def allow() -> None:
        async with roost.db.write() as tx:
            await do_allow_domain(tx, "127.0.0.1")

    roost.run(allow)
    # Once allowed, its signed reads are answered.
    assert [_signed_get(roost, peer, p) for p in paths] == [200] * len(paths)
