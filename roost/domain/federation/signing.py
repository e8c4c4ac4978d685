"""Signed requests to other servers: deliveries are signed with the local
account's key, fetches made on nobody's behalf (keys, actors, posts) with
the instance actor's. ``signed_post`` and ``signed_fetch`` send them through
the one outbound client (roost/net/http.py), signed as
``ROOST_FEDERATION_SIGNATURES`` says:

  - ``cavage`` (the default): draft-cavage HTTP Signatures
    (roost/net/signatures.py), which every server of the fediverse verifies
    and Mastodon itself sends first;
  - ``rfc9421``: RFC 9421 HTTP Message Signatures only
    (roost/net/message_signatures.py ``signed_headers``);
  - ``double-knock``: RFC 9421 first; a refusal (400, 401, 403) is asked
    again signed with draft-cavage. The scheme a host took (a 2xx answer) is
    remembered in ``federation_hosts`` (hosts.py), shared by every worker, so
    the next request to it is signed that way at once; a host that took only
    draft-cavage is knocked at with RFC 9421 again after
    ``RETRY_RFC9421_AFTER`` (it may have learnt it since).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import rsa

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.federation import hosts, keys, uris
from roost.net import message_signatures, signatures
from roost.net.http import Fetched, fetch, post
from roost.net.signatures import Signer

CAVAGE = "cavage"
RFC9421 = "rfc9421"
# Answers that may mean "your signature is not one I take": the other
# scheme is tried (Mastodon answers 401; some servers 400 or 403).
REFUSALS = frozenset({400, 401, 403})
RETRY_RFC9421_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class SigningKey:
    """A private key and the key id that names it."""

    key_id: str
    private_key: rsa.RSAPrivateKey

    def signer(self, scheme: str) -> Signer:
        make = message_signatures.signed_headers if scheme == RFC9421 else signatures.signed_headers
        private_key, key_id = self.private_key, self.key_id

        def sign(method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
            return make(private_key, key_id, method, url, body, utcnow())

        return sign


async def key_for(db: Database, key_id: str, account_id: int) -> SigningKey:
    """The key pair of ``account_id`` (made if it has none), named ``key_id``."""
    return SigningKey(key_id, (await keys.key_pair(db, account_id)).private_key())


async def instance_key(db: Database, settings: Settings) -> SigningKey:
    actor = uris.instance_actor_uri(settings.base_url)
    return await key_for(db, uris.key_id(actor), keys.INSTANCE_ACTOR_ID)


async def account_key(
    db: Database, settings: Settings, account_id: int, username: str
) -> SigningKey:
    actor = uris.actor_uri(settings.base_url, username)
    return await key_for(db, uris.key_id(actor), account_id)


def _other(scheme: str) -> str:
    return CAVAGE if scheme == RFC9421 else RFC9421


async def _knock(
    db: Database,
    settings: Settings,
    url: str,
    key: SigningKey,
    send: Callable[[Signer], Awaitable[Fetched]],
) -> Fetched:
    mode = settings.federation_signatures
    if mode != "double-knock":
        return await send(key.signer(RFC9421 if mode == "rfc9421" else CAVAGE))
    host = hosts.host_of(url)
    known = await hosts.known_scheme(db, host)
    first = RFC9421
    if known is not None and not (
        known.scheme == CAVAGE and utcnow() - known.learnt_at >= RETRY_RFC9421_AFTER
    ):
        first = known.scheme
    answered = await send(key.signer(first))
    if answered.status not in REFUSALS:
        # Written only when it changes what is known: a host that keeps
        # taking the same scheme costs no write.
        if 200 <= answered.status < 300 and (known is None or known.scheme != first):
            await hosts.remember_scheme(db, host, first)
        return answered
    second = _other(first)
    again = await send(key.signer(second))
    if 200 <= again.status < 300:
        await hosts.remember_scheme(db, host, second)
    return again


async def signed_post(
    db: Database,
    settings: Settings,
    url: str,
    key: SigningKey,
    *,
    body: bytes,
    headers: dict[str, str],
) -> Fetched:
    """POST ``body`` to ``url`` signed with ``key`` (http.post's guards;
    OutboundRefused when it could not be made)."""

    def send(signer: Signer) -> Awaitable[Fetched]:
        return post(
            settings,
            url,
            body=body,
            headers=headers,
            signer=signer,
            allow_private=settings.federation_allow_insecure,
        )

    return await _knock(db, settings, url, key, send)


async def signed_fetch(
    db: Database,
    settings: Settings,
    url: str,
    key: SigningKey,
    *,
    accept: str,
    max_bytes: int,
) -> Fetched:
    """GET ``url`` signed with ``key`` (http.fetch's guards and redirects)."""

    def send(signer: Signer) -> Awaitable[Fetched]:
        return fetch(
            settings,
            url,
            accept=accept,
            max_bytes=max_bytes,
            signer=signer,
            allow_private=settings.federation_allow_insecure,
        )

    return await _knock(db, settings, url, key, send)
