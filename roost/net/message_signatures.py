"""HTTP Message Signatures (RFC 9421) on requests, and the ``Content-Digest``
header they cover (RFC 9530): what a receiver needs to check one.

Above 500 lines: one specification read end to end (its Structured Field
parser, the signature base, the algorithms and the digest), each part used
only by the others; apart, they would be modules that nothing else imports.

``parse`` reads the ``Signature-Input`` and ``Signature`` fields (Structured
Field dictionaries, RFC 8941) into the signatures they carry;
``signature_base`` rebuilds what a signature covers from the request as
received; ``verify`` checks it with a public key by the algorithm it names
(or the key's own, as Mastodon assumes ``rsa-v1_5-sha256`` for an RSA key);
``check_content_digest`` checks the body. ``sign`` makes a signature the
same way, and ``signed_headers`` gives the fields of a request Roost sends
signed with RFC 9421 (roost/domain/federation/signing.py chooses when).

Supported:
  - derived components ``@method``, ``@target-uri``, ``@authority``,
    ``@scheme``, ``@request-target``, ``@path``, ``@query`` and
    ``@query-param`` (with ``name``), and header fields without parameters;
  - algorithms ``rsa-v1_5-sha256``, ``rsa-pss-sha512`` and ``ed25519``.
Anything else (``;sf``, ``;bs``, ``;key``, ``;req``, ``;tr`` on a field,
``@status``, HMAC, ECDSA) is refused rather than guessed.

This module knows no keys and opens no connection, and decides nothing about
which components a request must cover: roost/domain/federation/verification.py
does (what Mastodon requires: one signature, ``created``, ``@method``,
``@target-uri``, and ``content-digest`` with a body).

Tested against RFC 9421's own examples (appendix B.2: test-key-rsa-pss and
test-key-ed25519) in tests/net/test_message_signatures.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from roost.net.signatures import SignatureRefused, http_date


class Token(str):
    """A Structured Field token (serialized bare, unlike a string)."""


PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
BareItem = int | str | bytes | bool | Token
Params = tuple[tuple[str, BareItem], ...]

ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")
DERIVED = (
    "@method",
    "@target-uri",
    "@authority",
    "@scheme",
    "@request-target",
    "@path",
    "@query",
    "@query-param",
)
MAX_FIELD = 8192

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}(?![0-9.])")
_FIELD_NAME = re.compile(r"[a-z0-9!#$%&'*+\-.^_`|~]+")


@dataclass(frozen=True)
class Component:
    name: str
    params: Params = ()

    def identifier(self) -> str:
        return _serialize_string(self.name) + _serialize_params(self.params)


@dataclass(frozen=True)
class MessageSignature:
    """One signature of a request: its label, what it covers, its parameters
    (``created``, ``expires``, ``keyid``, ``alg``, ``nonce``, ``tag``) and
    the signature bytes."""

    label: str
    components: tuple[Component, ...]
    params: Params
    signature: bytes

    def param(self, name: str) -> BareItem | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def key_id(self) -> str | None:
        value = self.param("keyid")
        return value if isinstance(value, str) else None

    @property
    def created(self) -> int | None:
        value = self.param("created")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def expires(self) -> int | None:
        value = self.param("expires")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def algorithm(self) -> str | None:
        value = self.param("alg")
        return value if isinstance(value, str) else None

    def covers(self, name: str) -> bool:
        return any(component.name == name for component in self.components)

    def params_value(self) -> str:
        """The ``@signature-params`` value: the inner list as serialized."""
        inner = " ".join(component.identifier() for component in self.components)
        return f"({inner}){_serialize_params(self.params)}"


@dataclass(frozen=True)
class Request:
    """What of a received request a signature may cover."""

    method: str
    scheme: str
    authority: str
    target: str  # path and query as received
    headers: Mapping[str, str]

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.target).query


# --- Structured Fields (RFC 8941), the parts signatures use ---------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self) -> SignatureRefused:
        return SignatureRefused("the signature fields are malformed")

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def spaces(self) -> None:
        while self.peek() == " ":
            self.at += 1

    def ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.at += 1

    def key(self) -> str:
        match = _KEY.match(self.text, self.at)
        if match is None:
            raise self.fail()
        self.at = match.end()
        return match.group(0)

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            end = self.text.find(":", self.at + 1)
            if end < 0:
                raise self.fail()
            encoded = self.text[self.at + 1 : end]
            self.at = end + 1
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise self.fail() from None
        if char == "?":
            value = self.text[self.at + 1 : self.at + 2]
            if value not in ("0", "1"):
                raise self.fail()
            self.at += 2
            return value == "1"
        integer = _INTEGER.match(self.text, self.at)
        if integer is not None:
            self.at = integer.end()
            return int(integer.group(0))
        token = _TOKEN.match(self.text, self.at)
        if token is not None:
            self.at = token.end()
            return Token(token.group(0))
        raise self.fail()

    def string(self) -> str:
        self.at += 1  # the opening quote
        out = []
        while self.at < len(self.text):
            char = self.text[self.at]
            self.at += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail()
                out.append(escaped)
                self.at += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise self.fail()
            else:
                out.append(char)
        raise self.fail()

    def params(self) -> Params:
        found: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.at += 1
            self.spaces()
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.at += 1
                value = self.bare_item()
            found[name] = value
        return tuple(found.items())

    def inner_list(self) -> tuple[list[tuple[BareItem, Params]], Params]:
        if self.peek() != "(":
            raise self.fail()
        self.at += 1
        items: list[tuple[BareItem, Params]] = []
        while True:
            self.spaces()
            if self.peek() == ")":
                self.at += 1
                return items, self.params()
            item = self.bare_item()
            items.append((item, self.params()))
            if self.peek() not in (" ", ")"):
                raise self.fail()

    def dictionary(self) -> dict[str, tuple[object, Params]]:
        members: dict[str, tuple[object, Params]] = {}
        self.spaces()
        while self.at < len(self.text):
            name = self.key()
            member: tuple[object, Params]
            if self.peek() == "=":
                self.at += 1
                if self.peek() == "(":
                    member = self.inner_list()
                else:
                    member = (self.bare_item(), self.params())
            else:
                member = (True, self.params())
            members[name] = member
            self.ows()
            if self.at >= len(self.text):
                break
            if self.peek() != ",":
                raise self.fail()
            self.at += 1
            self.ows()
            if self.at >= len(self.text):
                raise self.fail()  # a trailing comma
        return members


def _serialize_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_bare(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode() + ":"
    if isinstance(value, Token):
        return str(value)
    return _serialize_string(value)


def _serialize_params(params: Params) -> str:
    return "".join(
        f";{name}" if value is True else f";{name}={_serialize_bare(value)}"
        for name, value in params
    )


# --- Reading the fields -----------------------------------------------------------


def _field(headers: Mapping[str, str], name: str) -> str | None:
    """The field's value; several lines of it joined by ", " (RFC 9421
    section 2.1), each with its surrounding spaces removed."""
    values = [value.strip() for key, value in headers.items() if key.lower() == name]
    return ", ".join(values) if values else None


def present(headers: Mapping[str, str]) -> bool:
    """The request carries an RFC 9421 signature (a ``Signature-Input``)."""
    return _field(headers, "signature-input") is not None


def parse(headers: Mapping[str, str]) -> list[MessageSignature]:
    """The signatures of a request, in the order of ``Signature-Input``."""
    inputs_text = _field(headers, "signature-input")
    signatures_text = _field(headers, "signature")
    if inputs_text is None or signatures_text is None:
        raise SignatureRefused("the request carries no signature and signature input both")
    if len(inputs_text) > MAX_FIELD or len(signatures_text) > MAX_FIELD:
        raise SignatureRefused("the signature fields are too long")
    inputs = _Parser(inputs_text).dictionary()
    values = _Parser(signatures_text).dictionary()
    found = []
    for label, (member, params) in inputs.items():
        if not isinstance(member, list):
            raise SignatureRefused("a signature input is not a list of components")
        signature = values.get(label)
        if signature is None or not isinstance(signature[0], bytes):
            raise SignatureRefused(f"the signature {label!r} has no value")
        components = []
        for item, item_params in member:
            if not isinstance(item, str) or isinstance(item, Token):
                raise SignatureRefused("a covered component is not a string")
            components.append(Component(item, item_params))
        if len({c.identifier() for c in components}) != len(components):
            raise SignatureRefused("a component is covered twice")
        found.append(MessageSignature(label, tuple(components), params, signature[0]))
    if not found:
        raise SignatureRefused("the signature input is empty")
    return found


# --- The signature base -------------------------------------------------------------


def _query_params(query: str, name: str) -> list[str]:
    """The values of the query parameter ``name``, each decoded and
    re-encoded as RFC 9421 section 2.2.8 says."""
    return [
        quote(value, safe="")
        for key, value in parse_qsl(query, keep_blank_values=True)
        if quote(key, safe="") == name
    ]


def _component_values(component: Component, request: Request) -> list[str]:
    name = component.name
    params = dict(component.params)
    if name == "@query-param":
        wanted = params.pop("name", None)
        if params or not isinstance(wanted, str):
            raise SignatureRefused("@query-param needs a name and nothing else")
        values = _query_params(request.query, wanted)
        if len(values) != 1:
            raise SignatureRefused(f"the query parameter {wanted!r} is not there exactly once")
        return values
    if params:
        raise SignatureRefused(f"the component {component.identifier()} is not supported")
    if name == "@method":
        return [request.method.upper()]
    if name == "@authority":
        return [request.authority.lower()]
    if name == "@scheme":
        return [request.scheme.lower()]
    if name == "@target-uri":
        return [f"{request.scheme.lower()}://{request.authority.lower()}{request.target}"]
    if name == "@request-target":
        return [request.target]
    if name == "@path":
        return [request.path]
    if name == "@query":
        return ["?" + request.query]
    if name.startswith("@"):
        raise SignatureRefused(f"the component {name!r} is not supported")
    if not _FIELD_NAME.fullmatch(name):
        raise SignatureRefused("a covered field name is malformed")
    value = _field(request.headers, name)
    if value is None:
        raise SignatureRefused(f"the signed field {name!r} is missing")
    return [value]


def signature_base(signature: MessageSignature, request: Request) -> str:
    """The text ``signature`` signs, rebuilt from ``request`` (RFC 9421
    section 2.5); SignatureRefused when a component cannot be had."""
    lines = []
    for component in signature.components:
        if component.name == "@signature-params":
            raise SignatureRefused("@signature-params cannot be covered")
        for value in _component_values(component, request):
            lines.append(f"{component.identifier()}: {value}")
    lines.append(f'"@signature-params": {signature.params_value()}')
    return "\n".join(lines)


# --- Keys and algorithms ---------------------------------------------------------------


def load_public_key(pem: str) -> PublicKey:
    """An RSA or Ed25519 public key from PEM; ValueError for anything else."""
    key = serialization.load_pem_public_key(pem.strip().encode())
    if not isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise ValueError("neither an RSA nor an Ed25519 public key")
    return key


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_MULTICODEC = b"\xed\x01"


def ed25519_pem_from_multibase(value: str) -> str:
    """The PEM of an Ed25519 public key given as a Multikey's
    ``publicKeyMultibase`` (``z`` and base58btc of 0xed01 and the 32 key
    bytes, FEP-521a); ValueError for anything else."""
    if not value.startswith("z") or len(value) > 64:
        raise ValueError("not a base58btc multibase value")
    number = 0
    for char in value[1:]:
        digit = _BASE58.find(char)
        if digit < 0:
            raise ValueError("not base58")
        number = number * 58 + digit
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(value[1:]) - len(value[1:].lstrip("1"))) + raw
    if len(raw) != 34 or not raw.startswith(_ED25519_MULTICODEC):
        raise ValueError("not an Ed25519 multikey")
    key = ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def ed25519_multibase(key: ed25519.Ed25519PublicKey) -> str:
    """The ``publicKeyMultibase`` of an Ed25519 public key."""
    raw = _ED25519_MULTICODEC + key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    number = int.from_bytes(raw, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = _BASE58[digit] + out
    return "z" + out


def algorithm_for(signature: MessageSignature, key: PublicKey) -> str:
    """The algorithm to verify with: the one the signature names, if it fits
    the key, else the key's own (``rsa-v1_5-sha256`` for RSA, as Mastodon
    assumes; ``ed25519``)."""
    named = signature.algorithm
    if named is not None and named not in ALGORITHMS:
        raise SignatureRefused(f"the algorithm {named!r} is not supported")
    is_rsa = isinstance(key, rsa.RSAPublicKey)
    if named is None:
        return "rsa-v1_5-sha256" if is_rsa else "ed25519"
    if is_rsa != named.startswith("rsa-"):
        raise SignatureRefused("the algorithm does not fit the key")
    return named


def verify(key: PublicKey, signature: MessageSignature, request: Request) -> None:
    """Check ``signature`` over ``request`` with ``key``, by the algorithm
    ``algorithm_for`` chooses; SignatureRefused when it does not hold."""
    verify_with_algorithm(key, signature, request, algorithm_for(signature, key))


def verify_with_algorithm(
    key: PublicKey, signature: MessageSignature, request: Request, algorithm: str
) -> None:
    """Check ``signature`` with ``key`` by ``algorithm`` (which the verifier
    knows for the key, as RFC 9421 allows when ``alg`` is absent)."""
    if algorithm not in ALGORITHMS:
        raise SignatureRefused(f"the algorithm {algorithm!r} is not supported")
    base = signature_base(signature, request).encode()
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            if algorithm != "ed25519":
                raise SignatureRefused("the algorithm does not fit the key")
            key.verify(signature.signature, base)
        elif algorithm == "rsa-pss-sha512":
            key.verify(
                signature.signature,
                base,
                padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
                hashes.SHA512(),
            )
        elif algorithm == "rsa-v1_5-sha256":
            key.verify(signature.signature, base, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise SignatureRefused("the algorithm does not fit the key")
    except InvalidSignature:
        raise SignatureRefused("the signature does not verify") from None


def sign(
    key: PrivateKey,
    request: Request,
    components: tuple[str, ...],
    params: Params,
    label: str = "sig1",
) -> dict[str, str]:
    """The ``Signature-Input`` and ``Signature`` fields signing ``request``
    over ``components`` with ``params`` (``rsa-v1_5-sha256`` for an RSA key,
    unless ``alg`` names ``rsa-pss-sha512``; ``ed25519``)."""
    unsigned = MessageSignature(label, tuple(Component(c) for c in components), params, b"")
    base = signature_base(unsigned, request).encode()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.sign(base)
    elif dict(params).get("alg") == "rsa-pss-sha512":
        raw = key.sign(
            base, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512()
        )
    else:
        raw = key.sign(base, padding.PKCS1v15(), hashes.SHA256())
    return {
        "Signature-Input": f"{label}={unsigned.params_value()}",
        "Signature": f"{label}=:{base64.b64encode(raw).decode()}:",
    }


# What Roost covers when it signs a request (as Mastodon requires of one it
# verifies): the method and the whole target, and the body's digest.
SIGNED_WITHOUT_BODY = ("@method", "@target-uri")
SIGNED_WITH_BODY = ("@method", "@target-uri", "content-digest")


def signed_headers(
    private_key: rsa.RSAPrivateKey,
    key_id: str,
    method: str,
    url: str,
    body: bytes,
    now: datetime,
) -> dict[str, str]:
    """The ``Host``, ``Date``, ``Content-Digest`` (with a body, RFC 9530),
    ``Signature-Input`` and ``Signature`` fields of a request Roost sends
    signed with RFC 9421: one signature ``sig1`` over ``@method``,
    ``@target-uri`` (and ``content-digest``), with ``created``, ``keyid`` and
    ``alg="rsa-v1_5-sha256"`` (the algorithm Mastodon verifies for an RSA
    key). ``Date`` is sent, not covered (``created`` dates the signature)."""
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, "Date": http_date(now)}
    components: tuple[str, ...] = SIGNED_WITHOUT_BODY
    if body or method.upper() == "POST":
        headers["Content-Digest"] = content_digest(body)
        components = SIGNED_WITH_BODY
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = Request(method, parts.scheme, parts.netloc, target, headers)
    params: Params = (
        ("created", int(now.timestamp())),
        ("keyid", key_id),
        ("alg", "rsa-v1_5-sha256"),
    )
    return headers | sign(private_key, request, components, params)


# --- Content-Digest (RFC 9530) ----------------------------------------------------------


def content_digest(body: bytes) -> str:
    """The ``Content-Digest`` field for ``body`` (SHA-256)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def check_content_digest(headers: Mapping[str, str], body: bytes) -> None:
    """``Content-Digest`` names the body's SHA-256 or SHA-512 (every such
    member must match; at least one must be there)."""
    value = _field(headers, "content-digest")
    if value is None:
        raise SignatureRefused("the body has no content digest")
    members = _Parser(value).dictionary()
    checked = False
    for algorithm, (member, _) in members.items():
        if algorithm not in ("sha-256", "sha-512"):
            continue
        if not isinstance(member, bytes):
            raise SignatureRefused("the content digest is malformed")
        expected = (hashlib.sha256 if algorithm == "sha-256" else hashlib.sha512)(body).digest()
        if not hmac.compare_digest(member, expected):
            raise SignatureRefused("the content digest does not match the body")
        checked = True
    if not checked:
        raise SignatureRefused("the content digest is neither SHA-256 nor SHA-512")
