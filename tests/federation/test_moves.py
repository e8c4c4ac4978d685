"""Account moves across servers (roost/domain/federation/moves.py), against a
plain HTTP server of the test's own that serves two actors, mallory (the old
account) and mallory2 (the new one), and records what it is sent.

In: a Move whose target names its origin in ``alsoKnownAs`` makes the local
followers follow the new account (a Follow is sent) and leave the old one,
except one who blocks the new account; one who follows it already just
leaves the old one; the old account shows ``moved``; the same Move again
changes nothing more. A Move whose target does not name its origin is
refused and changes nothing.

Out: a local account moves to mallory2 once she names it: the signed Move
reaches her server, the local followers follow her, the old account shows
``moved`` and ``movedTo`` and posts no more, but still signs in.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from roost.clock import utcnow
from roost.db.tables import inbox_activities
from roost.net import signatures
from tests.conftest import Roost, User

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
AP = "application/activity+json"
PASSWORD = "correct horse battery"


@dataclass
class Peer:
    """Another server with mallory and mallory2, and what it was sent."""

    base: str = ""
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.base.removeprefix("http://")

    def uri(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    def document(self, name: str) -> dict[str, Any]:
        key = self.keys.setdefault(name, signatures.generate_private_key())
        me = self.uri(name)
        document: dict[str, Any] = {
            "id": me,
            "type": "Person",
            "preferredUsername": name,
            "name": name,
            "url": f"{self.base}/@{name}",
            "inbox": f"{me}/inbox",
            "followers": f"{me}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": f"{me}#main-key",
                "owner": me,
                "publicKeyPem": signatures.public_pem(key),
            },
        }
        if self.aliases.get(name):
            document["alsoKnownAs"] = self.aliases[name]
        return document

    def send(self, roost: Roost, name: str, activity: dict[str, Any]) -> None:
        self.document(name)
        body = orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams", **activity})
        url = roost.settings.base_url + "/inbox"
        headers = signatures.signed_headers(
            self.keys[name], f"{self.uri(name)}#main-key", "POST", url, body, utcnow()
        )
        headers["Content-Type"] = AP
        answer = roost.client.post("/inbox", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        roost.drain_jobs()

    def sent_of(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.received if a.get("type") == kind]


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", AP)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):
                self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/.well-known/webfinger":
                resource = parse_qs(parts.query).get("resource", [""])[0]
                name = resource.removeprefix("acct:").split("@")[0]
                finger = {"links": [{"rel": "self", "type": AP, "href": server.uri(name)}]}
                self._answer(200, orjson.dumps(finger))
            elif parts.path in ("/users/mallory", "/users/mallory2"):
                self._answer(200, orjson.dumps(server.document(parts.path.split("/")[-1])))
            else:
                self._answer(404, b"{}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            assert "Signature" in self.headers
            server.received.append(orjson.loads(body))
            self._answer(202, b"")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def _resolve(user: User, acct: str) -> dict[str, Any]:
    found = user.get("/api/v2/search", params={"q": f"@{acct}", "resolve": "true"}).json()
    [account] = found["accounts"]
    return dict(account)


def _follow(roost: Roost, peer: Peer, user: User, name: str) -> str:
    """``user`` follows ``name`` on the peer, who accepts; its local id."""
    remote = _resolve(user, f"{name}@{peer.domain}")
    assert user.post(f"/api/v1/accounts/{remote['id']}/follow").status_code == 200
    roost.drain_jobs()
    follow = next(
        f
        for f in reversed(peer.sent_of("Follow"))
        if f["actor"].endswith(f"/users/{user.username}") and f["object"] == peer.uri(name)
    )
    accept = {
        "id": f"{peer.uri(name)}#accepts/{user.username}",
        "type": "Accept",
        "actor": peer.uri(name),
        "object": follow,
    }
    peer.send(roost, name, accept)
    return str(remote["id"])


def _relationship(user: User, account_id: str) -> dict[str, Any]:
    [rel] = user.get("/api/v1/accounts/relationships", params={"id": account_id}).json()
    return dict(rel)


def _move(peer: Peer, n: int = 1) -> dict[str, Any]:
    return {
        "id": f"{peer.uri('mallory')}#moves/{n}",
        "type": "Move",
        "actor": peer.uri("mallory"),
        "object": peer.uri("mallory"),
        "target": peer.uri("mallory2"),
    }


def _states(roost: Roost) -> list[str]:
    async def read() -> list[str]:
        async with roost.db.read() as conn:
            rows = await conn.execute(
                select(inbox_activities.c.activity_type, inbox_activities.c.state).where(
                    inbox_activities.c.activity_type == "Move"
                )
            )
            return [str(r.state) for r in rows]

    return roost.run(read)


def test_given_followers_of_mallory_when_she_moves_to_mallory2_then_they_follow_mallory2(
    roost: Roost, peer: Peer
) -> None:
    alice, carol, dave = (roost.account(n) for n in ("alice", "carol", "dave"))
    mallory = _follow(roost, peer, alice, "mallory")
    _follow(roost, peer, carol, "mallory")
    _follow(roost, peer, dave, "mallory")
    mallory2 = _follow(roost, peer, dave, "mallory2")  # dave follows both already
    assert carol.post(f"/api/v1/accounts/{mallory2}/block").status_code == 200
    peer.aliases["mallory2"] = [peer.uri("mallory")]
    follows_before = len(peer.sent_of("Follow"))

    peer.send(roost, "mallory", _move(peer))

    assert _states(roost) == ["handled"]
    # alice asked to follow mallory2 (a Follow went) and left mallory (Undo).
    assert _relationship(alice, mallory2)["requested"] is True
    assert _relationship(alice, mallory)["following"] is False
    [new_follow] = peer.sent_of("Follow")[follows_before:]
    assert new_follow["actor"].endswith("/users/alice")
    assert new_follow["object"] == peer.uri("mallory2")
    undone = [u["object"]["actor"] for u in peer.sent_of("Undo")]
    assert sorted(a.rsplit("/", 1)[-1] for a in undone) == ["alice", "dave"]
    # carol blocks mallory2: she keeps following mallory.
    assert _relationship(carol, mallory)["following"] is True
    assert _relationship(carol, mallory2)["requested"] is False
    # dave followed mallory2 already: he only left mallory.
    assert _relationship(dave, mallory2)["following"] is True
    assert _relationship(dave, mallory)["following"] is False
    shown = alice.get(f"/api/v1/accounts/{mallory}").json()
    assert shown["moved"]["id"] == mallory2
    assert shown["moved"]["acct"] == f"mallory2@{peer.domain}"
    looked_up = alice.get("/api/v1/accounts/lookup", params={"acct": f"mallory@{peer.domain}"})
    assert looked_up.json()["moved"]["id"] == mallory2
    assert "moved" not in alice.get(f"/api/v1/accounts/{mallory2}").json()

    # The same Move again (another id) sends nothing more and changes nothing.
    sent = len(peer.received)
    peer.send(roost, "mallory", _move(peer, 2))
    assert len(peer.received) == sent
    assert _relationship(carol, mallory)["following"] is True
    assert alice.get(f"/api/v1/accounts/{mallory}").json()["moved"]["id"] == mallory2


def test_given_mallory2_does_not_name_mallory_when_mallory_moves_then_nothing_changes(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mallory = _follow(roost, peer, alice, "mallory")
    sent = len(peer.received)

    peer.send(roost, "mallory", _move(peer))

    assert _states(roost) == ["failed"]
    assert _relationship(alice, mallory)["following"] is True
    assert "moved" not in alice.get(f"/api/v1/accounts/{mallory}").json()
    assert len(peer.received) == sent
    # A Move whose object is not its actor is not acted on either.
    peer.aliases["mallory2"] = [peer.uri("mallory")]
    forged = {**_move(peer, 3), "object": f"{roost.settings.base_url}/users/alice"}
    peer.send(roost, "mallory", forged)
    assert _relationship(alice, mallory)["following"] is True
    assert "moved" not in alice.get(f"/api/v1/accounts/{mallory}").json()


def test_given_alice_followed_here_and_there_when_she_moves_to_mallory2_then_all_are_told(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    alice_uri = f"{roost.settings.base_url}/users/alice"
    # mallory (on the peer) follows alice too.
    peer.send(
        roost,
        "mallory",
        {
            "id": f"{peer.uri('mallory')}#follows/9",
            "type": "Follow",
            "actor": peer.uri("mallory"),
            "object": alice_uri,
        },
    )
    move = {"acct": f"mallory2@{peer.domain}", "password": PASSWORD}

    # Not before mallory2 names alice; nor without the password.
    refused = alice.post("/api/v1/roost/account/move", json=move)
    assert refused.status_code == 422, refused.text
    assert "alsoKnownAs" in refused.json()["error"]
    peer.aliases["mallory2"] = [alice_uri]
    assert alice.post("/api/v1/roost/account/move", json={**move, "password": ""}).status_code == (
        422
    )
    wrong = alice.post("/api/v1/roost/account/move", json={**move, "password": "not it at all"})
    assert wrong.status_code in (401, 403, 422), wrong.text
    assert "moved" not in alice.get("/api/v1/accounts/verify_credentials").json()

    moved = alice.post("/api/v1/roost/account/move", json=move)
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved_to"]["uri"] == peer.uri("mallory2")
    roost.drain_jobs()

    [sent] = peer.sent_of("Move")
    assert sent["actor"] == alice_uri and sent["object"] == alice_uri
    assert sent["target"] == peer.uri("mallory2")
    mallory2 = moved.json()["moved_to"]["id"]
    assert _relationship(bob, mallory2)["requested"] is True
    assert _relationship(bob, alice.id)["following"] is False
    me = alice.get("/api/v1/accounts/verify_credentials")
    assert me.status_code == 200  # still signs in
    assert me.json()["moved"]["id"] == mallory2
    assert bob.get(f"/api/v1/accounts/{alice.id}").json()["moved"]["id"] == mallory2
    document = roost.client.get("/users/alice", headers={"Accept": AP}).json()
    assert document["movedTo"] == peer.uri("mallory2")
    # It posts no more.
    post = alice.post("/api/v1/statuses", json={"status": "still here?"})
    assert post.status_code == 422, post.text


def test_given_actor_documents_then_also_known_as_reads_ids_however_they_are_written() -> None:
    from roost.domain.federation.moves import also_known_as

    old = "https://old.example/users/a"
    assert also_known_as({"alsoKnownAs": old}) == [old]
    assert also_known_as({"alsoKnownAs": [old, {"id": "https://b.example/u/b"}, 3]}) == [
        old,
        "https://b.example/u/b",
    ]
    assert also_known_as({}) == []
    assert also_known_as({"alsoKnownAs": {"name": "no id"}}) == []
