"""The one outbound HTTP client: everything Roost fetches from elsewhere
(profile links to verify today; link cards, remote media and federation as
they come) goes through ``fetch``, and everything it sends (Web Push) through
``post``.

Guards, each tested against a local server (tests/net/test_http.py):

- **Addresses.** Every connection is made to an address this module resolved
  and checked itself, so a name that resolves to a private address, a DNS
  answer that changes between check and connect, and a redirect to an
  internal host are all refused: loopback, private, link-local, shared
  (100.64/10), multicast, reserved, site-local and unspecified addresses,
  IPv4 and IPv6 (and IPv6 addresses carrying an IPv4 one: mapped, 6to4,
  Teredo, NAT64), unless ``ROOST_OUTBOUND_ALLOW_PRIVATE`` is set (tests,
  labs) or the address lies in ``ROOST_OUTBOUND_ALLOWED_NETWORKS``.
- **Redirects** are followed by hand (at most ``MAX_REDIRECTS``), each hop an
  http(s) URL checked like the first.
- **Size**: the body is read up to ``ROOST_OUTBOUND_MAX_BYTES`` (or the
  caller's smaller limit); a larger one is refused, never buffered whole, and
  one whose Content-Length says so is refused before its body is read.
- **Time**: ``ROOST_OUTBOUND_TIMEOUT_S`` bounds the whole exchange, redirects
  included.
- **Name**: the User-Agent says Roost and which server is asking.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from roost import __version__
from roost.config import Settings
from roost.net.signatures import Signer

MAX_REDIRECTS = 5
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class OutboundRefused(Exception):
    """The fetch was not made or not finished: a refused address or scheme,
    too many redirects, too large, too slow, or the connection failed."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes


def _public(ip: IPAddress) -> bool:
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED)
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to (IPv4-mapped, 6to4, Teredo's
    client, NAT64's well-known prefixes): a route to an internal host all the same."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in network for network in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_allowed(address: str, allowed_networks: Iterable[IPNetwork] = ()) -> bool:
    """Whether Roost may connect to ``address``: a public address, or one in
    ``allowed_networks`` (``ROOST_OUTBOUND_ALLOWED_NETWORKS``). An IPv6
    address that carries an IPv4 one must pass for both."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # A mapped or NAT64 address is its IPv4 one (DNS64 hands these out
            # for IPv4-only sites); 6to4 and Teredo must pass both ways.
            translated = ip.ipv4_mapped is not None or any(ip in n for n in _NAT64)
            candidates = [embedded] if translated else [ip, embedded]
    networks = tuple(allowed_networks)
    return all(
        _public(candidate)
        or any(candidate.version == n.version and candidate in n for n in networks)
        for candidate in candidates
    )


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself and connects only to an address it allowed."""

    def __init__(self, allow_private: bool, networks: tuple[IPNetwork, ...]) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._networks = networks

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's signature)
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(f"{host} does not resolve") from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [
            a for a in addresses if self._allow_private or address_allowed(a, self._networks)
        ]
        if not allowed:
            raise httpcore.ConnectError(f"{host} resolves only to addresses Roost may not reach")
        # The connection goes to the address just checked: the name is not
        # resolved again, so a DNS answer that changes meanwhile changes nothing.
        return await self._inner.connect_tcp(
            allowed[0], port, timeout=timeout, local_address=local_address
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One per process: making one reads the CA bundle, some 10 to 70 ms,
    which was most of the time of a link card or a push fetched from a nearby
    server."""
    return httpx.create_ssl_context()


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, settings: Settings, *, allow_private: bool = False) -> None:
        # The context passed, else the base class would load the CA bundle again.
        super().__init__(trust_env=False, verify=_ssl_context())
        backend = _GuardedBackend(
            settings.outbound_allow_private or allow_private, settings.outbound_networks
        )
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=20,
            network_backend=backend,
        )


def user_agent(settings: Settings) -> str:
    return f"Roost/{__version__} (+{settings.base_url}/)"


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused(f"not an http(s) address: {url[:200]}")
    if parts.username or parts.password:
        raise OutboundRefused("addresses with credentials are not fetched")


async def fetch(
    settings: Settings,
    url: str,
    *,
    accept: str = "text/html",
    max_bytes: int | None = None,
    signer: Signer | None = None,
    allow_private: bool = False,
) -> Fetched:
    """GET ``url`` within the guards above; OutboundRefused otherwise.
    Any status is returned (the caller decides what a 404 means).

    ``signer`` adds the headers of an HTTP signature (roost/net/signatures.py)
    to each request, redirects included. ``allow_private`` lets this one
    request reach loopback and private addresses (federation's insecure mode)."""
    limit = max_bytes or settings.outbound_max_bytes
    base_headers = {"User-Agent": user_agent(settings), "Accept": accept}
    transport = _GuardedTransport(settings, allow_private=allow_private)
    try:
        async with (
            asyncio.timeout(settings.outbound_timeout_s),
            httpx.AsyncClient(transport=transport, follow_redirects=False) as client,
        ):
            for _ in range(MAX_REDIRECTS + 1):
                _check_url(url)
                headers = dict(base_headers)
                if signer is not None:
                    headers |= signer("GET", url, headers, b"")
                async with client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise OutboundRefused(f"the answer is larger than {limit} bytes")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > limit:
                            raise OutboundRefused(f"the answer is larger than {limit} bytes")
                    return Fetched(
                        str(response.url),
                        response.status_code,
                        response.headers.get("content-type", ""),
                        bytes(body),
                    )
            raise OutboundRefused(f"more than {MAX_REDIRECTS} redirects")
    except TimeoutError:
        raise OutboundRefused(f"no answer within {settings.outbound_timeout_s:g}s") from None
    except httpx.HTTPError as error:
        raise OutboundRefused(str(error) or type(error).__name__) from None


async def post(
    settings: Settings,
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    max_bytes: int = 65536,
    signer: Signer | None = None,
    allow_private: bool = False,
) -> Fetched:
    """POST ``body`` to ``url`` within the same guards (address, time, size of
    the answer, User-Agent). Redirects are not followed: the answer is returned
    as it came. OutboundRefused when the request could not be made.
    ``signer`` and ``allow_private`` as for ``fetch``."""
    sent = {**headers, "User-Agent": user_agent(settings)}
    _check_url(url)
    if signer is not None:
        sent |= signer("POST", url, sent, body)
    transport = _GuardedTransport(settings, allow_private=allow_private)
    try:
        async with (
            asyncio.timeout(settings.outbound_timeout_s),
            httpx.AsyncClient(transport=transport, follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=sent) as response,
        ):
            answer = bytearray()
            async for chunk in response.aiter_bytes():
                answer += chunk
                if len(answer) > max_bytes:
                    break  # the status is what matters; the rest is not read
            return Fetched(
                str(response.url),
                response.status_code,
                response.headers.get("content-type", ""),
                bytes(answer[:max_bytes]),
            )
    except TimeoutError:
        raise OutboundRefused(f"no answer within {settings.outbound_timeout_s:g}s") from None
    except httpx.HTTPError as error:
        raise OutboundRefused(str(error) or type(error).__name__) from None
