"""HTTP Message Signatures (RFC 9421) against the RFC's own examples.

Source: RFC 9421, appendix B.1 (the example keys test-key-rsa-pss and
test-key-ed25519), B.2 (the test request of its section 2.4, as appendix
B.2 signs it) and the published signatures of B.2.1, B.2.2, B.2.3 (RSA-PSS
with SHA-512) and B.2.6 (Ed25519), with their signature bases. B.2.4 signs a
response and B.2.5 is HMAC with a shared secret: neither is a request a
fediverse server receives, so they are not here. The Content-Digest values
are RFC 9530's (and the RFC 9421 test request's)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from roost.net import message_signatures as ms
from roost.net.signatures import SignatureRefused

# RFC 9421, B.1.2: test-key-rsa-pss (the public half).
RSA_PSS_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----"""

# RFC 9421, B.1.4: test-key-ed25519.
ED25519_PUBLIC = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----"""
ED25519_PRIVATE = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----"""

# RFC 9421, section 2.4 / appendix B.2: the test request.
BODY = b'{"hello": "world"}'
HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+"
        "AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
    ),
    "Content-Length": "18",
}
TARGET = "/foo?param=Value&Pet=dog"

B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++"
    "wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72"
    "rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/Q"
    "EVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
B21_BASE = (
    '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";'
    'nonce="b3k2pp5k7z-50gnwp.yemd"'
)

B22_INPUT = (
    'sig-b22=("@authority" "content-digest" "@query-param";name="Pet");'
    'created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
)
B22_SIGNATURE = (
    "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfK"
    "tjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEf"
    "Y17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4j"
    "Y3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:"
)
B22_BASE = "\n".join(
    [
        '"@authority": example.com',
        '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu'
        "7BNNyealdVLvRwEmTHWXvJwew==:",
        '"@query-param";name="Pet": dog',
        '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet")'
        ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"',
    ]
)

B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
    '"content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt"
    "683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvK"
    "iLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8u"
    "i9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:"
)
B23_BASE = "\n".join(
    [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@query": ?param=Value&Pet=dog',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu'
        "7BNNyealdVLvRwEmTHWXvJwew==:",
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" '
        '"content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"',
    ]
)

B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");'
    'created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPp"
    "BKRCw==:"
)
B26_BASE = "\n".join(
    [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"',
    ]
)

VECTORS = {
    "B.2.1": (B21_INPUT, B21_SIGNATURE, B21_BASE, RSA_PSS_PUBLIC, "rsa-pss-sha512"),
    "B.2.2": (B22_INPUT, B22_SIGNATURE, B22_BASE, RSA_PSS_PUBLIC, "rsa-pss-sha512"),
    "B.2.3": (B23_INPUT, B23_SIGNATURE, B23_BASE, RSA_PSS_PUBLIC, "rsa-pss-sha512"),
    "B.2.6": (B26_INPUT, B26_SIGNATURE, B26_BASE, ED25519_PUBLIC, None),
}


def _request(signature_input: str, signature: str, **changed: str) -> ms.Request:
    headers = dict(HEADERS, **{"Signature-Input": signature_input, "Signature": signature})
    target = changed.pop("target", TARGET)
    method = changed.pop("method", "POST")
    headers.update(changed)
    return ms.Request(method, "https", "example.com", target, headers)


@pytest.mark.parametrize("section", sorted(VECTORS))
def test_given_the_rfc_examples_when_their_base_is_rebuilt_then_it_is_the_rfcs(
    section: str,
) -> None:
    signature_input, signature, base, _, _ = VECTORS[section]
    (parsed,) = ms.parse(_request(signature_input, signature).headers)
    assert ms.signature_base(parsed, _request(signature_input, signature)) == base


@pytest.mark.parametrize("section", sorted(VECTORS))
def test_given_the_rfc_examples_when_verified_with_the_rfc_keys_then_they_hold(
    section: str,
) -> None:
    signature_input, signature, _, public, alg = VECTORS[section]
    request = _request(signature_input, signature)
    (parsed,) = ms.parse(request.headers)
    if alg is not None:
        # The RFC's examples name no ``alg``: the verifier knows the key's
        # (an RSA key alone means rsa-v1_5-sha256 to Roost, as to Mastodon).
        ms.verify_with_algorithm(ms.load_public_key(public), parsed, request, alg)
    else:
        ms.verify(ms.load_public_key(public), parsed, request)


