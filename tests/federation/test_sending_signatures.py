"""RFC 9421 signatures on what Roost sends, and the double-knock
(roost/domain/federation/signing.py, ``ROOST_FEDERATION_SIGNATURES``).

Roost's RFC 9421 signatures are checked by an implementation that is not
Roost's: pyauth's ``http-message-signatures`` (from the package index, a
test-only dependency), which rebuilds the signature base itself and, given
the body, checks its ``Content-Digest`` (checked here with hashlib too).
mallory's server (tests/federation/peers.py) then plays servers that take
only one kind of signature: one that answers 401 to RFC 9421 (as a server
that verifies only draft-cavage does) and one that verifies RFC 9421 with
that library and refuses draft-cavage."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from http_message_signatures import (
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.tables import federation_hosts
from roost.domain.federation import hosts, remote, signing
from roost.net import message_signatures, signatures
from tests.conftest import Roost
from tests.federation.test_received import Peer, peer

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer"]  # the fixture, shared with test_received

SENT = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


@dataclass
class _Message:
    """What the library reads of a request: its method, URL and fields."""

    method: str
    url: str
    headers: httpx.Headers


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, keys: dict[str, rsa.RSAPublicKey]) -> None:
        self.keys = keys

    def resolve_public_key(self, key_id: str) -> rsa.RSAPublicKey:
        return self.keys[key_id]

    def resolve_private_key(self, key_id: str) -> Any:
        raise NotImplementedError


def _independently_verified(
    key_id: str,
    public_key: rsa.RSAPublicKey,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
) -> dict[str, Any]:
    """The components the library found covered; its exception otherwise."""
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=_Keys({key_id: public_key})
    )
    message = _Message(method, url, httpx.Headers(headers))
    with_body = bool(body) or method == "POST"
    # Given the body, the library checks the Content-Digest too (and that
    # the signature covers it).
    [result] = verifier.verify(
        message, max_age=timedelta(days=3650), body=body if with_body else None
    )
    if with_body:
        expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert httpx.Headers(headers)["content-digest"] == f"sha-256=:{expected}:"
    covered = {k: v for k, v in result.covered_components.items() if k != '"@signature-params"'}
    return {"components": covered, "params": dict(result.parameters)}


def test_given_roosts_rfc9421_signature_when_an_independent_library_verifies_it_then_it_holds() -> (
    None
):
    key = signatures.generate_private_key()
    url = "https://other.example/users/bob/inbox"
    body = b'{"type":"Follow"}'
    sent = message_signatures.signed_headers(
        key, "https://roost.example/users/a#main-key", "POST", url, body, SENT
    )
    found = _independently_verified(
        "https://roost.example/users/a#main-key", key.public_key(), "POST", url, sent, body
    )
    assert list(found["components"]) == ['"@method"', '"@target-uri"', '"content-digest"']
    assert found["components"]['"@target-uri"'] == url
    assert found["params"]["created"] == int(SENT.timestamp())
    assert found["params"]["alg"] == "rsa-v1_5-sha256"
    assert found["params"]["keyid"] == "https://roost.example/users/a#main-key"

    # A GET (a signed fetch, with a query and a port) covers no digest.
    get_url = "http://127.0.0.1:8002/.well-known/webfinger?resource=acct:bob@127.0.0.1:8002"
    got = message_signatures.signed_headers(key, "k", "GET", get_url, b"", SENT)
    found = _independently_verified("k", key.public_key(), "GET", get_url, got, b"")
    assert list(found["components"]) == ['"@method"', '"@target-uri"']
    assert "Content-Digest" not in got

    # Tampered, the library refuses it: the body's digest, or another target.
    forged = sent | {"Content-Digest": message_signatures.content_digest(b"{}")}
    with pytest.raises(HTTPMessageSignaturesException):
        _independently_verified("k", key.public_key(), "POST", url, forged, b"{}")
    with pytest.raises(HTTPMessageSignaturesException):
        _independently_verified("k", key.public_key(), "POST", url + "x", sent, body)


def _mallory_follows(roost: Roost, peer: Peer, name: str) -> None:
    uri = f"{roost.settings.base_url}/users/{name}"
    follow = {"id": f"{peer.uri}#follows/{name}", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": uri})


def _scheme(roost: Roost, peer: Peer) -> tuple[str | None, datetime | None]:
    async def read() -> tuple[str | None, datetime | None]:
        h = federation_hosts.c
        async with roost.db.read() as conn:
            row = (
                await conn.execute(
                    select(h.signature_scheme, h.signature_scheme_at).where(h.host == peer.domain)
                )
            ).first()
        return (None, None) if row is None else (row.signature_scheme, row.signature_scheme_at)

    return roost.run(read)


def _reported(roost: Roost, peer: Peer) -> hosts.HostReport:
    async def read() -> hosts.HostReport:
        async with roost.db.read() as conn:
            [found] = await hosts.host_states(conn, peer.domain)
            return found

    return roost.run(read)


def _rfc9421(headers: dict[str, str]) -> bool:
    return "signature-input" in headers


@pytest.mark.settings(federation_allow_insecure=True, federation_signatures="double-knock")
def test_given_a_server_refusing_rfc9421_when_roost_double_knocks_then_it_falls_back_and_remembers(
    roost: Roost, peer: Peer
) -> None:
    peer.refuses = lambda method, path, headers, body: _rfc9421(headers)
    alice = roost.account("alice")
    _mallory_follows(roost, peer, "alice")

    # Roost first fetched mallory's key (signed by its instance actor): RFC
    # 9421 first, refused (401), then draft-cavage, taken. The host's scheme
    # is remembered, so the Accept went with draft-cavage at once.
    [knock] = peer.refused
    assert knock["method"] == "GET" and _rfc9421(knock)
    assert not _rfc9421(peer.get_headers[-1]) and peer.get_headers[-1]["signature"].startswith(
        'keyId="'
    )
    [accepted] = peer.headers
    assert not _rfc9421(accepted) and accepted["signature"].startswith('keyId="')
    assert len(peer.sent_of("Accept")) == 1
    assert _scheme(roost, peer)[0] == "cavage"
    assert _reported(roost, peer).signature_scheme == "cavage"  # roost federation status

    # Remembered: the next delivery goes with draft-cavage at once.
    alice.post_status("hello mallory")
    roost.drain_jobs()
    assert len(peer.refused) == 1
    assert len(peer.sent_of("Create")) == 1 and not _rfc9421(peer.headers[-1])

    # A week later RFC 9421 is tried again (the server may have learnt it):
    # still refused, draft-cavage again, and the knowledge renewed.
    _age_scheme(roost, peer, days=8)
    alice.post_status("a week later")
    roost.drain_jobs()
    assert len(peer.refused) == 2
    assert peer.refused[1]["method"] == "POST" and _rfc9421(peer.refused[1])
    assert len(peer.sent_of("Create")) == 2 and not _rfc9421(peer.headers[-1])
    scheme, learnt = _scheme(roost, peer)
    assert scheme == "cavage" and learnt is not None and utcnow() - learnt < timedelta(hours=1)


def _age_scheme(roost: Roost, peer: Peer, days: int) -> None:
    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(federation_hosts)
                .where(federation_hosts.c.host == peer.domain)
                .values(signature_scheme_at=utcnow() - timedelta(days=days))
            )

    roost.run(write)


def _public_key(roost: Roost, name: str) -> rsa.RSAPublicKey:
    actor = roost.client.get(f"/users/{name}", headers={"Accept": "application/activity+json"})
    return signatures.load_public_key(actor.json()["publicKey"]["publicKeyPem"])


def _instance_public_key(roost: Roost) -> rsa.RSAPublicKey:
    async def read() -> rsa.RSAPublicKey:
        return (await signing.instance_key(roost.db, roost.settings)).private_key.public_key()

    return roost.run(read)


def _refuses_all_but_verified_rfc9421(
    roost: Roost, peer: Peer, keys: dict[str, rsa.RSAPublicKey]
) -> None:
    """mallory's server takes only RFC 9421 signatures the independent
    library verifies (with the key of the actor named)."""

    def refuses(method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        if not _rfc9421(headers):
            return True
        key_id = message_signatures.parse(headers)[0].key_id or ""
        try:
            _independently_verified(key_id, keys[key_id], method, peer.base + path, headers, body)
        except (HTTPMessageSignaturesException, KeyError, AssertionError):
            return True
        return False

    peer.refuses = refuses


@pytest.mark.settings(federation_allow_insecure=True, federation_signatures="double-knock")
def test_given_a_server_verifying_only_rfc9421_when_roost_delivers_then_it_takes_the_first_knock(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    base = roost.settings.base_url
    keys = {
        f"{base}/users/alice#main-key": _public_key(roost, "alice"),
        f"{base}/actor#main-key": _instance_public_key(roost),
    }
    _refuses_all_but_verified_rfc9421(roost, peer, keys)
    _mallory_follows(roost, peer, "alice")
    alice.post_status("signed the new way")
    roost.drain_jobs()
    assert peer.refused == []
    assert [a["type"] for a in peer.received] == ["Accept", "Create"]
    assert all(_rfc9421(h) for h in peer.headers)
    assert _scheme(roost, peer)[0] == "rfc9421"

    # Should the server stop taking RFC 9421, the next delivery falls back
    # at once and the knowledge is replaced.
    peer.refuses = lambda method, path, headers, body: _rfc9421(headers)
    alice.post_status("after a downgrade")
    roost.drain_jobs()
    [knock] = peer.refused
    assert knock["method"] == "POST" and _rfc9421(knock)
    assert len(peer.sent_of("Create")) == 2 and not _rfc9421(peer.headers[-1])
    assert _scheme(roost, peer)[0] == "cavage"


@pytest.mark.settings(federation_allow_insecure=True, federation_signatures="double-knock")
def test_given_a_server_refusing_rfc9421_reads_when_roost_fetches_an_actor_then_it_falls_back(
    roost: Roost, peer: Peer
) -> None:
    peer.refuses = lambda method, path, headers, body: _rfc9421(headers)

    async def read() -> dict[str, Any]:
        return await remote.fetch_actor(roost.db, roost.settings, peer.uri)

    actor = roost.run(read)
    assert actor["id"] == peer.uri
    # Signed by the instance actor: RFC 9421 first, refused; then draft-cavage.
    assert [r["method"] for r in peer.refused] == ["GET"]
    assert "actor#main-key" in peer.refused[0]["signature-input"]
    assert (
        not _rfc9421(peer.get_headers[-1]) and "actor#main-key" in peer.get_headers[-1]["signature"]
    )
    assert _scheme(roost, peer)[0] == "cavage"

    # The next fetch knows.
    roost.run(read)
    assert len(peer.refused) == 1


@pytest.mark.settings(federation_allow_insecure=True, federation_signatures="rfc9421")
def test_given_rfc9421_only_when_roost_fetches_an_actor_then_the_server_verifies_it_independently(
    roost: Roost, peer: Peer
) -> None:
    base = roost.settings.base_url
    _refuses_all_but_verified_rfc9421(
        roost, peer, {f"{base}/actor#main-key": _instance_public_key(roost)}
    )

    async def read() -> dict[str, Any]:
        return await remote.fetch_actor(roost.db, roost.settings, peer.uri)

    assert roost.run(read)["id"] == peer.uri
    assert peer.refused == [] and _rfc9421(peer.get_headers[-1])
    # Nothing is remembered outside the double-knock.
    assert _scheme(roost, peer)[0] is None


def test_given_the_default_when_roost_delivers_then_it_signs_with_draft_cavage_only(
    roost: Roost, peer: Peer
) -> None:
    assert roost.settings.federation_signatures == "cavage"
    peer.refuses = lambda method, path, headers, body: _rfc9421(headers)
    roost.account("alice")
    _mallory_follows(roost, peer, "alice")
    assert peer.refused == [] and len(peer.sent_of("Accept")) == 1
    assert not _rfc9421(peer.headers[0])
