"""Verifying the HTTP signature of a request another server made.

``verify_request`` accepts a request when all of these hold, and refuses it
(SignatureRefused) otherwise:
  - it carries a draft-cavage ``Signature`` (or ``Authorization: Signature``)
    over at least ``(request-target)``, ``host`` and ``date``, and, when it has
    a body, ``digest``; the ``Digest`` names the body's SHA-256;
  - its ``Date`` is within 12 hours past and one hour either way of now;
  - the key it names is an https URL (http too in insecure mode) whose
    document gives an RSA key under that very id, owned by an actor on the
    key's own host;
  - the signature verifies with that key.

Keys are cached in ``remote_actor_keys``. A signature that fails with a
cached key is tried once more with the key fetched again (the owner may have
rotated it); a signature that fails with a key just fetched is refused. Keys
are fetched through the outbound client (roost/net/http.py: its address,
size and time guards), signed by the instance actor so that servers in
authorized-fetch mode answer.

RFC 9421 (HTTP Message Signatures) is not verified yet: a request signed
only that way is refused as unsigned.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urldefrag, urlsplit

import orjson
from sqlalchemy import select, update

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import remote_actor_keys
from roost.domain.federation import signing, uris
from roost.domain.federation._upsert import insert_absent
from roost.ids import new_id
from roost.net import signatures
from roost.net.http import OutboundRefused, fetch
from roost.net.signatures import SignatureRefused

log = logging.getLogger("roost.federation")

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_KEY_DOCUMENT_BYTES = 256 * 1024
REQUIRED = ("(request-target)", "host", "date")


@dataclass(frozen=True)
class SignedBy:
    """Who signed a request that verified: the key and the actor owning it."""

    key_id: str
    owner: str


@dataclass(frozen=True)
class _Key:
    owner: str
    pem: str


def signature_header(headers: Mapping[str, str]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    if "signature" in lowered:
        return lowered["signature"]
    authorization = lowered.get("authorization", "")
    if authorization.lower().startswith("signature "):
        return authorization
    return None


async def verify_request(
    db: Database,
    settings: Settings,
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime | None = None,
) -> SignedBy:
    """Verify the request (``target``: its path and query as received);
    SignatureRefused, with the reason, when it does not verify."""
    header = signature_header(headers)
    if header is None:
        raise SignatureRefused("the request is not signed")
    parsed = signatures.parse_signature(header)
    wanted = REQUIRED + (("digest",) if body is not None else ())
    missing = [name for name in wanted if name not in parsed.headers]
    if missing:
        raise SignatureRefused(f"the signature does not cover {', '.join(missing)}")
    if body is not None:
        signatures.check_digest(headers, body)
    signatures.check_date(headers, now or utcnow())
    if not uris.peer_url_allowed(settings, parsed.key_id):
        raise SignatureRefused("the key is not at an address Roost fetches from")
    cached = await _cached_key(db, parsed.key_id)
    if cached is not None:
        try:
            _verify_with(cached, parsed, method, target, headers)
            return SignedBy(parsed.key_id, cached.owner)
        except SignatureRefused:
            pass  # perhaps rotated: fetched again below, once
    fresh = await _fetch_key(db, settings, parsed.key_id)
    _verify_with(fresh, parsed, method, target, headers)
    return SignedBy(parsed.key_id, fresh.owner)


def _verify_with(
    key: _Key,
    parsed: signatures.ParsedSignature,
    method: str,
    target: str,
    headers: Mapping[str, str],
) -> None:
    try:
        public_key = signatures.load_public_key(key.pem)
    except ValueError:
        raise SignatureRefused("the key is no RSA public key") from None
    signatures.verify(public_key, parsed, method, target, headers)


async def _cached_key(db: Database, key_id: str) -> _Key | None:
    async with db.read() as conn:
        row = (
            (
                await conn.execute(
                    select(remote_actor_keys.c.owner, remote_actor_keys.c.public_key_pem).where(
                        remote_actor_keys.c.key_id == key_id
                    )
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else _Key(row["owner"], row["public_key_pem"])


def _key_in(document: Any, key_id: str) -> _Key | None:
    """The key ``key_id`` in an actor document (``publicKey``: one or a list)
    or a key document itself."""
    if not isinstance(document, dict):
        return None
    candidates: list[Any] = [document]
    published = document.get("publicKey")
    if isinstance(published, list):
        candidates += published
    elif published is not None:
        candidates.append(published)
    for candidate in candidates:
        if not isinstance(candidate, dict) or candidate.get("id") != key_id:
            continue
        pem = candidate.get("publicKeyPem")
        owner = candidate.get("owner") or document.get("id")
        if isinstance(pem, str) and isinstance(owner, str):
            return _Key(owner, pem)
    return None


async def _fetch_key(db: Database, settings: Settings, key_id: str) -> _Key:
    url, _ = urldefrag(key_id)
    try:
        fetched = await fetch(
            settings,
            url,
            accept=ACCEPT,
            max_bytes=MAX_KEY_DOCUMENT_BYTES,
            signer=await signing.instance_signer(db, settings),
            allow_private=settings.federation_allow_insecure,
        )
    except OutboundRefused as error:
        raise SignatureRefused(f"the key could not be fetched: {error}") from None
    if fetched.status != 200:
        raise SignatureRefused(f"the key's address answered {fetched.status}")
    try:
        document = orjson.loads(fetched.body)
    except orjson.JSONDecodeError:
        raise SignatureRefused("the key's document is not JSON") from None
    key = _key_in(document, key_id)
    if key is None:
        raise SignatureRefused("the key's document has no such key")
    if urlsplit(key.owner).netloc.lower() != urlsplit(key_id).netloc.lower():
        raise SignatureRefused("the key's owner is on another host")
    await _store_key(db, key_id, key)
    return key


async def _store_key(db: Database, key_id: str, key: _Key) -> None:
    now = utcnow()
    async with db.write() as tx:
        inserted = await tx.execute(
            insert_absent(tx, remote_actor_keys, remote_actor_keys.c.key_id).values(
                id=new_id(), key_id=key_id, owner=key.owner, public_key_pem=key.pem, fetched_at=now
            )
        )
        if not inserted.rowcount:
            await tx.execute(
                update(remote_actor_keys)
                .where(remote_actor_keys.c.key_id == key_id)
                .values(owner=key.owner, public_key_pem=key.pem, fetched_at=now)
            )
    log.info("federation key stored", extra={"key_id": key_id})
