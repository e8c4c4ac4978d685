"""TOTP as RFC 6238 defines it: its own test vectors (SHA-1, 8 digits)."""

from __future__ import annotations

import pytest

from roost.domain.accounts import totp

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # b"12345678901234567890" in base32


@pytest.mark.parametrize(
    ("moment", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_the_rfc_6238_vectors(moment: int, code: str) -> None:
    assert totp.hotp(SECRET, totp.step_at(moment), digits=8) == code


def test_a_code_matches_its_step_and_its_neighbours_only() -> None:
    now = 1_700_000_000.0
    code = totp.code_at(SECRET, now)
    assert totp.matching_step(SECRET, code, now) == totp.step_at(now)
    assert totp.matching_step(SECRET, code, now + 30) == totp.step_at(now)
    assert totp.matching_step(SECRET, code, now + 90) is None
    assert totp.matching_step(SECRET, "12 34", now) is None


def test_the_provisioning_uri_names_the_issuer_and_account() -> None:
    uri = totp.provisioning_uri(SECRET, "wren@social.example.org", "Roost")
    assert uri.startswith("otpauth://totp/Roost%3Awren%40social.example.org?secret=" + SECRET)
    assert "issuer=Roost" in uri and "digits=6" in uri and "period=30" in uri
