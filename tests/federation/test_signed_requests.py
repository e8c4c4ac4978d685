"""Signatures other servers make, and what they are read as: a delivery
signed with RFC 9421 (HTTP Message Signatures: RSA as Mastodon signs it,
Ed25519 with a Multikey of the actor) is taken like a draft-cavage one, and
one missing a required part, stale or signed by another key is refused 401
with nothing stored; a signed fetch reads as its actor, so a follower on
another server reads a followers-only post (and sees it in the outbox), and
anyone else gets 404, through the privacy policy; Roost's own fetch of an
actor is signed by its instance actor. The other server is a plain HTTP
server of the test's own, serving several actors and recording the fetches."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import func, select

from roost.clock import utcnow
from roost.db.tables import inbox_activities
from roost.net import message_signatures as ms
from roost.net import signatures
from tests.conftest import Roost

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
AP = "application/activity+json"


@dataclass
class Actor:
    """An actor of the other server: RSA (``publicKey``) or, besides it, an
    Ed25519 Multikey (``assertionMethod``)."""

    server: Server
    name: str
    key: rsa.RSAPrivateKey = field(default_factory=signatures.generate_private_key)
    ed_key: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    @property
    def uri(self) -> str:
        return f"{self.server.base}/users/{self.name}"

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    @property
    def ed_key_id(self) -> str:
        return f"{self.uri}#ed25519-key"

    def document(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.name,
            "inbox": f"{self.uri}/inbox",
            "followers": f"{self.uri}/followers",
            "endpoints": {"sharedInbox": f"{self.server.base}/inbox"},
            "publicKey": {
                "id": self.key_id,
                "owner": self.uri,
                "publicKeyPem": signatures.public_pem(self.key),
            },
            "assertionMethod": [
                {
                    "id": self.ed_key_id,
                    "type": "Multikey",
                    "controller": self.uri,
                    "publicKeyMultibase": ms.ed25519_multibase(self.ed_key.public_key()),
                }
            ],
        }

    def rfc9421(
        self,
        roost: Roost,
        method: str,
        path: str,
        body: bytes | None,
        *,
        components: tuple[str, ...] | None = None,
        params: dict[str, Any] | None = None,
        ed25519_key: bool = False,
        signed_path: str | None = None,
    ) -> dict[str, str]:
        """Headers signing the request with RFC 9421, as Mastodon would:
        ``@method``, ``@target-uri`` and ``content-digest`` with a body."""
        base = urlsplit(roost.settings.base_url)
        headers = {"Host": base.netloc}
        if body is not None:
            headers["Content-Type"] = AP
            headers["Content-Digest"] = ms.content_digest(body)
        if components is None:
            components = ("@method", "@target-uri") + (("content-digest",) if body else ())
        chosen: dict[str, Any] = {
            "created": int(utcnow().timestamp()),
            "keyid": self.ed_key_id if ed25519_key else self.key_id,
        }
        chosen.update(params or {})
        request = ms.Request(method, base.scheme, base.netloc, signed_path or path, headers)
        key: ms.PrivateKey = self.ed_key if ed25519_key else self.key
        pairs = tuple((k, v) for k, v in chosen.items() if v is not None)
        return {**headers, **ms.sign(key, request, components, pairs)}

    def cavage(self, roost: Roost, method: str, path: str, body: bytes) -> dict[str, str]:
        url = roost.settings.base_url + path
        return signatures.signed_headers(self.key, self.key_id, method, url, body, utcnow())


@dataclass
class Server:
    base: str = ""
    actors: dict[str, Actor] = field(default_factory=dict)
    fetches: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def actor(self, name: str) -> Actor:
        self.actors[name] = Actor(self, name)
        return self.actors[name]


@pytest.fixture
def server() -> Iterator[Server]:
    other = Server()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", AP)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):
                self.wfile.write(body)

        def do_GET(self) -> None:
            other.fetches.append((self.path, dict(self.headers.items())))
            name = self.path.removeprefix("/users/")
            if self.path.startswith("/users/") and name in other.actors:
                self._answer(200, orjson.dumps(other.actors[name].document()))
            else:
                self._answer(404, b"{}")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self._answer(202, b"")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    other.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield other
    finally:
        httpd.shutdown()
        httpd.server_close()


def _follow(actor: Actor, roost: Roost, whom: str, n: int = 1) -> bytes:
    return orjson.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor.uri}#follows/{n}",
            "type": "Follow",
            "actor": actor.uri,
            "object": f"{roost.settings.base_url}/users/{whom}",
        }
    )


def _stored(roost: Roost) -> int:
    async def count() -> int:
        async with roost.db.read() as conn:
            query = select(func.count()).select_from(inbox_activities)
            return int((await conn.execute(query)).scalar_one())

    return roost.run(count)


def _instance_key(roost: Roost) -> rsa.RSAPublicKey:
    document = roost.client.get("/actor", headers={"Accept": AP}).json()
    return signatures.load_public_key(document["publicKey"]["publicKeyPem"])


def test_given_rfc9421_signed_follows_when_posted_then_they_are_taken_and_acted_on(
    roost: Roost, server: Server
) -> None:
    roost.account("alice")
    mallory, edna = server.actor("mallory"), server.actor("edna")
    path = "/users/alice/inbox"
    # RSA, the algorithm left to the key (rsa-v1_5-sha256), as Mastodon signs.
    body = _follow(mallory, roost, "alice")
    answer = roost.client.post(
        path, content=body, headers=mallory.rfc9421(roost, "POST", path, body)
    )
    assert answer.status_code == 202, answer.text
    # Ed25519, its key an assertionMethod Multikey of the actor (FEP-521a),
    # at the shared inbox, covering the target as @authority, @path.
    body = _follow(edna, roost, "alice")
    headers = edna.rfc9421(
        roost,
        "POST",
        "/inbox",
        body,
        components=("@method", "@authority", "@path", "content-digest"),
        params={"alg": "ed25519"},
        ed25519_key=True,
    )
    answer = roost.client.post("/inbox", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    assert _stored(roost) == 2
    # mallory's key rotated: the cached one fails, the one fetched again holds.
    mallory.key = signatures.generate_private_key()
    body = _follow(mallory, roost, "alice", 2)
    answer = roost.client.post(
        path, content=body, headers=mallory.rfc9421(roost, "POST", path, body)
    )
    assert answer.status_code == 202, answer.text
    assert _stored(roost) == 3
    roost.drain_jobs()
    followers = roost.client.get("/api/v1/accounts/lookup", params={"acct": "alice"}).json()
    assert followers["followers_count"] == 2

    # The actors were fetched by Roost signed by its instance actor
    # (draft-cavage), so that a server in secure mode answers.
    actor_fetches = [headers for path, headers in server.fetches if path == "/users/mallory"]
    assert actor_fetches
    instance = _instance_key(roost)
    for fetched in actor_fetches:
        parsed = signatures.parse_signature(fetched["Signature"])
        assert parsed.key_id == f"{roost.settings.base_url}/actor#main-key"
        signatures.verify(instance, parsed, "GET", "/users/mallory", fetched)


def test_given_rfc9421_deliveries_missing_a_required_part_when_posted_then_401_nothing_stored(
    roost: Roost, server: Server
) -> None:
    roost.account("alice")
    mallory = server.actor("mallory")
    path = "/users/alice/inbox"
    body = _follow(mallory, roost, "alice")
    good = mallory.rfc9421(roost, "POST", path, body)
    assert good["Signature-Input"].startswith('sig1=("@method" "@target-uri" "content-digest")')
    old = int((utcnow() - timedelta(hours=14)).timestamp())
    tampered = body.replace(b"Follow", b"Block")
    other = Actor(server, "mallory")  # the same key id, another key
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "no content-digest covered": (
            body,
            mallory.rfc9421(roost, "POST", path, body, components=("@method", "@target-uri")),
        ),
        "no @method covered": (
            body,
            mallory.rfc9421(
                roost, "POST", path, body, components=("@target-uri", "content-digest")
            ),
        ),
        "no target covered": (
            body,
            mallory.rfc9421(roost, "POST", path, body, components=("@method", "content-digest")),
        ),
        "@authority without @path": (
            body,
            mallory.rfc9421(
                roost, "POST", path, body, components=("@method", "@authority", "content-digest")
            ),
        ),
        "body changed": (tampered, good),
        "body and digest changed": (
            tampered,
            {**good, "Content-Digest": ms.content_digest(tampered)},
        ),
        "signed for another inbox": (
            body,
            mallory.rfc9421(roost, "POST", path, body, signed_path="/inbox"),
        ),
        "stale": (body, mallory.rfc9421(roost, "POST", path, body, params={"created": old})),
        "no created": (body, mallory.rfc9421(roost, "POST", path, body, params={"created": None})),
        "expired": (
            body,
            mallory.rfc9421(roost, "POST", path, body, params={"expires": old + 60}),
        ),
        "no keyid": (body, mallory.rfc9421(roost, "POST", path, body, params={"keyid": None})),
        "another key": (body, other.rfc9421(roost, "POST", path, body)),
        "rsa key named ed25519": (
            body,
            mallory.rfc9421(roost, "POST", path, body, params={"alg": "ed25519"}),
        ),
        "hmac": (
            body,
            mallory.rfc9421(roost, "POST", path, body, params={"alg": "hmac-sha256"}),
        ),
        "two signatures": (
            body,
            {
                **good,
                "Signature-Input": good["Signature-Input"]
                + ", "
                + good["Signature-Input"].replace("sig1=", "sig2=", 1),
                "Signature": good["Signature"]
                + ", "
                + good["Signature"].replace("sig1=", "sig2=", 1),
            },
        ),
        "no signature field": (
            body,
            {k: v for k, v in good.items() if k != "Signature"},
        ),
    }
    for case, (content, headers) in cases.items():
        answer = roost.client.post(path, content=content, headers=headers)
        assert answer.status_code == 401, (case, answer.text)
    assert _stored(roost) == 0
    # The same, well signed, is taken.
    assert roost.client.post(path, content=body, headers=good).status_code == 202
    assert _stored(roost) == 1


def test_given_a_followers_only_post_when_fetched_signed_then_only_a_follower_reads_it(
    roost: Roost, server: Server
) -> None:
    alice = roost.account("alice")
    roost.account("bob")
    mallory, eve = server.actor("mallory"), server.actor("eve")
    # mallory follows alice; eve is known here too, but follows only bob.
    for actor, whom in ((mallory, "alice"), (eve, "bob")):
        body = _follow(actor, roost, whom)
        posted = roost.client.post(
            f"/users/{whom}/inbox",
            content=body,
            headers=actor.cavage(roost, "POST", f"/users/{whom}/inbox", body),
        )
        assert posted.status_code == 202
    roost.drain_jobs()
    private = alice.post_status("for my followers", visibility="private")
    path = f"/users/alice/statuses/{private['id']}"
    accept = {"Accept": AP}

    as_mallory = roost.client.get(
        path, headers={**accept, **mallory.cavage(roost, "GET", path, b"")}
    )
    assert as_mallory.status_code == 200, as_mallory.text
    assert as_mallory.json()["content"] == "<p>for my followers</p>"
    assert as_mallory.json()["to"] == [f"{roost.settings.base_url}/users/alice/followers"]
    as_mallory_9421 = roost.client.get(
        path, headers={**accept, **mallory.rfc9421(roost, "GET", path, None)}
    )
    assert as_mallory_9421.status_code == 200
    as_mallory_ed = roost.client.get(
        path, headers={**accept, **mallory.rfc9421(roost, "GET", path, None, ed25519_key=True)}
    )
    assert as_mallory_ed.status_code == 200
    activity = roost.client.get(
        path + "/activity",
        headers={**accept, **mallory.cavage(roost, "GET", path + "/activity", b"")},
    )
    assert activity.status_code == 200 and activity.json()["type"] == "Create"

    refused = {
        "eve": roost.client.get(path, headers={**accept, **eve.cavage(roost, "GET", path, b"")}),
        "eve, RFC 9421": roost.client.get(
            path, headers={**accept, **eve.rfc9421(roost, "GET", path, None)}
        ),
        "unsigned": roost.client.get(path, headers=accept),
        "a stranger's key": roost.client.get(
            path, headers={**accept, **Actor(server, "mallory").cavage(roost, "GET", path, b"")}
        ),
    }
    for case, answer in refused.items():
        assert answer.status_code == 404, case

    # The outbox shows it to mallory only.
    outbox = "/users/alice/outbox?page=true"

    def items(headers: dict[str, str]) -> list[str]:
        page = roost.client.get(outbox, headers={**accept, **headers}).json()
        return [item["object"]["id"] for item in page["orderedItems"]]

    note_id = f"{roost.settings.base_url}{path}"
    assert note_id in items(mallory.cavage(roost, "GET", outbox, b""))
    assert note_id not in items(eve.cavage(roost, "GET", outbox, b""))
    assert note_id not in items({})

    # Once alice blocks mallory, the policy hides it from her as well.
    account = alice.get(
        "/api/v1/accounts/lookup", params={"acct": f"mallory@{urlsplit(server.base).netloc}"}
    ).json()
    assert alice.post(f"/api/v1/accounts/{account['id']}/block").status_code == 200
    blocked = roost.client.get(path, headers={**accept, **mallory.cavage(roost, "GET", path, b"")})
    assert blocked.status_code == 404


@pytest.mark.settings(federation_allow_insecure=True, authorized_fetch=True)
def test_given_authorized_fetch_when_read_with_an_rfc9421_signature_then_answered(
    roost: Roost, server: Server
) -> None:
    roost.account("alice")
    mallory = server.actor("mallory")
    accept = {"Accept": AP}
    signed = mallory.rfc9421(roost, "GET", "/users/alice", None)
    answer = roost.client.get("/users/alice", headers={**accept, **signed})
    assert answer.status_code == 200, answer.text
    elsewhere = mallory.rfc9421(roost, "GET", "/users/alice", None, signed_path="/users/bob")
    assert roost.client.get("/users/alice", headers={**accept, **elsewhere}).status_code == 401
    assert roost.client.get("/users/alice", headers=accept).status_code == 401
