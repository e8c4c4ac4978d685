"""Another server for the federation tests: a plain HTTP server of the test's
own on loopback (the tests run in insecure mode), with mallory's actor, any
other documents the test gives it, and a record of what it is asked and sent.

One helper for every test of tests/federation: ``serve()`` starts one,
``Peer`` is what the test reads and changes while it runs.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from cryptography.hazmat.primitives.asymmetric import rsa

from roost.clock import utcnow
from roost.net import signatures
from tests.conftest import Roost

AP = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass
class Peer:
    """mallory on another server: her actor document, what her server serves
    besides, and what it was asked and sent."""

    base: str = ""
    name: str = "Mallory <script>x</script>"
    key: rsa.RSAPrivateKey = field(default_factory=signatures.generate_private_key)
    # Deliveries posted to it (parsed), with their headers (and the path) and bodies.
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    # The paths (with their queries) of the GET requests it was asked, in order.
    asked: list[str] = field(default_factory=list)
    # Other documents her server serves, by path.
    served: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Paths of ``served`` that answer a web page (HTML) unless ActivityPub is
    # asked for, as a profile page does.
    pages: set[str] = field(default_factory=set)
    # Addresses that answer a redirect to another address, by path.
    redirects: dict[str, str] = field(default_factory=dict)
    # What her inbox answers a delivery (it records the delivery anyway).
    answer: int = 202
    # What every GET answers instead of its document, when set (503: a
    # server that is down behind its proxy).
    fetch_answer: int | None = None
    # Files (media) her server serves, by path.
    files: dict[str, bytes] = field(default_factory=dict)
    # Other actors of her server (mallory2, ...), by name, with their keys,
    # made the first time they are named.
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    # Each actor's ``alsoKnownAs``, by name.
    aliases: dict[str, list[str]] = field(default_factory=dict)
    # When set, a request (GET or POST) whose headers it refuses is answered
    # 401 and recorded in ``refused`` only (a server that does not take a
    # kind of signature).
    refuses: Callable[[str, str, dict[str, str], bytes], bool] | None = None
    refused: list[dict[str, str]] = field(default_factory=list)
    # The headers of each GET it answered, in order.
    get_headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.base.removeprefix("http://")

    @property
    def uri(self) -> str:
        return f"{self.base}/users/mallory"

    def actor_uri(self, actor: str = "mallory") -> str:
        return f"{self.base}/users/{actor}"

    def key_of(self, actor: str = "mallory") -> rsa.RSAPrivateKey:
        if actor == "mallory":
            return self.key
        return self.keys.setdefault(actor, signatures.generate_private_key())

    def document(self, actor: str = "mallory") -> dict[str, Any]:
        me = self.actor_uri(actor)
        document: dict[str, Any] = {
            "id": me,
            "type": "Person",
            "preferredUsername": actor,
            "name": self.name if actor == "mallory" else actor,
            "url": f"{self.base}/@{actor}",
            "inbox": f"{me}/inbox",
            "followers": f"{me}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": f"{me}#main-key",
                "owner": me,
                "publicKeyPem": signatures.public_pem(self.key_of(actor)),
            },
        }
        if actor == "mallory":
            document["summary"] = "<p onclick='x()'>hi</p>"
        if self.aliases.get(actor):
            document["alsoKnownAs"] = self.aliases[actor]
        return document

    def known(self, actor: str) -> bool:
        return actor == "mallory" or actor in self.keys

    def send(
        self,
        roost: Roost,
        activity: dict[str, Any],
        path: str = "/inbox",
        *,
        drain: bool = True,
        actor: str = "mallory",
    ) -> None:
        """Post an activity signed by ``actor`` (mallory) to Roost's inbox;
        run the jobs (unless not ``drain``)."""
        body = orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams", **activity})
        url = roost.settings.base_url + path
        headers = signatures.signed_headers(
            self.key_of(actor), f"{self.actor_uri(actor)}#main-key", "POST", url, body, utcnow()
        )
        headers["Content-Type"] = AP
        answer = roost.client.post(path, content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        if drain:
            roost.drain_jobs()

    def sent_of(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.received if a.get("type") == kind]

    def serve_note(self, n: int, **fields: Any) -> dict[str, Any]:
        """Serve mallory's note ``n`` at its id (``/users/mallory/statuses/N``)
        and its page (``/@mallory/N``, a redirect to the id, as a page of
        Mastodon's answers ActivityPub); the Note."""
        note = {
            "id": f"{self.uri}/statuses/{n}",
            "type": "Note",
            "attributedTo": self.uri,
            "content": f"<p>note {n}</p>",
            "url": f"{self.base}/@mallory/{n}",
            "published": "2026-01-02T03:04:05Z",
            "to": [PUBLIC],
            "cc": [f"{self.uri}/followers"],
            **fields,
        }
        self.served[urlsplit(note["id"]).path] = note
        self.redirects[f"/@mallory/{n}"] = note["id"]
        return note


@contextlib.contextmanager
def serve() -> Iterator[Peer]:
    """A running server of ``Peer`` on loopback, stopped at the end."""
    actor = Peer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, location: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", AP)
            self.send_header("Content-Length", str(len(body)))
            if location is not None:
                self.send_header("Location", location)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):
                self.wfile.write(body)

        def _refused(self, method: str, body: bytes) -> bool:
            headers = {k.lower(): v for k, v in self.headers.items()}
            if actor.refuses is None or not actor.refuses(method, self.path, headers, body):
                return False
            actor.refused.append(headers | {"path": self.path, "method": method})
            self._answer(401, b"")
            return True

        def do_GET(self) -> None:
            if self._refused("GET", b""):
                return
            actor.asked.append(self.path)
            actor.get_headers.append({k.lower(): v for k, v in self.headers.items()})
            path = urlsplit(self.path).path
            if actor.fetch_answer is not None:
                self._answer(actor.fetch_answer, b"{}")
            elif path == "/.well-known/webfinger":
                resource = parse_qs(urlsplit(self.path).query).get("resource", [""])[0]
                name = resource.removeprefix("acct:").split("@")[0]
                href = actor.actor_uri(name if actor.known(name) else "mallory")
                finger = {"links": [{"rel": "self", "type": AP, "href": href}]}
                self._answer(200, orjson.dumps(finger))
            elif path.startswith("/users/") and actor.known(path.removeprefix("/users/")):
                self._answer(200, orjson.dumps(actor.document(path.removeprefix("/users/"))))
            elif path in actor.pages and "activity+json" not in self.headers.get("Accept", ""):
                self._answer(200, b"<!doctype html><title>a profile</title>")
            elif path in actor.served:
                self._answer(200, orjson.dumps(actor.served[path]))
            elif path in actor.redirects:
                self._answer(302, b"", location=actor.redirects[path])
            elif path in actor.files:
                self._answer(200, actor.files[path])
            else:
                self._answer(404, b"{}")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            assert "Signature" in self.headers
            if self._refused("POST", body):
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            actor.headers.append(headers | {"path": self.path})
            actor.bodies.append(body)
            actor.received.append(orjson.loads(body))
            self._answer(actor.answer, b"")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    actor.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield actor
    finally:
        httpd.shutdown()
        httpd.server_close()
