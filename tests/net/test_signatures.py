"""HTTP Signatures against published test vectors: draft-cavage-http-signatures-12,
appendix C (its key, its request, its three signatures), and the shape of
signature Mastodon documents (docs.joinmastodon.org, spec/security)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from roost.net import signatures
from roost.net.signatures import SignatureRefused

# draft-cavage-http-signatures-12, appendix C: the "Test" key pair.
CAVAGE_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----"""
CAVAGE_PRIVATE = """-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----"""
BODY = b'{"hello": "world"}'
TARGET = "/foo?param=value&pet=dog"
HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
SENT = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)

DEFAULT_TEST = (
    'keyId="Test",algorithm="rsa-sha256",'
    'signature="SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz'
    "6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB"
    '6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="'
)
BASIC_TEST = (
    'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date", '
    'signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn'
    "7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBs"
    'kLu6kd9Fswtemr3lgdDEmn04swr2Os0="'
)
ALL_HEADERS_TEST = (
    'keyId="Test",algorithm="rsa-sha256",'
    'headers="(request-target) host date content-type digest content-length",'
    'signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs'
    "8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZF"
    'ukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="'
)


def _verify(header: str, headers: dict[str, str] = HEADERS, target: str = TARGET) -> None:
    parsed = signatures.parse_signature(header)
    signatures.verify(signatures.load_public_key(CAVAGE_PUBLIC), parsed, "POST", target, headers)


@pytest.mark.parametrize("header", [DEFAULT_TEST, BASIC_TEST, ALL_HEADERS_TEST])
def test_given_draft_cavage_appendix_c_signatures_when_verified_then_they_hold(
    header: str,
) -> None:
    _verify(header)


def test_given_the_authorization_header_form_when_parsed_then_it_verifies_too() -> None:
    _verify("Signature " + BASIC_TEST)


@pytest.mark.parametrize("header", [DEFAULT_TEST, BASIC_TEST, ALL_HEADERS_TEST])
def test_given_the_draft_key_when_roost_signs_the_same_text_then_the_signature_is_the_drafts(
    header: str,
) -> None:
    """RSA PKCS#1 v1.5 is deterministic: signing the draft's request with its
    key must give the draft's own signature, byte for byte."""
    parsed = signatures.parse_signature(header)
    key = signatures.load_private_key(CAVAGE_PRIVATE)
    ours = signatures.sign(key, "Test", "POST", TARGET, HEADERS, parsed.headers)
    assert signatures.parse_signature(ours).signature == parsed.signature


def test_given_the_drafts_signing_strings_when_rebuilt_then_they_match_appendix_c() -> None:
    assert signatures.signing_string(("date",), "POST", TARGET, HEADERS) == (
        "date: Sun, 05 Jan 2014 21:31:40 GMT"
    )
    names = ("(request-target)", "host", "date", "content-type", "digest", "content-length")
    assert signatures.signing_string(names, "POST", TARGET, HEADERS) == (
        "(request-target): post /foo?param=value&pet=dog\n"
        "host: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT\n"
        "content-type: application/json\n"
        "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
        "content-length: 18"
    )


def test_given_the_drafts_body_when_digested_then_the_digest_is_the_drafts() -> None:
    assert signatures.digest(BODY) == HEADERS["Digest"]
    signatures.check_digest(HEADERS, BODY)
    with pytest.raises(SignatureRefused, match="does not match"):
        signatures.check_digest(HEADERS, b'{"hello": "world!"}')


@pytest.mark.parametrize(
    "changed",
    [
        {"Date": "Sun, 05 Jan 2014 21:31:41 GMT"},
        {"Host": "example.org"},
        {"Content-Length": "19"},
    ],
)
def test_given_a_signed_header_changed_when_verified_then_refused(changed: dict[str, str]) -> None:
    with pytest.raises(SignatureRefused, match="does not verify"):
        _verify(ALL_HEADERS_TEST, {**HEADERS, **changed})


def test_given_another_path_when_verified_then_refused() -> None:
    with pytest.raises(SignatureRefused, match="does not verify"):
        _verify(BASIC_TEST, target="/foo?param=value&pet=cat")


def test_given_a_signed_header_missing_when_verified_then_refused() -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "Digest"}
    with pytest.raises(SignatureRefused, match="'digest' is missing"):
        _verify(ALL_HEADERS_TEST, headers)


@pytest.mark.parametrize(
    "header",
    [
        'keyId="Test",signature="not base64!"',
        'algorithm="rsa-sha256",signature="AAAA"',
        'keyId="Test",algorithm="hmac-sha256",signature="AAAA"',
        "keyId=Test,signature=AAAA",
    ],
)
def test_given_a_malformed_signature_header_when_parsed_then_refused(header: str) -> None:
    with pytest.raises(SignatureRefused):
        signatures.parse_signature(header)


def test_given_mastodons_documented_signature_when_parsed_then_its_parts_are_read() -> None:
    """The example of docs.joinmastodon.org (spec/security.md): a POST signed
    over ``(request-target) host date digest`` with the actor's main key. Its
    signature value is elided in the documentation, so only its shape and the
    signing string it describes can be checked."""
    parsed = signatures.parse_signature(
        'keyId="https://my.example.com/actor#main-key",'
        'headers="(request-target) host date digest",signature="Y2FiYW...IxNGRiZDk4ZA=="'.replace(
            "...", ""
        )
    )
    assert parsed.key_id == "https://my.example.com/actor#main-key"
    assert parsed.algorithm == "hs2019"  # absent: what the key's type says (RSA)
    assert parsed.headers == signatures.SIGNED_WITH_BODY
    text = signatures.signing_string(
        parsed.headers,
        "POST",
        "/inbox",
        {
            "Host": "mastodon.example",
            "Date": "Sun, 06 Nov 1994 08:49:37 GMT",
            "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
        },
    )
    assert text == (
        "(request-target): post /inbox\n"
        "host: mastodon.example\n"
        "date: Sun, 06 Nov 1994 08:49:37 GMT\n"
        "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
    )


def test_given_roosts_own_signed_headers_when_verified_then_they_hold_as_mastodon_signs() -> None:
    key = signatures.generate_private_key()
    url = "https://b.example/users/bob/inbox"
    sent = signatures.signed_headers(
        key, "https://a.example/users/alice#main-key", "POST", url, BODY, SENT
    )
    parsed = signatures.parse_signature(sent["Signature"])
    assert parsed.headers == ("(request-target)", "host", "date", "digest")
    assert sent["Host"] == "b.example" and sent["Digest"] == HEADERS["Digest"]
    public = signatures.load_public_key(signatures.public_pem(key))
    signatures.verify(public, parsed, "POST", "/users/bob/inbox", sent)
    get = signatures.signed_headers(key, "k", "GET", "http://127.0.0.1:8001/users/bob", b"", SENT)
    assert get["Host"] == "127.0.0.1:8001" and "Digest" not in get
    assert signatures.parse_signature(get["Signature"]).headers == signatures.SIGNED_WITHOUT_BODY


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(hours=-12), True),
        (timedelta(minutes=59), True),
        (timedelta(hours=-13, minutes=-1), False),
        (timedelta(hours=1, minutes=1), False),
    ],
)
def test_given_a_date_when_checked_then_only_the_window_is_accepted(
    offset: timedelta, accepted: bool
) -> None:
    headers = {"Date": signatures.http_date(SENT + offset)}
    if accepted:
        signatures.check_date(headers, SENT)
    else:
        with pytest.raises(SignatureRefused, match="window"):
            signatures.check_date(headers, SENT)
