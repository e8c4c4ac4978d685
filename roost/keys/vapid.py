"""The instance's VAPID key (RFC 8292): who signs Web Push requests.

Made once, the first time it is asked for: 32 random bytes kept in the key
store (roost/keys/store.py) under ``VAPID_KEY_ID``, beside the other keys and
outside the data backups, and read as a P-256 private key. Every process
reading the same key store signs with the same key, so subscriptions made
through one server keep working through another. Clients learn the public
half from the instance entity (``configuration.vapid.public_key``) and their
app's ``vapid_key``; a push service checks each request's signature with it.
"""

from __future__ import annotations

import base64
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from roost.keys import ring

VAPID_KEY_ID = ring.VAPID_KEY_ID
# secp256r1's group order.
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

_lock = threading.Lock()
# The key, and the key store it was read from (a process that installs
# another store, as each test does, reads the key again).
_cached: tuple[object, ec.EllipticCurvePrivateKey] | None = None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def private_key() -> ec.EllipticCurvePrivateKey:
    global _cached
    store = ring.store()
    with _lock:
        if _cached is None or _cached[0] is not store:
            seed = store.get_or_create(VAPID_KEY_ID)
            scalar = int.from_bytes(seed, "big") % (_ORDER - 1) + 1
            _cached = (store, ec.derive_private_key(scalar, ec.SECP256R1()))
        return _cached[1]


def public_key_bytes() -> bytes:
    """The uncompressed point (65 bytes)."""
    return (
        private_key()
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def public_key() -> str:
    """As Mastodon shows it: URL-safe base64, with its padding."""
    return base64.urlsafe_b64encode(public_key_bytes()).decode()


def jwt(audience: str, subject: str, lifetime_s: int = 12 * 3600) -> str:
    """A VAPID token (ES256 JWT) for the push service at ``audience``."""
    header = b64url(b'{"typ":"JWT","alg":"ES256"}')
    expires = int(time.time()) + lifetime_s
    claims = f'{{"aud":"{audience}","exp":{expires},"sub":"{subject}"}}'
    body = b64url(claims.encode())
    signing_input = f"{header}.{body}".encode()
    der = private_key().sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{header}.{body}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
