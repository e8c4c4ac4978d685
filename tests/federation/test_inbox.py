"""The inbox and signed fetches: every request verified before anything is
stored, keys fetched from the signer's server (a real local HTTP server here)
and cached, a rotated key followed."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from roost.clock import utcnow
from roost.db.tables import inbox_activities, jobs, remote_actor_keys
from roost.net import signatures
from tests.conftest import Roost

pytestmark = pytest.mark.settings(federation_allow_insecure=True)


@dataclass
class RemoteActor:
    """An actor on a plain HTTP server of the test's own: its document (with
    its current key) is what the server answers at its address."""

    base: str = ""
    key: rsa.RSAPrivateKey = field(default_factory=signatures.generate_private_key)
    fetches: list[dict[str, str]] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"{self.base}/users/mallory"

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    def document(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.uri,
                "type": "Person",
                "inbox": f"{self.uri}/inbox",
                "publicKey": {
                    "id": self.key_id,
                    "owner": self.uri,
                    "publicKeyPem": signatures.public_pem(self.key),
                },
            }
        )

    def signed(
        self, method: str, url: str, body: bytes, key: rsa.RSAPrivateKey | None = None, **extra: Any
    ) -> dict[str, str]:
        now = extra.pop("now", utcnow())
        headers = signatures.signed_headers(key or self.key, self.key_id, method, url, body, now)
        if body:
            headers["Content-Type"] = "application/activity+json"
        return headers


@pytest.fixture
def remote() -> Iterator[RemoteActor]:
    actor = RemoteActor()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            actor.fetches.append(dict(self.headers.items()))
            body = actor.document() if self.path == "/users/mallory" else b"{}"
            self.send_response(200 if self.path == "/users/mallory" else 404)
            self.send_header("Content-Type", "application/activity+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):
                self.wfile.write(body)

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


def _follow(remote: RemoteActor, roost: Roost, n: int = 1) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.uri}#follows/{n}",
        "type": "Follow",
        "actor": remote.uri,
        "object": f"{roost.settings.base_url}/users/alice",
    }


def _deliver(
    roost: Roost,
    remote: RemoteActor,
    activity: dict[str, Any],
    path: str = "/users/alice/inbox",
    **sign: Any,
) -> Any:
    body = orjson.dumps(activity)
    headers = remote.signed("POST", roost.settings.base_url + path, body, **sign)
    return roost.client.post(path, content=body, headers=headers)


def _stored(roost: Roost) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with roost.db.read() as conn:
            rows = await conn.execute(select(inbox_activities).order_by(inbox_activities.c.id))
            return [dict(row) for row in rows.mappings()]

    return roost.run(read)


def _inbox_jobs(roost: Roost) -> int:
    async def count() -> int:
        async with roost.db.read() as conn:
            query = select(func.count()).select_from(jobs).where(jobs.c.kind == "federation.inbox")
            return int((await conn.execute(query)).scalar_one())

    return roost.run(count)


def test_given_a_signed_follow_when_posted_to_an_inbox_then_it_is_stored_with_a_job(
    roost: Roost, remote: RemoteActor
) -> None:
    roost.account("alice")
    answer = _deliver(roost, remote, _follow(remote, roost))
    assert answer.status_code == 202, answer.text
    [row] = _stored(roost)
    assert row["activity_type"] == "Follow" and row["actor_uri"] == remote.uri
    assert row["key_id"] == remote.key_id and row["state"] == "queued"
    assert row["recipient_account_id"] is not None
    assert orjson.loads(row["body"])["object"].endswith("/users/alice")
    assert _inbox_jobs(roost) == 1
    # The key was fetched once, signed by the instance actor.
    [fetch] = remote.fetches
    assert 'keyId="' + roost.settings.base_url + '/actor#main-key"' in fetch["Signature"]
    # The same activity delivered again (a retry) is one row, and the key is cached.
    assert _deliver(roost, remote, _follow(remote, roost)).status_code == 202
    assert len(_stored(roost)) == 1 and _inbox_jobs(roost) == 1
    assert len(remote.fetches) == 1
    # The shared inbox takes activities for nobody in particular.
    assert _deliver(roost, remote, _follow(remote, roost, 2), "/inbox").status_code == 202
    assert _stored(roost)[-1]["recipient_account_id"] is None
    # Processed: mallory's document names no username, so no account can be
    # made of her and her Follows are marked failed (nothing else happens).
    roost.drain_jobs()
    assert {row["state"] for row in _stored(roost)} == {"failed"}
    # Processed, an activity keeps no body (docs/residency.md).
    assert {row["body"] for row in _stored(roost)} == {""}


def test_given_a_bad_delivery_when_posted_then_401_and_nothing_is_stored(
    roost: Roost, remote: RemoteActor
) -> None:
    roost.account("alice")
    base = roost.settings.base_url
    activity = _follow(remote, roost)
    body = orjson.dumps(activity)
    signed = remote.signed("POST", base + "/users/alice/inbox", body)
    tampered = body.replace(b"Follow", b"Block")
    refused = {
        "unsigned": roost.client.post(
            "/users/alice/inbox", content=body, headers={"Content-Type": "application/json"}
        ),
        "body changed": roost.client.post("/users/alice/inbox", content=tampered, headers=signed),
        "body and digest changed": roost.client.post(
            "/users/alice/inbox",
            content=tampered,
            headers={**signed, "Digest": signatures.digest(tampered)},
        ),
        "other inbox": roost.client.post("/inbox", content=body, headers=signed),
        "stale": _deliver(roost, remote, activity, now=utcnow() - timedelta(hours=14)),
        "other key": _deliver(roost, remote, activity, key=signatures.generate_private_key()),
        "another actor's activity": _deliver(
            roost, remote, {**activity, "actor": f"{remote.base}/users/eve"}
        ),
    }
    for case, answer in refused.items():
        assert answer.status_code == 401, case
        assert "error" in answer.json(), case
    assert _stored(roost) == [] and _inbox_jobs(roost) == 0
    assert _deliver(roost, remote, activity, "/users/nobody/inbox").status_code == 404
    assert _deliver(roost, remote, {"no": "type", "actor": remote.uri}).status_code == 400
    assert _stored(roost) == []


def test_given_a_rotated_key_when_a_delivery_fails_with_the_cached_one_then_it_is_fetched_again(
    roost: Roost, remote: RemoteActor
) -> None:
    roost.account("alice")
    assert _deliver(roost, remote, _follow(remote, roost, 1)).status_code == 202
    old_pem = signatures.public_pem(remote.key)
    remote.key = signatures.generate_private_key()
    assert _deliver(roost, remote, _follow(remote, roost, 2)).status_code == 202
    assert len(remote.fetches) == 2

    async def cached() -> str:
        async with roost.db.read() as conn:
            query = select(remote_actor_keys.c.public_key_pem)
            return str((await conn.execute(query)).scalar_one())

    assert roost.run(cached) == signatures.public_pem(remote.key) != old_pem
    # A key that is not the owner's, even fetched again, stays refused (once per delivery).
    stranger = signatures.generate_private_key()
    assert _deliver(roost, remote, _follow(remote, roost, 3), key=stranger).status_code == 401
    assert len(remote.fetches) == 3 and len(_stored(roost)) == 2


@pytest.mark.settings(federation_allow_insecure=True, authorized_fetch=True)
def test_given_authorized_fetch_when_read_with_a_valid_signature_then_answered(
    roost: Roost, remote: RemoteActor
) -> None:
    roost.account("alice")
    base = roost.settings.base_url
    accept = {"Accept": "application/activity+json"}
    signed = remote.signed("GET", base + "/users/alice", b"")
    answer = roost.client.get("/users/alice", headers={**accept, **signed})
    assert answer.status_code == 200 and answer.json()["id"] == f"{base}/users/alice"
    # Signed for another address: refused.
    elsewhere = remote.signed("GET", base + "/users/alice/outbox", b"")
    assert roost.client.get("/users/alice", headers={**accept, **elsewhere}).status_code == 401
