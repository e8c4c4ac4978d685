"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP).

Written here rather than taken from a library: it is twenty lines of the
standard library's ``hmac``, checked against the RFC's own test vectors
(tests/domain/test_totp.py). SHA-1, 6 digits, 30-second steps: what every
authenticator app reads from an ``otpauth://`` link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_S = 30
DIGITS = 6


def new_secret() -> str:
    """160 random bits in base32, as RFC 4226 recommends."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def hotp(secret: str, counter: int, digits: int = DIGITS) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_at(moment: float | None = None) -> int:
    return int((time.time() if moment is None else moment) // STEP_S)


def code_at(secret: str, moment: float | None = None) -> str:
    return hotp(secret, step_at(moment))


def matching_step(secret: str, code: str, now: float | None = None, drift: int = 1) -> int | None:
    """The time step ``code`` belongs to, within ``drift`` steps of now (a
    phone's clock a little off), or None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = step_at(now)
    for step in range(current - drift, current + drift + 1):
        if hmac.compare_digest(hotp(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    label = quote(f"{issuer}:{account}")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS})
    return f"otpauth://totp/{label}?{query}&period={STEP_S}"
