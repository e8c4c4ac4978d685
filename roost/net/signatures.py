"""HTTP Signatures as Mastodon uses them (draft-cavage-http-signatures-12,
``rsa-sha256``), and the ``Digest`` header they cover.

Signing: ``signed_headers`` gives the headers a request must carry (``Host``,
``Date``, ``Digest`` for a body, and ``Signature`` over ``(request-target)
host date`` plus ``digest`` when there is a body), as Mastodon sends them.
The outbound client (roost/net/http.py) calls a ``Signer`` for each request
it makes, redirects included, so the signature always names the URL asked.

Verifying: ``parse_signature`` reads a ``Signature`` header, ``signing_string``
rebuilds what was signed from the request as received, and ``verify`` checks
the RSA signature with a public key. ``check_digest`` and ``check_date``
are the two checks a receiver makes beside it. This module knows no keys and
opens no connection: roost/domain/federation/verification.py finds the key
and decides.

Tested against draft-cavage's own test vectors (appendix C) and Mastodon's
description of what it signs (tests/net/test_signatures.py), and Mastodon's
published signed requests (tests/federation/test_published_vectors.py).
RFC 9421 (HTTP Message Signatures) is roost/net/message_signatures.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# Mastodon's window: a signature dated up to 12 hours ago is accepted, with an
# hour of clock skew either way (its ``EXPIRATION_WINDOW_LIMIT`` and
# ``CLOCK_SKEW_MARGIN``); a replay after that is refused.
MAX_AGE = timedelta(hours=12)
SKEW = timedelta(hours=1)
SIGNED_WITH_BODY = ("(request-target)", "host", "date", "digest")
SIGNED_WITHOUT_BODY = ("(request-target)", "host", "date")

Signer = Callable[[str, str, Mapping[str, str], bytes], dict[str, str]]
"""(method, url, headers, body) -> the headers to add to the request."""

_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


class SignatureRefused(Exception):
    """A request's signature is missing, malformed, stale, or does not verify;
    the message says which (for logs, never for the sender)."""


@dataclass(frozen=True)
class ParsedSignature:
    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes


def digest(body: bytes) -> str:
    """The ``Digest`` header's value for ``body``: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM (SubjectPublicKeyInfo, or PKCS#1 as some
    servers publish it); ValueError otherwise."""
    key = serialization.load_pem_public_key(pem.strip().encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def request_target(method: str, url_or_path: str) -> str:
    parts = urlsplit(url_or_path)
    path = parts.path or "/"
    return f"{method.lower()} {path}{'?' + parts.query if parts.query else ''}"


def signing_string(
    names: tuple[str, ...], method: str, target_path: str, headers: Mapping[str, str]
) -> str:
    """The text signed over ``names`` (header names, lower case, and
    ``(request-target)``). A named header the request lacks: SignatureRefused."""
    lowered = {k.lower(): v for k, v in headers.items()}
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {request_target(method, target_path)}")
        elif name in lowered:
            lines.append(f"{name}: {lowered[name].strip()}")
        else:
            raise SignatureRefused(f"the signed header {name!r} is missing")
    return "\n".join(lines)


def sign(
    private_key: rsa.RSAPrivateKey,
    key_id: str,
    method: str,
    url: str,
    headers: Mapping[str, str],
    names: tuple[str, ...],
) -> str:
    """The ``Signature`` header's value over ``names`` of this request."""
    text = signing_string(names, method, url, headers)
    raw = private_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(raw).decode()}"'
    )


def signed_headers(
    private_key: rsa.RSAPrivateKey,
    key_id: str,
    method: str,
    url: str,
    body: bytes,
    now: datetime,
) -> dict[str, str]:
    """The ``Host``, ``Date``, ``Digest`` (with a body) and ``Signature``
    headers of a request Roost sends, as Mastodon signs its own."""
    headers = {"Host": urlsplit(url).netloc, "Date": http_date(now)}
    names: tuple[str, ...] = SIGNED_WITHOUT_BODY
    if body or method.upper() == "POST":
        headers["Digest"] = digest(body)
        names = SIGNED_WITH_BODY
    headers["Signature"] = sign(private_key, key_id, method, url, headers, names)
    return headers


def parse_signature(value: str) -> ParsedSignature:
    """A ``Signature`` header (or an ``Authorization: Signature ...`` value)."""
    text = value.strip()
    if text.lower().startswith("signature "):
        text = text[len("signature ") :]
    params: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _PARAM.match(text, position)
        if match is None:
            raise SignatureRefused("the signature header is malformed")
        params[match.group(1)] = match.group(2)
        position = match.end()
    if "keyId" not in params or "signature" not in params:
        raise SignatureRefused("the signature names no key or carries no signature")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ("rsa-sha256", "hs2019"):
        raise SignatureRefused(f"the algorithm {algorithm!r} is not supported")
    try:
        raw = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused("the signature is not base64") from None
    names = tuple(params.get("headers", "date").lower().split())
    return ParsedSignature(params["keyId"], algorithm, names, raw)


def verify(
    public_key: rsa.RSAPublicKey,
    parsed: ParsedSignature,
    method: str,
    target_path: str,
    headers: Mapping[str, str],
) -> None:
    """Check ``parsed`` against the request with ``public_key`` (RSA
    PKCS#1 v1.5 over SHA-256); SignatureRefused when it does not hold."""
    text = signing_string(parsed.headers, method, target_path, headers)
    try:
        public_key.verify(parsed.signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureRefused("the signature does not verify") from None


def check_digest(headers: Mapping[str, str], body: bytes) -> None:
    """The ``Digest`` header names the SHA-256 of ``body``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("digest")
    if value is None:
        raise SignatureRefused("the body has no digest")
    for part in value.split(","):
        algorithm, _, encoded = part.strip().partition("=")
        if algorithm.lower() == "sha-256":
            if hmac.compare_digest(encoded.strip(), digest(body)[len("SHA-256=") :]):
                return
            raise SignatureRefused("the digest does not match the body")
    raise SignatureRefused("the digest is not SHA-256")


def check_date(headers: Mapping[str, str], now: datetime) -> None:
    """The ``Date`` header lies within ``MAX_AGE`` in the past and ``SKEW``
    either way of ``now``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        sent = parsedate_to_datetime(lowered.get("date", ""))
    except (TypeError, ValueError):
        raise SignatureRefused("the date is missing or malformed") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if sent > now + SKEW or sent < now - MAX_AGE - SKEW:
        raise SignatureRefused("the date is outside the accepted window")
