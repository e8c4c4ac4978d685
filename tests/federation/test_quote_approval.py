"""Quote approval across servers, as Mastodon 4.5 does it (FEP-044f): a local
quote of another server's post asks its author (QuoteRequest) and waits for
the Accept (with its QuoteAuthorization) or the Reject; a received quote
naming an authorization is shown once the authorization, fetched from the
quoted author's server, holds; revoking sends (and a received Delete of an
authorization makes) the quote revoked; a received edit of a Note's quote
changes the stored quote. The other server is the one of
tests/federation/peers.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Roost, User
from tests.federation.peers import AP, PUBLIC, Peer, serve
from tests.federation.test_quotes import _create, _quote, _quote_request, _shown
from tests.federation.test_received import _follow_mallory

pytestmark = pytest.mark.settings(federation_allow_insecure=True)

KEYS = ("quote", "quoteUri", "_misskey_quote")
_ANSWERS = itertools.count()


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


def _state(user: User, status: dict[str, Any]) -> dict[str, Any]:
    quote: dict[str, Any] = user.get(f"/api/v1/statuses/{status['id']}").json()["quote"]
    return quote


def _answer(peer: Peer, kind: str, request: Any, **fields: Any) -> dict[str, Any]:
    named = request["id"] if isinstance(request, dict) else request
    return {
        "id": f"{peer.uri}#{kind.lower()}s/{named.rsplit('/', 1)[-1]}/{next(_ANSWERS)}",
        "type": kind,
        "actor": peer.uri,
        "object": request,
        **fields,
    }


def _asked(roost: Roost, peer: Peer, bob: User, n: int, **fields: Any) -> tuple[Any, Any, Any]:
    """bob quotes mallory's note ``n``: his post, mallory's note, the request."""
    theirs = peer.serve_note(n, **fields)
    quoting = _quote(bob, _shown(bob, theirs["id"]), "indeed")
    roost.drain_jobs()
    [request] = [r for r in peer.sent_of("QuoteRequest") if r["instrument"]["id"] == quoting["uri"]]
    return quoting, theirs, request


def test_given_a_quote_of_a_post_of_another_server_when_its_author_accepts_then_it_is_accepted(
    roost: Roost, peer: Peer
) -> None:
    bob = roost.account("bob")
    quoting, theirs, request = _asked(roost, peer, bob, 1)

    # mallory is asked, with bob's Note; until she answers the quote waits.
    assert request["actor"] == f"{roost.settings.base_url}/users/bob"
    assert request["object"] == theirs["id"]
    assert all(request["instrument"][key] == theirs["id"] for key in KEYS)
    assert peer.headers[peer.received.index(request)]["path"] == "/users/mallory/inbox"
    assert quoting["quote"] == {"state": "pending", "quoted_status": None}
    assert _state(bob, quoting)["state"] == "pending"

    # An authorization on another server than hers is not taken.
    stranger = "http://127.0.0.9:9/quote_authorizations/1"
    peer.send(roost, _answer(peer, "Accept", request, result=stranger))
    assert _state(bob, quoting)["state"] == "pending"

    stamp = f"{peer.uri}/quote_authorizations/1"
    peer.send(roost, _answer(peer, "Accept", request, result=stamp))

    quote = _state(bob, quoting)
    assert quote["state"] == "accepted"
    assert quote["quoted_status"]["uri"] == theirs["id"]
    # The Note goes again, now naming the authorization.
    [update] = peer.sent_of("Update")
    assert update["object"]["id"] == quoting["uri"]
    assert update["object"]["quoteAuthorization"] == stamp
    assert update["object"]["quote"] == theirs["id"]
    note = roost.client.get(f"/users/bob/statuses/{quoting['id']}", headers={"Accept": AP}).json()
    assert note["quoteAuthorization"] == stamp


def test_given_a_quote_of_a_post_of_another_server_when_its_author_rejects_then_it_is_rejected(
    roost: Roost, peer: Peer
) -> None:
    bob = roost.account("bob")
    quoting, _, request = _asked(roost, peer, bob, 1)

    # Answered with the request's id only, as some servers do.
    peer.send(roost, _answer(peer, "Reject", request["id"]))

    assert _state(bob, quoting) == {"state": "rejected", "quoted_status": None}
    [update] = peer.sent_of("Update")
    assert update["object"]["id"] == quoting["uri"]
    assert not any(key in update["object"] for key in (*KEYS, "quoteAuthorization"))
    # Another account of her server cannot answer for her.
    again, _, asked = _asked(roost, peer, bob, 2)
    peer.key_of("mallory2")
    forged = {**_answer(peer, "Reject", asked), "actor": peer.actor_uri("mallory2")}
    peer.send(roost, forged, actor="mallory2")
    assert _state(bob, again)["state"] == "pending"


def test_given_a_post_anyone_may_quote_when_quoted_then_it_is_accepted_at_once_and_still_asked(
    roost: Roost, peer: Peer
) -> None:
    bob = roost.account("bob")
    anyone = {"canQuote": {"automaticApproval": [PUBLIC]}}
    quoting, theirs, request = _asked(roost, peer, bob, 1, interactionPolicy=anyone)

    assert _state(bob, quoting)["state"] == "accepted"
    assert request["object"] == theirs["id"]

    # A post only its author may quote cannot be quoted from here.
    mine = {"canQuote": {"automaticApproval": [peer.uri]}}
    closed = peer.serve_note(2, interactionPolicy=mine)
    found = _shown(bob, closed["id"])
    assert found["quote_approval"]["current_user"] == "denied"
    refused = bob.post("/api/v1/statuses", json={"status": "no", "quoted_status_id": found["id"]})
    assert refused.status_code == 403, refused.text


def _mallory2_note(peer: Peer, n: int) -> dict[str, Any]:
    """A public note of mallory2 (another account of mallory's server), served."""
    author = peer.actor_uri("mallory2")
    peer.key_of("mallory2")
    note = {
        "id": f"{author}/statuses/{n}",
        "type": "Note",
        "attributedTo": author,
        "content": f"<p>mallory2's note {n}</p>",
        "published": "2026-01-02T03:04:05Z",
        "to": [PUBLIC],
        "cc": [f"{author}/followers"],
    }
    peer.served[f"/users/mallory2/statuses/{n}"] = note
    return note


def _stamp(peer: Peer, n: int, quoting: str, target: str, **fields: Any) -> str:
    """Serve mallory2's authorization ``n`` of ``quoting`` quoting ``target``."""
    author = peer.actor_uri("mallory2")
    uri = f"{author}/quote_authorizations/{n}"
    peer.served[f"/users/mallory2/quote_authorizations/{n}"] = {
        "id": uri,
        "type": "QuoteAuthorization",
        "attributedTo": author,
        "interactingObject": quoting,
        "interactionTarget": target,
        **fields,
    }
    return uri


def test_given_a_received_quote_with_an_authorization_then_it_shows_once_the_stamp_holds(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    target = _mallory2_note(peer, 5)
    good = _stamp(peer, 1, f"{peer.uri}/statuses/8", target["id"])
    # One naming another quoting post, one not served, one of another server.
    wrong = _stamp(peer, 2, f"{peer.uri}/statuses/1", target["id"])
    missing = f"{peer.actor_uri('mallory2')}/quote_authorizations/404"
    foreign = "http://127.0.0.9:9/quote_authorizations/3"

    peer.send(roost, _create(peer, 8, quote=target["id"], quoteAuthorization=good))
    peer.send(roost, _create(peer, 9, quote=target["id"], quoteAuthorization=wrong))
    peer.send(roost, _create(peer, 10, quote=target["id"], quoteAuthorization=missing))
    peer.send(roost, _create(peer, 11, quote=target["id"], quoteAuthorization=foreign))

    shown = _shown(alice, f"{peer.uri}/statuses/8")
    assert shown["quote"]["state"] == "accepted"
    assert shown["quote"]["quoted_status"]["uri"] == target["id"]
    assert "/users/mallory2/quote_authorizations/1" in peer.asked
    for n in (9, 10, 11):
        quote = _shown(alice, f"{peer.uri}/statuses/{n}")["quote"]
        assert quote == {"state": "rejected", "quoted_status": None}, n
    assert not any("127.0.0.9" in path for path in peer.asked)


def test_given_a_received_quote_whose_stamp_cannot_be_had_now_then_it_stays_pending(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    target = _mallory2_note(peer, 5)
    _shown(alice, target["id"])  # the quoted post is here
    good = _stamp(peer, 1, f"{peer.uri}/statuses/8", target["id"])
    peer.fetch_answer = 503  # her server is down behind its proxy

    peer.send(roost, _create(peer, 8, quote=target["id"], quoteAuthorization=good))

    assert _shown(alice, f"{peer.uri}/statuses/8")["quote"] == {
        "state": "pending",
        "quoted_status": None,
    }


def test_given_a_quote_of_a_local_post_by_another_server_when_revoked_then_the_stamp_is_deleted(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    original = alice.post_status("quote me", visibility="public")
    peer.send(roost, _quote_request(peer, 1, original))
    [accept] = peer.sent_of("Accept")
    quoting = _shown(alice, f"{peer.uri}/statuses/1")

    revoked = alice.post(f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    roost.drain_jobs()

    [delete] = peer.sent_of("Delete")
    assert delete["actor"] == f"{roost.settings.base_url}/users/alice"
    assert delete["object"]["id"] == accept["result"]
    assert delete["object"]["type"] == "QuoteAuthorization"
    assert delete["object"]["interactingObject"] == f"{peer.uri}/statuses/1"
    assert revoked.json()["quote"]["state"] == "revoked"


def test_given_an_accepted_quote_when_its_stamp_is_deleted_then_the_quote_is_revoked(
    roost: Roost, peer: Peer
) -> None:
    bob = roost.account("bob")
    _follow_mallory(roost, peer, bob)
    quoting, _, request = _asked(roost, peer, bob, 1)
    stamp = f"{peer.uri}/quote_authorizations/1"
    peer.send(roost, _answer(peer, "Accept", request, result=stamp))
    # And a quote made on her server under an authorization of mallory2's.
    target = _mallory2_note(peer, 5)
    other = _stamp(peer, 2, f"{peer.uri}/statuses/8", target["id"])
    peer.send(roost, _create(peer, 8, quote=target["id"], quoteAuthorization=other))
    assert _shown(bob, f"{peer.uri}/statuses/8")["quote"]["state"] == "accepted"

    # mallory cannot withdraw what mallory2 gave.
    peer.send(
        roost, {"id": f"{other}#forged", "type": "Delete", "actor": peer.uri, "object": other}
    )
    assert _shown(bob, f"{peer.uri}/statuses/8")["quote"]["state"] == "accepted"
    peer.send(
        roost,
        {
            "id": f"{other}#delete",
            "type": "Delete",
            "actor": peer.actor_uri("mallory2"),
            "object": {"id": other, "type": "QuoteAuthorization"},
        },
        actor="mallory2",
    )
    assert _shown(bob, f"{peer.uri}/statuses/8")["quote"]["state"] == "revoked"

    peer.send(
        roost, {"id": f"{stamp}#delete", "type": "Delete", "actor": peer.uri, "object": stamp}
    )
    assert _state(bob, quoting) == {"state": "revoked", "quoted_status": None}
    # bob's Note names her post no more.
    last = peer.sent_of("Update")[-1]
    assert last["object"]["id"] == quoting["uri"]
    assert not any(key in last["object"] for key in (*KEYS, "quoteAuthorization"))


def test_given_a_received_quote_when_an_update_changes_or_drops_it_then_the_quote_follows(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    first = alice.post_status("first", visibility="public")
    second = alice.post_status("second", visibility="public")
    peer.send(roost, _create(peer, 1, quote=first["uri"]))
    assert _shown(alice, f"{peer.uri}/statuses/1")["quote"]["quoted_status"]["id"] == first["id"]

    edited = _create(peer, 1, quote=second["uri"], updated="2026-01-03T00:00:00Z")
    peer.send(roost, {**edited, "type": "Update", "id": f"{peer.uri}/statuses/1#updates/1"})
    quote = _shown(alice, f"{peer.uri}/statuses/1")["quote"]
    assert quote["state"] == "accepted"
    assert quote["quoted_status"]["id"] == second["id"]
    assert alice.get(f"/api/v1/statuses/{first['id']}").json()["quotes_count"] == 0

    dropped = _create(peer, 1, updated="2026-01-04T00:00:00Z")
    peer.send(roost, {**dropped, "type": "Update", "id": f"{peer.uri}/statuses/1#updates/2"})
    assert _shown(alice, f"{peer.uri}/statuses/1")["quote"] is None
    assert alice.get(f"/api/v1/statuses/{second['id']}").json()["quotes_count"] == 0
