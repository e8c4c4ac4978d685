"""The domain as the world sees it: does it resolve, and when does its
certificate run out? Used by `roost doctor`."""

from __future__ import annotations

import asyncio
import socket
import ssl
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


async def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to; raises OSError when it does not."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, None), TIMEOUT_S)
    return sorted({str(info[4][0]) for info in infos})


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
