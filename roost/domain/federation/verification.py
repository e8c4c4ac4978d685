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
  - the signature verifies with that key;
  - in the allow-list mode, the key's server is allowed: asked before its
    key is fetched (``NotFederated``).

Keys are cached in ``remote_actor_keys``. A signature that fails with a
cached key is tried once more with the key fetched again (the owner may have
rotated it); a signature that fails with a key just fetched is refused. Keys
are fetched through the outbound client (roost/net/http.py: its address,
size and time guards), signed by the instance actor so that servers in
authorized-fetch mode answer.

A request with a ``Signature-Input`` is read as RFC 9421 (HTTP Message
Signatures, roost/net/message_signatures.py) instead, with Mastodon's
requirements: exactly one signature; its ``keyid`` and ``created``
parameters; ``created`` within the same window as a ``Date`` (and
``expires``, when given, not past); covering ``@method`` and the target
(``@target-uri``, or ``@request-target``, or ``@authority`` with ``@path``
and, when the target has a query, ``@query``); with a body, covering
``content-digest``, whose SHA-256 or SHA-512 matches the body. The key is
found, cached and refetched as for draft-cavage; it may be RSA
(``rsa-v1_5-sha256``, or ``rsa-pss-sha512`` when named) or Ed25519 (an
``assertionMethod`` Multikey of the actor, FEP-521a, or an Ed25519 PEM).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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
from roost.domain.federation.remote import federates_with
from roost.ids import new_id
from roost.net import message_signatures, signatures
from roost.net.http import OutboundRefused
from roost.net.signatures import SignatureRefused

log = logging.getLogger("roost.federation")

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_KEY_DOCUMENT_BYTES = 256 * 1024
REQUIRED = ("(request-target)", "host", "date")


class NotFederated(SignatureRefused):
    """In the allow-list mode, the key is of a server not allowed (or
    suspended): refused before its key is fetched. (Outside that mode a
    suspended server's activities are taken and marked ``failed``.)"""


class KeyGone(SignatureRefused):
    """The key's address answered 404 or 410: its actor may have been
    deleted (roost/domain/federation/departed.py takes a Delete of it)."""

    def __init__(self, message: str, key_id: str) -> None:
        super().__init__(message)
        self.key_id = key_id


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
    """The request's signature (draft-cavage's header, or RFC 9421's
    ``Signature``), if it carries one."""
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
    if message_signatures.present(headers):
        return await _verify_message_signature(
            db, settings, method=method, target=target, headers=headers, body=body, now=now
        )
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
    if settings.allowlist_federation and not await federates_with(db, settings, parsed.key_id):
        raise NotFederated("the key's server is not federated with")
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


async def _verify_message_signature(
    db: Database,
    settings: Settings,
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime | None,
) -> SignedBy:
    found = message_signatures.parse(headers)
    if len(found) != 1:
        raise SignatureRefused("only one signature is accepted")
    (signature,) = found
    key_id = signature.key_id
    if key_id is None:
        raise SignatureRefused("the signature names no key")
    _check_coverage(signature, target, body)
    if body is not None:
        message_signatures.check_content_digest(headers, body)
    _check_created(signature, now or utcnow())
    if not uris.peer_url_allowed(settings, key_id):
        raise SignatureRefused("the key is not at an address Roost fetches from")
    if settings.allowlist_federation and not await federates_with(db, settings, key_id):
        raise NotFederated("the key's server is not federated with")
    authority = next((v for k, v in headers.items() if k.lower() == "host"), "")
    request = message_signatures.Request(
        method=method,
        scheme=urlsplit(settings.base_url).scheme,
        authority=authority,
        target=target,
        headers=headers,
    )
    cached = await _cached_key(db, key_id)
    if cached is not None:
        try:
            _verify_message_with(cached, signature, request)
            return SignedBy(key_id, cached.owner)
        except SignatureRefused:
            pass  # perhaps rotated: fetched again below, once
    fresh = await _fetch_key(db, settings, key_id)
    _verify_message_with(fresh, signature, request)
    return SignedBy(key_id, fresh.owner)


def _check_coverage(
    signature: message_signatures.MessageSignature, target: str, body: bytes | None
) -> None:
    if signature.created is None:
        raise SignatureRefused("the signature has no creation time")
    missing = []
    if not signature.covers("@method"):
        missing.append("@method")
    has_query = bool(urlsplit(target).query)
    target_covered = (
        signature.covers("@target-uri")
        or signature.covers("@request-target")
        or (
            signature.covers("@authority")
            and signature.covers("@path")
            and (signature.covers("@query") or not has_query)
        )
    )
    if not target_covered:
        missing.append("@target-uri")
    if body is not None and not signature.covers("content-digest"):
        missing.append("content-digest")
    if missing:
        raise SignatureRefused(f"the signature does not cover {', '.join(missing)}")


def _check_created(signature: message_signatures.MessageSignature, now: datetime) -> None:
    created = signature.created
    if created is None:
        raise SignatureRefused("the signature has no creation time")
    try:
        moment = datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise SignatureRefused("the creation time is malformed") from None
    if moment > now + signatures.SKEW or moment < now - signatures.MAX_AGE - signatures.SKEW:
        raise SignatureRefused("the creation time is outside the accepted window")
    expires = signature.expires
    if expires is not None and expires < (now - signatures.SKEW).timestamp():
        raise SignatureRefused("the signature has expired")


def _verify_message_with(
    key: _Key,
    signature: message_signatures.MessageSignature,
    request: message_signatures.Request,
) -> None:
    try:
        public_key = message_signatures.load_public_key(key.pem)
    except ValueError:
        raise SignatureRefused("the key is neither RSA nor Ed25519") from None
    message_signatures.verify(public_key, signature, request)


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
    """The key ``key_id`` in an actor document (``publicKey``: one or a list;
    ``assertionMethod``: Multikeys, FEP-521a, of which Ed25519 ones are
    read) or a key document itself."""
    if not isinstance(document, dict):
        return None
    candidates: list[Any] = [document]
    for field in ("publicKey", "assertionMethod"):
        published = document.get(field)
        if isinstance(published, list):
            candidates += published
        elif published is not None:
            candidates.append(published)
    for candidate in candidates:
        if not isinstance(candidate, dict) or candidate.get("id") != key_id:
            continue
        pem = candidate.get("publicKeyPem")
        owner = candidate.get("owner") or candidate.get("controller") or document.get("id")
        multibase = candidate.get("publicKeyMultibase")
        if pem is None and isinstance(multibase, str):
            try:
                pem = message_signatures.ed25519_pem_from_multibase(multibase)
            except ValueError:
                continue
        if isinstance(pem, str) and isinstance(owner, str):
            return _Key(owner, pem)
    return None


async def _fetch_key(db: Database, settings: Settings, key_id: str) -> _Key:
    url, _ = urldefrag(key_id)
    try:
        fetched = await signing.signed_fetch(
            db,
            settings,
            url,
            await signing.instance_key(db, settings),
            accept=ACCEPT,
            max_bytes=MAX_KEY_DOCUMENT_BYTES,
        )
    except OutboundRefused as error:
        raise SignatureRefused(f"the key could not be fetched: {error}") from None
    if fetched.status in (404, 410):
        raise KeyGone(f"the key's address answered {fetched.status}", key_id)
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
