"""Another server for federation tests, as a real HTTP server on loopback
that can be told what to answer, can go away and come back on the same
address.

``PeerHost`` is mallory's server of tests/federation/peers.py
(the same actor document, key and recorded deliveries) with more control:
``statuses`` answers a path with a status instead (410 for an erased
actor), ``requests`` records every request (method and path), ``stop()``
takes the server off its port (connections are refused) and ``start()``
brings it back on the same one. Its NodeInfo is served as any server's.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from tests.federation.peers import AP, Peer


@dataclass
class PeerHost(Peer):
    statuses: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    def gets(self, path: str) -> int:
        """How many GETs of ``path`` (its query left out) the server had."""
        return sum(1 for m, p in self.requests if m == "GET" and p.split("?")[0] == path)

    def start(self) -> None:
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.port = httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self._server = httpd

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(peer: PeerHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, kind: str = AP) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            peer.requests.append(("GET", self.path))
            if path in peer.statuses:
                self._answer(peer.statuses[path], b"{}")
            elif path == "/.well-known/webfinger":
                finger = {"links": [{"rel": "self", "type": AP, "href": peer.uri}]}
                self._answer(200, orjson.dumps(finger))
            elif path == "/.well-known/nodeinfo":
                link = {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                    "href": f"{peer.base}/nodeinfo/2.0",
                }
                self._answer(200, orjson.dumps({"links": [link]}), "application/json")
            elif path == "/users/mallory":
                self._answer(200, orjson.dumps(peer.document()))
            elif path in peer.served:
                self._answer(200, orjson.dumps(peer.served[path]))
            elif path in peer.files:
                self._answer(200, peer.files[path], "application/octet-stream")
            else:
                self._answer(404, b"{}")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            peer.requests.append(("POST", self.path))
            peer.received.append(orjson.loads(body))
            self._answer(peer.answer, b"")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def peer_host() -> Iterator[PeerHost]:
    host = PeerHost()
    host.start()
    try:
        yield host
    finally:
        host.stop()
