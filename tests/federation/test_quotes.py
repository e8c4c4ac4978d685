"""Quote posts across servers, as Mastodon 4.5 writes them: a local quote's
Note names the quoted post (``quote``, ``quoteUri``, ``_misskey_quote``) and
every local Note its quote policy (``interactionPolicy.canQuote``); a
received quoting Note's quote is stored and shown per viewer, and a quote of
a local post its policy refuses shows nothing of it. The other server is the
one of tests/federation/peers.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Roost, User
from tests.federation.peers import AP, PUBLIC, Peer, serve
from tests.federation.test_received import _follow_mallory

pytestmark = pytest.mark.settings(federation_allow_insecure=True)

KEYS = ("quote", "quoteUri", "_misskey_quote")


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


def _note(roost: Roost, username: str, post: dict[str, Any]) -> dict[str, Any]:
    answer = roost.client.get(f"/users/{username}/statuses/{post['id']}", headers={"Accept": AP})
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def _quote(user: User, quoted: dict[str, Any], text: str = "look", **fields: Any) -> Any:
    return user.post_status(text, quoted_status_id=quoted["id"], **fields)


def _create(peer: Peer, n: int, **fields: Any) -> dict[str, Any]:
    note = {
        "id": f"{peer.uri}/statuses/{n}",
        "type": "Note",
        "attributedTo": peer.uri,
        "content": f"<p>note {n}</p>",
        "published": "2026-01-02T03:04:05Z",
        "to": [PUBLIC],
        "cc": [f"{peer.uri}/followers"],
        **fields,
    }
    return {"id": f"{note['id']}/activity", "type": "Create", "actor": peer.uri, "object": note}


def _shown(user: User, uri: str) -> dict[str, Any]:
    found = user.get("/api/v2/search", params={"q": uri, "resolve": "true"}).json()
    [post] = found["statuses"]
    return dict(post)


def test_given_a_local_quote_when_its_note_is_read_then_it_names_the_quoted_post(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    original = alice.post_status("an original thought", visibility="public")
    quoting = _quote(bob, original, "well said")

    note = _note(roost, "bob", quoting)
    # The quoted post by its id, under the three names servers read.
    assert all(note[key] == original["uri"] for key in KEYS)
    assert "quote" in note["@context"][1] and "canQuote" in note["@context"][1]
    # A post that quotes nothing names nothing.
    assert not any(key in _note(roost, "alice", original) for key in KEYS)

    # Once alice revokes the quote, the Note no longer names her post.
    revoked = alice.post(f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert not any(key in _note(roost, "bob", quoting) for key in KEYS)


def test_given_a_quote_of_a_followers_only_post_when_sent_then_it_names_nothing(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    follow = {"id": f"{peer.uri}#follows/1", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": alice_uri})
    hidden = alice.post_status("for my followers", visibility="private")
    # Only its author may quote a followers-only post (and only followers-only).
    quoting = _quote(alice, hidden, "quoting it", visibility="public")
    assert quoting["quote"]["state"] == "accepted" and quoting["visibility"] == "private"
    roost.drain_jobs()

    [note] = [c["object"] for c in peer.sent_of("Create") if c["object"]["id"] == quoting["uri"]]
    assert not any(key in note for key in KEYS)
    # A followers-only post may be quoted by nobody but its author.
    assert note["interactionPolicy"] == {"canQuote": {"automaticApproval": [alice_uri]}}


@pytest.mark.parametrize(
    ("visibility", "policy", "approved"),
    [
        ("public", "public", [PUBLIC]),
        ("unlisted", "followers", ["{me}/followers"]),
        ("public", "nobody", ["{me}"]),
    ],
)
def test_given_a_quote_policy_when_the_note_is_read_then_can_quote_says_it(
    roost: Roost, visibility: str, policy: str, approved: list[str]
) -> None:
    alice = roost.account("alice")
    post = alice.post_status("hi", visibility=visibility, quote_approval_policy=policy)
    me = f"{roost.settings.base_url}/users/alice"

    note = _note(roost, "alice", post)
    assert note["interactionPolicy"] == {
        "canQuote": {"automaticApproval": [a.format(me=me) for a in approved]}
    }


def test_given_a_quote_of_a_remote_post_when_published_then_its_author_gets_it(
    roost: Roost, peer: Peer
) -> None:
    bob = roost.account("bob")
    theirs = peer.serve_note(1, content="<p>pelicans</p>")
    found = _shown(bob, theirs["id"])
    quoting = _quote(bob, found, "indeed")
    roost.drain_jobs()

    # Nobody on mallory's server follows bob: the quote reaches her anyway.
    [create] = peer.sent_of("Create")
    assert create["object"]["id"] == quoting["uri"]
    assert all(create["object"][key] == theirs["id"] for key in KEYS)
    assert create["object"]["interactionPolicy"]["canQuote"]["automaticApproval"] == [PUBLIC]


def test_given_a_received_quote_of_a_local_post_then_it_shows_to_who_may_see_the_post(
    roost: Roost, peer: Peer
) -> None:
    alice, carol = roost.account("alice"), roost.account("carol")
    mallory = _follow_mallory(roost, peer, alice)
    original = alice.post_status("an original thought", visibility="public")
    assert alice.post(f"/api/v1/accounts/{carol.id}/block").status_code == 200

    peer.send(roost, _create(peer, 1, quote=original["uri"]))

    quoting = _shown(alice, f"{peer.uri}/statuses/1")
    assert quoting["account"]["id"] == mallory
    assert quoting["quote"]["state"] == "accepted"
    assert quoting["quote"]["quoted_status"]["id"] == original["id"]
    # alice hears of the quote, as of a local one.
    told = alice.get("/api/v1/notifications", params={"types[]": "quote"}).json()
    assert [n["status"]["id"] for n in told] == [quoting["id"]]
    # carol, whom alice blocks, sees the quoting post but nothing of alice's.
    as_carol = carol.get(f"/api/v1/statuses/{quoting['id']}").json()
    assert as_carol["quote"]["quoted_status"] is None
    assert as_carol["quote"]["state"] != "accepted"
    assert original["id"] not in str(as_carol)


def test_given_a_received_quote_of_a_remote_post_not_here_then_a_job_fetches_it(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    theirs = peer.serve_note(7, content="<p>older words</p>")

    # The older name Misskey and Fedibird read is enough.
    peer.send(roost, _create(peer, 8, _misskey_quote=theirs["id"]))

    quoting = _shown(alice, f"{peer.uri}/statuses/8")
    assert quoting["quote"]["state"] == "accepted"
    assert quoting["quote"]["quoted_status"]["uri"] == theirs["id"]
    assert quoting["quote"]["quoted_status"]["content"] == "<p>older words</p>"
    assert peer.asked.count("/users/mallory/statuses/7") == 1

    # A quoted post its server does not serve stays pending, showing nothing.
    peer.send(roost, _create(peer, 9, quote=f"{peer.uri}/statuses/404"))
    assert _shown(alice, f"{peer.uri}/statuses/9")["quote"] == {
        "state": "pending",
        "quoted_status": None,
    }


@pytest.mark.parametrize("policy", ["followers", "nobody"])
def test_given_a_local_post_whose_policy_refuses_the_quoter_then_the_quote_shows_nothing(
    roost: Roost, peer: Peer, policy: str
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)  # alice follows mallory, not the other way
    original = alice.post_status("mine", visibility="public", quote_approval_policy=policy)

    peer.send(roost, _create(peer, 1, quote=original["uri"], quoteUri=original["uri"]))

    quoting = _shown(alice, f"{peer.uri}/statuses/1")
    assert quoting["quote"] == {"state": "rejected", "quoted_status": None}
    assert alice.get("/api/v1/notifications", params={"types[]": "quote"}).json() == []
    assert alice.get(f"/api/v1/statuses/{original['id']}").json()["quotes_count"] == 0


def test_given_a_followers_policy_when_a_follower_of_another_server_quotes_then_it_is_accepted(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    peer.send(
        roost,
        {"id": f"{peer.uri}#follows/1", "type": "Follow", "actor": peer.uri, "object": alice_uri},
    )
    original = alice.post_status("mine", visibility="public", quote_approval_policy="followers")

    peer.send(roost, _create(peer, 1, quote=original["uri"]))

    quoting = _shown(alice, f"{peer.uri}/statuses/1")
    assert quoting["quote"]["state"] == "accepted"
    assert quoting["quote"]["quoted_status"]["id"] == original["id"]


def _quote_request(peer: Peer, n: int, quoted: dict[str, Any]) -> dict[str, Any]:
    note = _create(peer, n, quote=quoted["uri"])["object"]
    return {
        "id": f"{peer.uri}/quote_requests/{n}",
        "type": "QuoteRequest",
        "actor": peer.uri,
        "object": quoted["uri"],
        "instrument": note,
    }


def test_given_a_quote_request_the_policy_allows_then_it_is_accepted_with_a_stamp(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    original = alice.post_status("quote me", visibility="public")

    # The request carries the quoting Note, which nobody here follows.
    peer.send(roost, _quote_request(peer, 1, original))

    [accept] = peer.sent_of("Accept")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    assert accept["actor"] == alice_uri
    assert accept["object"]["id"] == f"{peer.uri}/quote_requests/1"
    stamp = roost.client.get(accept["result"], headers={"Accept": AP})
    assert stamp.status_code == 200, stamp.text
    assert {k: stamp.json()[k] for k in ("type", "attributedTo", "interactingObject")} == {
        "type": "QuoteAuthorization",
        "attributedTo": alice_uri,
        "interactingObject": f"{peer.uri}/statuses/1",
    }
    assert stamp.json()["interactionTarget"] == original["uri"]
    quoting = _shown(alice, f"{peer.uri}/statuses/1")
    assert quoting["quote"]["quoted_status"]["id"] == original["id"]

    # Revoked, the stamp is withdrawn.
    revoked = alice.post(f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert roost.client.get(accept["result"], headers={"Accept": AP}).status_code == 404


def test_given_a_quote_request_the_policy_refuses_then_it_is_rejected(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    original = alice.post_status("mine", visibility="public", quote_approval_policy="nobody")

    peer.send(roost, _quote_request(peer, 1, original))

    assert peer.sent_of("Accept") == []
    [reject] = peer.sent_of("Reject")
    assert reject["object"]["id"] == f"{peer.uri}/quote_requests/1"
    assert "result" not in reject
