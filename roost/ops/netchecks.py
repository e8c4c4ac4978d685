"""The domain as the world sees it: does it resolve, and when does its
certificate run out? Used by `roost doctor`."""

from __future__ import annotations

import asyncio
import secrets
import socket
import ssl
import struct
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address

from cryptography import x509

TIMEOUT_S = 5.0
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}


def host_and_port(domain: str, default_port: int = 443) -> tuple[str, int]:
    host, sep, port = domain.rpartition(":")
    if sep and host and port.isdigit() and ":" not in host:
        return host, int(port)
    return domain, default_port


def is_local(host: str) -> bool:
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


async def resolve(host: str, nameserver: tuple[str, int] | None = None) -> list[str]:
    """The addresses ``host`` resolves to; raises OSError when it does not.

    With ``nameserver``, that server is asked directly (A and AAAA records)
    instead of this machine's resolver, whose /etc/hosts entries and caches
    can go on answering the old address after the record changed."""
    if nameserver is None:
        loop = asyncio.get_running_loop()
        infos = await asyncio.wait_for(loop.getaddrinfo(host, None), TIMEOUT_S)
        return sorted({str(info[4][0]) for info in infos})
    found: set[str] = set()
    for qtype in (QTYPE_A, QTYPE_AAAA):
        found.update(await asyncio.to_thread(_ask, nameserver, host, qtype))
    if not found:
        raise OSError(f"{nameserver[0]}:{nameserver[1]} has no A or AAAA record for {host}")
    return sorted(found)


QTYPE_A, QTYPE_AAAA = 1, 28
_RCODES = {1: "format error", 2: "server failure", 3: "no such name (NXDOMAIN)", 5: "refused"}


def encode_name(host: str) -> bytes:
    labels = [label.encode("idna") for label in host.rstrip(".").split(".")]
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"


def _skip_name(packet: bytes, at: int) -> int:
    while True:
        length = packet[at]
        if length & 0xC0 == 0xC0:  # a pointer ends the name
            return at + 2
        if length == 0:
            return at + 1
        at += 1 + length


def _ask(nameserver: tuple[str, int], host: str, qtype: int) -> list[str]:
    """One DNS query over UDP (RFC 1035): the answer's addresses of ``qtype``.
    An empty list when the name exists without such records; OSError when the
    server says the name does not exist, fails, or does not answer."""
    ident = secrets.randbits(16)
    query = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    query += encode_name(host) + struct.pack("!HH", qtype, 1)
    family = socket.AF_INET6 if ":" in nameserver[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT_S)
        sock.sendto(query, nameserver)
        while True:
            packet, _ = sock.recvfrom(4096)
            if len(packet) >= 12 and struct.unpack("!H", packet[:2])[0] == ident:
                break
    _, flags, qdcount, ancount, _, _ = struct.unpack("!HHHHHH", packet[:12])
    rcode = flags & 0x000F
    if rcode:
        raise OSError(f"{nameserver[0]}:{nameserver[1]} answers {_RCODES.get(rcode, rcode)}")
    at = 12
    for _ in range(qdcount):
        at = _skip_name(packet, at) + 4
    addresses = []
    for _ in range(ancount):
        at = _skip_name(packet, at)
        rtype, _, _, length = struct.unpack("!HHIH", packet[at : at + 10])
        data = packet[at + 10 : at + 10 + length]
        at += 10 + length
        if rtype == qtype == QTYPE_A:
            addresses.append(socket.inet_ntop(socket.AF_INET, data))
        elif rtype == qtype == QTYPE_AAAA:
            addresses.append(socket.inet_ntop(socket.AF_INET6, data))
    return addresses


@dataclass(frozen=True)
class Certificate:
    not_after: datetime
    verifies: bool
    problem: str | None


def _fetch(host: str, port: int, verify: bool) -> bytes:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=TIMEOUT_S) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError("the server sent no certificate")
    return der


async def certificate(host: str, port: int) -> Certificate:
    """The served certificate's expiry, and whether it verifies for ``host``.
    Raises OSError (ssl.SSLError included) when no TLS answers there."""
    problem = None
    try:
        der = await asyncio.to_thread(_fetch, host, port, True)
        verifies = True
    except ssl.SSLCertVerificationError as error:
        problem = error.verify_message or str(error)
        der = await asyncio.to_thread(_fetch, host, port, False)
        verifies = False
    cert = x509.load_der_x509_certificate(der)
    return Certificate(cert.not_valid_after_utc, verifies, problem)
