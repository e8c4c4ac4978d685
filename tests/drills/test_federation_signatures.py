"""Two real ``roost serve`` processes signing with RFC 9421 (HTTP Message
Signatures), both in authorized-fetch mode so that every read is checked
too: A forced to RFC 9421 (``ROOST_FEDERATION_SIGNATURES=rfc9421``), B
double-knocking (RFC 9421 first, draft-cavage after a refusal).

alice@A resolves bob@B (A's signed fetches of B's actor, which B's secure
mode verifies) and follows him (the Follow, which B's inbox verifies and
stores); B's Accept, signed RFC 9421 first, is taken by A at once, and B
remembers that A's server takes RFC 9421.

A runs embedded (SQLite); B runs on the test's backend (SQLite, and
PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import federation_hosts
from tests.drills.support import ServerProcess, free_port, roost_env, wait_for


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _token(process: ServerProcess, name: str) -> str:
    password = f"pw-{name}-123456789"
    process.cli(
        "accounts", "create", name, "--email", f"{name}@example.org", "--password", password
    )
    return process.cli("tokens", "create", name).strip()


def _hosts(settings: Settings) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        db = Database(settings)
        try:
            async with db.read() as conn:
                rows = await conn.execute(select(federation_hosts))
                return {str(r.host): r.signature_scheme for r in rows}
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_given_a_forced_to_rfc9421_when_alice_follows_bob_on_b_then_b_verifies_and_both_take_it(
    settings: Settings, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    a_port, b_port = free_port(), free_port()
    a_env = roost_env(
        data_dir=str(tmp_path / "a"),
        secret_key="a" * 40,
        domain=f"127.0.0.1:{a_port}",
        federation_allow_insecure="true",
        authorized_fetch="true",
        federation_signatures="rfc9421",
    )
    b_values = {
        "data_dir": str(settings.data_dir),
        "secret_key": settings.secret_key,
        "domain": f"127.0.0.1:{b_port}",
        "federation_allow_insecure": "true",
        "authorized_fetch": "true",
        "federation_signatures": "double-knock",
    }
    if settings.database_url:
        b_values |= {
            "database_url": settings.database_url,
            "redis_url": settings.redis_url,
            "redis_prefix": settings.redis_prefix,
        }
    a = ServerProcess(a_env, tmp_path / "a.log", log_level="warning", port=a_port)
    servers.append(a)
    b = ServerProcess(roost_env(**b_values), tmp_path / "b.log", log_level="warning", port=b_port)
    servers.append(b)
    alice = {"Authorization": f"Bearer {_token(a, 'alice')}"}
    bob = {"Authorization": f"Bearer {_token(b, 'bob')}"}

    # B refuses an unsigned read of bob (secure mode): A's reads must be signed.
    assert (
        httpx.get(f"{b.url}/users/bob", headers={"Accept": "application/activity+json"}).status_code
        == 401
    )

    # A resolves bob: its fetch of bob's actor is signed with RFC 9421 only.
    found = httpx.get(
        f"{a.url}/api/v2/search",
        params={"q": f"@bob@127.0.0.1:{b_port}", "resolve": "true", "type": "accounts"},
        headers=alice,
        timeout=30,
    )
    assert found.status_code == 200, found.text
    [bob_on_a] = found.json()["accounts"]
    assert bob_on_a["acct"] == f"bob@127.0.0.1:{b_port}"

    # alice follows bob: B verifies A's RFC 9421 Follow and accepts.
    followed = httpx.post(
        f"{a.url}/api/v1/accounts/{bob_on_a['id']}/follow", headers=alice, timeout=30
    )
    assert followed.status_code == 200, followed.text

    def accepted() -> bool:
        [rel] = httpx.get(
            f"{a.url}/api/v1/accounts/relationships",
            params={"id": bob_on_a["id"]},
            headers=alice,
            timeout=30,
        ).json()
        return bool(rel["following"])

    wait_for(accepted, 30, "B's Accept reaches A")
    me = httpx.get(f"{b.url}/api/v1/accounts/verify_credentials", headers=bob, timeout=30).json()
    [follower] = httpx.get(
        f"{b.url}/api/v1/accounts/{me['id']}/followers", headers=bob, timeout=30
    ).json()
    assert follower["acct"] == f"alice@127.0.0.1:{a_port}"

    # B knocked with RFC 9421 first and A took it: B remembers it for A.
    assert _hosts(settings).get(f"127.0.0.1:{a_port}") == "rfc9421"
    assert "Traceback" not in a.log() + b.log()
