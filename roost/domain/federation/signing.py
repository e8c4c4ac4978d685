"""Signers for the outbound client (roost/net/http.py ``signer=``): requests
made for a local account are signed with its key, those made on nobody's
behalf (fetching a key, an actor) with the instance actor's."""

from __future__ import annotations

from collections.abc import Mapping

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.federation import keys, uris
from roost.net.signatures import Signer, signed_headers


async def signer_for(db: Database, key_id: str, account_id: int) -> Signer:
    """A signer with the key pair of ``account_id`` (made if it has none),
    naming ``key_id`` as the key."""
    private_key = (await keys.key_pair(db, account_id)).private_key()

    def sign(method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
        return signed_headers(private_key, key_id, method, url, body, utcnow())

    return sign


async def instance_signer(db: Database, settings: Settings) -> Signer:
    actor = uris.instance_actor_uri(settings.base_url)
    return await signer_for(db, uris.key_id(actor), keys.INSTANCE_ACTOR_ID)


async def account_signer(
    db: Database, settings: Settings, account_id: int, username: str
) -> Signer:
    actor = uris.actor_uri(settings.base_url, username)
    return await signer_for(db, uris.key_id(actor), account_id)
