"""A push service on a free local port, and a subscriber's keys: each message
it receives is decrypted with the subscription's private key and secret, and
its VAPID signature checked against the server's key, as a browser's push
service and the browser would."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """What a browser keeps for one subscription."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.urlsafe_b64encode(point).decode().rstrip("=")

    @property
    def auth_b64(self) -> str:
        return base64.urlsafe_b64encode(self.auth).decode().rstrip("=")

    def open(self, received: Received, server_key: str) -> dict[str, Any]:
        """The message, decrypted; fails unless it is signed by ``server_key``."""
        encoding = received.headers["Content-Encoding"]
        if encoding == "aes128gcm":
            scheme, _, params = received.headers["Authorization"].partition(" ")
            assert scheme == "vapid"
            parts = dict(p.strip().split("=", 1) for p in params.split(","))
            key, token = parts["k"], parts["t"]
            plain = http_ece.decrypt(
                received.body,
                private_key=self.private_key,
                auth_secret=self.auth,
                version="aes128gcm",
            )
        else:
            assert encoding == "aesgcm"
            scheme, _, token = received.headers["Authorization"].partition(" ")
            assert scheme == "WebPush"
            crypto_key = dict(p.split("=", 1) for p in received.headers["Crypto-Key"].split(";"))
            key = crypto_key["p256ecdsa"]
            plain = http_ece.decrypt(
                received.body,
                salt=b64url_decode(received.headers["Encryption"].split("salt=")[1]),
                private_key=self.private_key,
                dh=b64url_decode(crypto_key["dh"]),
                auth_secret=self.auth,
                keylabel="P-256",
                version="aesgcm",
            )
        assert b64url_decode(key) == b64url_decode(server_key.rstrip("="))
        claims = verify_jwt(token, b64url_decode(key))
        assert claims["aud"] == received.origin
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600
        assert claims["sub"]
        message: dict[str, Any] = json.loads(plain)
        return message


def verify_jwt(token: str, public_point: bytes) -> dict[str, Any]:
    """The claims of an ES256 JWT; InvalidSignature unless the key signed it."""
    header, body, signature = token.split(".")
    assert json.loads(b64url_decode(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = b64url_decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_point)
    key.verify(der, f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    claims: dict[str, Any] = json.loads(b64url_decode(body))
    return claims


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    origin: str


class PushService:
    """Records every message; answers each path with the statuses queued for it
    (then 201, as push services do)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: dict[str, list[int]] = {}
        self.url = ""

    def endpoint(self, name: str) -> str:
        return f"{self.url}/push/{name}"


@contextlib.contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            service.received.append(
                Received(self.path, dict(self.headers.items()), body, service.url)
            )
            queued = service.answers.get(self.path, [])
            status = queued.pop(0) if queued else 201
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        httpd.shutdown()
        httpd.server_close()
