"""Each local actor's RSA key pair (2048 bits), made the first time it is
needed and kept in ``actor_keys``, the private half sealed under the actor's
own key (roost/keys/ring.py), so erasing the account leaves it unreadable.

The instance actor (``/actor``, which signs the fetches the server makes on
nobody's behalf) is no account: its pair is stored under ``INSTANCE_ACTOR_ID``,
a number no account id can be (ids are time-sortable and far larger).

Two requests that both find no pair both make one; the first insert wins and
both use the stored one (insert if absent, then read).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from roost.clock import utcnow
from roost.db.engine import Database
from roost.db.tables import actor_keys
from roost.domain.federation._upsert import insert_absent
from roost.keys.ring import INSTANCE_ACTOR_KEY_ID, seal
from roost.net import signatures

INSTANCE_ACTOR_ID = INSTANCE_ACTOR_KEY_ID


@dataclass(frozen=True)
class ActorKey:
    account_id: int
    public_pem: str
    private_pem: str

    def private_key(self) -> rsa.RSAPrivateKey:
        return signatures.load_private_key(self.private_pem)


async def _stored(db: Database, account_id: int) -> ActorKey | None:
    async with db.read() as conn:
        row = (
            (await conn.execute(select(actor_keys).where(actor_keys.c.account_id == account_id)))
            .mappings()
            .first()
        )
    if row is None or not row["private_key_pem"]:
        return None
    return ActorKey(account_id, row["public_key_pem"], row["private_key_pem"])


async def key_pair(db: Database, account_id: int) -> ActorKey:
    """The actor's key pair, made and stored now if it has none."""
    found = await _stored(db, account_id)
    if found is not None:
        return found
    # Some 50 to 200 ms of CPU: off the event loop.
    key = await asyncio.to_thread(signatures.generate_private_key)
    async with db.write() as tx:
        await tx.execute(
            insert_absent(tx, actor_keys, actor_keys.c.account_id).values(
                account_id=account_id,
                public_key_pem=signatures.public_pem(key),
                private_key_pem=seal(account_id, signatures.private_pem(key)),
                created_at=utcnow(),
            )
        )
    stored = await _stored(db, account_id)
    if stored is None:
        raise RuntimeError("the key pair just stored cannot be read back")
    return stored
