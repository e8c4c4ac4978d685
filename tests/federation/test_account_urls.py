"""Accounts found by their address with ``search?resolve=true``: another
server's actor by its id or by its profile page (which answers a web page
unless ActivityPub is asked for), stored as WebFinger's resolution stores
one; this server's accounts by their own addresses; and nothing of a server
suspended here, or of an account the searcher blocks. The other server is
tests/federation/peers.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from roost.domain.blocks.domains import BlockChange, do_block_domain
from tests.conftest import Roost, User
from tests.federation.peers import Peer, serve

pytestmark = pytest.mark.settings(federation_allow_insecure=True)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


def _search(user: User, q: str, **params: str) -> dict[str, Any]:
    answer = user.get("/api/v2/search", params={"q": q, "resolve": "true", **params})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _accts(user: User, q: str, **params: str) -> list[str]:
    return [a["acct"] for a in _search(user, q, **params)["accounts"]]


def test_given_an_actor_id_when_resolved_then_its_account_is_stored_and_found(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")

    # When alice searches mallory's actor id with resolve=true...
    found = _search(alice, peer.uri)
    # ...then it is her account, fetched as ActivityPub and stored.
    [mallory] = found["accounts"]
    assert mallory["acct"] == f"mallory@{peer.domain}"
    assert mallory["uri"] == peer.uri and mallory["url"] == f"{peer.base}/@mallory"
    assert found["statuses"] == []
    assert alice.get(f"/api/v1/accounts/{mallory['id']}").json()["acct"] == mallory["acct"]
    # Found again from the stored copy, without asking its server.
    asked = len(peer.asked)
    assert _accts(alice, peer.uri) == [mallory["acct"]]
    assert len(peer.asked) == asked
    # Without resolve, an address is only words.
    assert _accts(alice, f"{peer.base}/users/mallory2", resolve="false") == []
    assert "/users/mallory2" not in peer.asked


def test_given_a_profile_page_when_resolved_then_the_actor_it_names_is_found(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    # mallory's page answers HTML to a browser, her actor to ActivityPub
    # (under her actor's id, as Mastodon's profile pages do).
    peer.served["/@mallory"] = peer.document()
    peer.pages.add("/@mallory")

    assert _accts(alice, f"{peer.base}/@mallory") == [f"mallory@{peer.domain}"]
    # The page was asked for, then the actor by its own id (a document is
    # taken only from the address of its id).
    assert "/@mallory" in peer.asked and "/users/mallory" in peer.asked
    # A page that is not an actor (a post, a missing page) finds no account.
    peer.serve_note(1)
    assert _accts(alice, f"{peer.base}/@mallory/1") == []
    assert _accts(alice, f"{peer.base}/@nobody") == []


def test_given_local_accounts_when_their_addresses_are_resolved_then_they_are_found(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    roost.account("bob")
    base = roost.settings.base_url
    for address in (f"{base}/users/bob", f"{base}/@bob", f"{base}/@bob/"):
        assert _accts(alice, address) == ["bob"]
    assert _accts(alice, f"{base}/users/nobody") == []


def test_given_a_suspended_server_or_a_blocked_account_then_nothing_is_found(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    [mallory] = _search(bob, peer.uri)["accounts"]

    # An account the searcher blocks is not shown to them.
    assert alice.post(f"/api/v1/accounts/{mallory['id']}/block").status_code == 200
    assert _accts(alice, peer.uri) == []
    assert _accts(bob, peer.uri) == [mallory["acct"]]

    # A server staff suspend: its stored accounts are found by nobody, and
    # an account of it not stored yet is not asked for.
    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_block_domain(tx, "127.0.0.1", BlockChange(severity="suspend"))

    roost.run(suspend)
    asked = len(peer.asked)
    assert _accts(bob, peer.uri) == []
    assert _accts(bob, f"{peer.base}/users/mallory2") == []
    assert len(peer.asked) == asked
