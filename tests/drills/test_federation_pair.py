"""Two real ``roost serve`` processes on one machine, federating in insecure
mode (plain http, loopback, domains with a port): B finds A's account by
WebFinger and reads its actor; a delivery signed with A's key is accepted and
stored by B's inbox, a tampered one refused and not stored.

Server B (the one that verifies and stores) runs on the test's backend:
SQLite, and PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set; A runs
embedded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import inbox_activities, remote_actor_keys
from roost.domain.federation import keys
from roost.keys import ring
from roost.net import signatures
from tests.drills.support import ServerProcess, free_port, roost_env

AP = "application/activity+json"


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _start(env: dict[str, str], log: Path, port: int) -> ServerProcess:
    return ServerProcess(env, log, log_level="warning", port=port)


def _b_env(settings: Settings, port: int, **extra: str) -> dict[str, str]:
    values = {
        "data_dir": str(settings.data_dir),
        "secret_key": settings.secret_key,
        "domain": f"127.0.0.1:{port}",
        "federation_allow_insecure": "true",
        **extra,
    }
    if settings.database_url:
        values |= {
            "database_url": settings.database_url,
            "redis_url": settings.redis_url,
            "redis_prefix": settings.redis_prefix,
        }
    return roost_env(**values)


def _rows(settings: Settings, table: Any) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        db = Database(settings)
        try:
            async with db.read() as conn:
                return [dict(r) for r in (await conn.execute(select(table))).mappings()]
        finally:
            await db.dispose()

    return asyncio.run(read())


def _alice_key(a_settings: Settings, alice_id: int) -> signatures.rsa.RSAPrivateKey:
    """A's own stored key for alice (the one its actor publishes), read the way
    A reads it: through its key store, which the sealed column needs."""

    async def read() -> str:
        db = Database(a_settings)
        try:
            return (await keys.key_pair(db, alice_id)).private_pem
        finally:
            await db.dispose()

    ring.install(a_settings)
    return signatures.load_private_key(asyncio.run(read()))


def test_given_two_servers_when_b_discovers_a_and_a_delivers_then_b_verifies_and_stores(
    settings: Settings, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    a_port, b_port = free_port(), free_port()
    a_dir = tmp_path / "a"
    a_env = roost_env(
        data_dir=str(a_dir),
        secret_key="a" * 40,
        domain=f"127.0.0.1:{a_port}",
        federation_allow_insecure="true",
    )
    a = _start(a_env, tmp_path / "a.log", a_port)
    servers.append(a)
    b = _start(_b_env(settings, b_port), tmp_path / "b.log", b_port)
    servers.append(b)
    out = a.cli(
        "accounts",
        "create",
        "alice",
        "--email",
        "alice@example.org",
        "--password",
        "pw-alice-123456",
    )
    alice_id = int(out.rsplit("id ", 1)[1].rstrip(")\n"))
    b.cli("accounts", "create", "bob", "--email", "bob@example.org", "--password", "pw-bob-1234567")

    # B's view of A: WebFinger, then the actor it names, as another server asks.
    finger = httpx.get(
        f"{a.url}/.well-known/webfinger", params={"resource": f"acct:alice@127.0.0.1:{a_port}"}
    ).json()
    actor_uri = next(link["href"] for link in finger["links"] if link["rel"] == "self")
    assert actor_uri == f"{a.url}/users/alice"
    actor = httpx.get(actor_uri, headers={"Accept": AP}).json()
    assert actor["inbox"] == f"{a.url}/users/alice/inbox"
    key_id = actor["publicKey"]["id"]

    from roost.config import load_settings

    a_settings = load_settings(data_dir=a_dir, secret_key="a" * 40, domain=f"127.0.0.1:{a_port}")
    alice_key = _alice_key(a_settings, alice_id)
    assert signatures.public_pem(alice_key) == actor["publicKey"]["publicKeyPem"]

    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor_uri}#follows/1",
        "type": "Follow",
        "actor": actor_uri,
        "object": f"{b.url}/users/bob",
    }
    body = orjson.dumps(follow)
    inbox = f"{b.url}/users/bob/inbox"
    headers = signatures.signed_headers(alice_key, key_id, "POST", inbox, body, utcnow())
    headers["Content-Type"] = AP

    tampered = body.replace(b"Follow", b"Block")
    refused = httpx.post(inbox, content=tampered, headers=headers)
    assert refused.status_code == 401
    redigested = httpx.post(
        inbox, content=tampered, headers={**headers, "Digest": signatures.digest(tampered)}
    )
    assert redigested.status_code == 401
    unsigned = httpx.post(inbox, content=body, headers={"Content-Type": AP})
    assert unsigned.status_code == 401
    assert _rows(settings, inbox_activities) == []

    accepted = httpx.post(inbox, content=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    [row] = _rows(settings, inbox_activities)
    assert (row["activity_type"], row["actor_uri"], row["key_id"]) == ("Follow", actor_uri, key_id)
    # B fetched A's key from A (signed by B's instance actor) and cached it.
    [cached] = _rows(settings, remote_actor_keys)
    assert cached["owner"] == actor_uri
    assert "Traceback" not in a.log() + b.log()


@pytest.mark.parametrize("authorized", [True, False])
def test_given_authorized_fetch_on_a_when_b_fetches_then_only_signed_reads_pass(
    settings: Settings, tmp_path: Path, servers: list[ServerProcess], authorized: bool
) -> None:
    """A in secure mode: an unsigned read of alice is refused, B's instance
    actor can still be read unsigned, and a read signed by B (whose key A
    fetches from B) is answered. Off: unsigned reads are answered."""
    a_port, b_port = free_port(), free_port()
    a_env = roost_env(
        data_dir=str(tmp_path / "a"),
        secret_key="a" * 40,
        domain=f"127.0.0.1:{a_port}",
        federation_allow_insecure="true",
        authorized_fetch="true" if authorized else "false",
    )
    a = _start(a_env, tmp_path / "a.log", a_port)
    servers.append(a)
    b = _start(_b_env(settings, b_port), tmp_path / "b.log", b_port)
    servers.append(b)
    a.cli(
        "accounts",
        "create",
        "alice",
        "--email",
        "alice@example.org",
        "--password",
        "pw-alice-123456",
    )

    unsigned = httpx.get(f"{a.url}/users/alice", headers={"Accept": AP})
    assert unsigned.status_code == (401 if authorized else 200)
    assert httpx.get(f"{a.url}/actor", headers={"Accept": AP}).status_code == 200

    # B's instance actor signs a read of alice; A fetches B's key from B's /actor.
    b_settings = settings.model_copy(update={"domain": f"127.0.0.1:{b_port}"})

    async def b_signs() -> dict[str, str]:
        db = Database(b_settings)
        try:
            pair = await keys.key_pair(db, keys.INSTANCE_ACTOR_ID)
        finally:
            await db.dispose()
        return signatures.signed_headers(
            pair.private_key(),
            f"{b.url}/actor#main-key",
            "GET",
            f"{a.url}/users/alice",
            b"",
            utcnow(),
        )

    ring.install(settings)
    signed = httpx.get(f"{a.url}/users/alice", headers={"Accept": AP, **asyncio.run(b_signs())})
    assert signed.status_code == 200, signed.text
    assert signed.json()["preferredUsername"] == "alice"
    assert "Traceback" not in a.log() + b.log()
