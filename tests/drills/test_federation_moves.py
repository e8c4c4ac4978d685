"""An account move across two real ``roost serve`` processes (insecure mode,
on loopback): alice@A, followed by carol@A and dave@B, moves to alice2@B.

A move to alice2 before she names alice is refused and changes nothing.
Once alice2 names alice (an alias resolved by WebFinger), alice moves: A
sends the signed Move to B, B fetches nothing on trust (alice2 is its own
account, whose aliases it reads), dave@B then follows alice2, carol@A
follows her too (a Follow to B, accepted), neither follows alice any more,
and alice shows ``moved`` on both servers, and posts no more.

A runs embedded (SQLite); B runs on the test's backend (SQLite, and
PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from roost.config import Settings
from tests.drills.support import ServerProcess, wait_for
from tests.drills.test_federation_follow import Server, _start, servers

__all__ = ["servers"]  # the fixture, shared with test_federation_follow


def _rel(server: Server, who: str, account_id: str) -> dict[str, Any]:
    answer = server.get(who, "/api/v1/accounts/relationships", id=account_id)
    assert answer.status_code == 200, answer.text
    [rel] = answer.json()
    return dict(rel)


@pytest.fixture
def moving(
    settings: Settings, tmp_path: Path, servers: list[ServerProcess]
) -> tuple[Server, Server]:
    a_process, a_port = _start(tmp_path, "a")
    servers.append(a_process)
    b_process, b_port = _start(tmp_path, "b", settings)
    servers.append(b_process)
    a, b = Server(a_process, a_port), Server(b_process, b_port)
    for name in ("alice", "carol"):
        a.account(name)
    for name in ("dave", "alice2"):
        b.account(name)
    return a, b


def test_given_alice_followed_on_both_servers_when_she_moves_to_b_then_followers_follow_alice2(
    moving: tuple[Server, Server],
) -> None:
    a, b = moving
    alice_id = a.get("alice", "/api/v1/accounts/verify_credentials").json()["id"]
    assert a.post("carol", f"/api/v1/accounts/{alice_id}/follow").status_code == 200
    alice_on_b = b.resolve("dave", f"alice@{a.domain}")
    assert b.post("dave", f"/api/v1/accounts/{alice_on_b['id']}/follow").status_code == 200
    wait_for(lambda: _rel(b, "dave", alice_on_b["id"])["following"], 30, "A accepts dave's follow")
    alice2_on_a = a.resolve("carol", f"alice2@{b.domain}")
    alice2_id = b.get("alice2", "/api/v1/accounts/verify_credentials").json()["id"]
    move = {"acct": f"alice2@{b.domain}", "password": "pw-alice-123456789"}

    # Refused: alice2 does not name alice yet. Nothing changes on either side.
    refused = a.post("alice", "/api/v1/roost/account/move", **move)
    assert refused.status_code == 422, refused.text
    assert "alsoKnownAs" in refused.json()["error"]
    assert "moved" not in a.get("carol", f"/api/v1/accounts/{alice_id}").json()
    assert _rel(a, "carol", alice_id)["following"] is True
    assert _rel(b, "dave", alice_on_b["id"])["following"] is True
    assert a.post("alice", "/api/v1/statuses", status="still here").status_code == 200

    # alice2 names alice (by WebFinger), then alice moves.
    alias = b.post("alice2", "/api/v1/roost/aliases", acct=f"@alice@{a.domain}")
    assert alias.status_code == 200, alias.text
    assert alias.json()["uri"] == f"{a.url}/users/alice"
    moved = a.post("alice", "/api/v1/roost/account/move", **move)
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved_to"]["uri"] == f"{b.url}/users/alice2"

    # dave@B follows alice2 (B took the Move); carol@A follows her (B accepted).
    wait_for(lambda: _rel(b, "dave", alice2_id)["following"], 30, "dave follows alice2 on B")
    wait_for(lambda: _rel(a, "carol", alice2_on_a["id"])["following"], 30, "carol follows alice2")
    wait_for(lambda: not _rel(b, "dave", alice_on_b["id"])["following"], 30, "dave leaves alice")
    assert _rel(a, "carol", alice_id)["following"] is False
    followers = b.get("alice2", f"/api/v1/accounts/{alice2_id}/followers").json()
    assert sorted(f["acct"] for f in followers) == sorted(["dave", f"carol@{a.domain}"])

    # alice shows moved on both servers, and posts no more (but still signs in).
    on_a = a.get("carol", f"/api/v1/accounts/{alice_id}").json()
    assert on_a["moved"]["acct"] == f"alice2@{b.domain}"
    on_b = b.get("dave", "/api/v1/accounts/lookup", acct=f"alice@{a.domain}").json()
    assert on_b["moved"]["id"] == alice2_id
    assert a.get("alice", "/api/v1/accounts/verify_credentials").status_code == 200
    assert a.post("alice", "/api/v1/statuses", status="after the move").status_code == 422
    assert "Traceback" not in a.process.log() + b.process.log()