@pytest.mark.parametrize(
    "changed",
    [
        {"Date": "Tue, 20 Apr 2021 02:07:56 GMT"},
        {"Content-Type": "text/plain"},
        {"method": "PUT"},
        {"target": "/bar?param=Value&Pet=dog"},
    ],
    ids=["date", "content-type", "method", "path"],
)
def test_given_the_ed25519_example_with_a_covered_part_changed_when_verified_then_refused(
    changed: dict[str, str],
) -> None:
    request = _request(B26_INPUT, B26_SIGNATURE, **changed)
    (parsed,) = ms.parse(request.headers)
    with pytest.raises(SignatureRefused):
        ms.verify(ms.load_public_key(ED25519_PUBLIC), parsed, request)


def test_given_the_rsa_pss_example_with_its_pet_changed_when_verified_then_refused() -> None:
    request = _request(B22_INPUT, B22_SIGNATURE, target="/foo?param=Value&Pet=cat")
    (parsed,) = ms.parse(request.headers)
    with pytest.raises(SignatureRefused):
        ms.verify_with_algorithm(
            ms.load_public_key(RSA_PSS_PUBLIC), parsed, request, "rsa-pss-sha512"
        )


def test_given_the_rfc_ed25519_key_when_roost_signs_b26_then_the_signature_is_the_rfcs() -> None:
    key = serialization.load_pem_private_key(ED25519_PRIVATE.encode(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    request = ms.Request("POST", "https", "example.com", TARGET, HEADERS)
    signed = ms.sign(
        key,
        request,
        ("date", "@method", "@path", "@authority", "content-type", "content-length"),
        (("created", 1618884473), ("keyid", "test-key-ed25519")),
        label="sig-b26",
    )
    assert signed == {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}


def test_given_the_rfc_test_body_when_digested_then_the_content_digest_is_rfc_9530s() -> None:
    # RFC 9530, section 2 (and RFC 9421's test request): the body's SHA-256
    # and SHA-512 digests.
    assert ms.content_digest(BODY) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    ms.check_content_digest(HEADERS, BODY)
    ms.check_content_digest({"Content-Digest": ms.content_digest(BODY)}, BODY)
    with pytest.raises(SignatureRefused):
        ms.check_content_digest(HEADERS, BODY + b" ")
    with pytest.raises(SignatureRefused):
        ms.check_content_digest({"Content-Digest": "md5=:AAAA:"}, BODY)
    with pytest.raises(SignatureRefused):
        ms.check_content_digest({}, BODY)


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ('sig1=("@method";bs);created=1', "sig1=:AAAA:"),
        ('sig1=("@status");created=1', "sig1=:AAAA:"),
        ('sig1=("@method" "@method");created=1', "sig1=:AAAA:"),
        ('sig1=("@method");created=1;alg="hmac-sha256"', "sig1=:AAAA:"),
        ('sig1=("@method");created=1', "sig2=:AAAA:"),
        ('sig1="@method";created=1', "sig1=:AAAA:"),
        ('sig1=("@method" created=1', "sig1=:AAAA:"),
        ('sig1=("@method");created=1', "sig1=AAAA"),
    ],
    ids=[
        "field-params",
        "status",
        "twice",
        "hmac",
        "no-value",
        "not-a-list",
        "unclosed",
        "no-bytes",
    ],
)
def test_given_a_malformed_or_unsupported_signature_when_checked_then_refused(
    signature_input: str, signature: str
) -> None:
    request = _request(signature_input, signature)
    with pytest.raises(SignatureRefused):
        (parsed,) = ms.parse(request.headers)
        ms.verify(ms.load_public_key(ED25519_PUBLIC), parsed, request)


def test_given_an_rsa_key_when_a_signature_names_ed25519_then_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    request = ms.Request("GET", "https", "example.com", "/", {})
    signed = ms.sign(key, request, ("@method", "@target-uri"), (("created", 1),))
    headers = dict(signed)
    headers["Signature-Input"] += ';alg="ed25519"'
    (parsed,) = ms.parse(headers)
    with pytest.raises(SignatureRefused):
        ms.verify(key.public_key(), parsed, ms.Request("GET", "https", "example.com", "/", headers))


def test_given_roosts_own_rsa_signature_when_verified_then_it_holds_as_rsa_v1_5() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    request = ms.Request("POST", "https", "example.com", "/inbox", {"Content-Digest": "x"})
    signed = ms.sign(
        key, request, ("@method", "@target-uri", "content-digest"), (("created", 1), ("keyid", "k"))
    )
    headers = dict(request.headers, **signed)
    (parsed,) = ms.parse(headers)
    received = ms.Request("POST", "https", "example.com", "/inbox", headers)
    assert ms.signature_base(parsed, received).startswith(
        '"@method": POST\n"@target-uri": https://example.com/inbox\n"content-digest": x\n'
    )
    ms.verify(key.public_key(), parsed, received)
    assert base64.b64decode(signed["Signature"][len("sig1=:") : -1]) == parsed.signature
