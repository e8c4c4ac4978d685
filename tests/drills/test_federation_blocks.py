"""A block across two real ``roost serve`` processes (insecure mode on
loopback): bob@B blocks alice@A, who followed him. B sends its Block, signed
with bob's key; A ends alice's follow, records that bob blocks her, and
from then on alice gets none of bob's posts and A sends bob nothing of
alice's, not even a post naming him. bob is told nothing of it on either
side, and alice is not notified. alice's report about bob, forwarded, reaches
B's staff as from A's domain (a Flag from A's instance actor).

A runs embedded (SQLite); B runs on the test's backend (SQLite, and
PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import time
from typing import Any

from tests.drills.test_federation_follow import Server, _home, _wait, pair, servers

__all__ = ["pair", "servers"]  # the fixtures, shared with test_federation_follow


def _relationship(server: Server, who: str, account_id: str) -> dict[str, Any]:
    [shown] = server.get(who, "/api/v1/accounts/relationships", id=account_id).json()
    return dict(shown)


def test_given_alice_follows_bob_elsewhere_when_bob_blocks_her_then_she_gets_nothing_more(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair
    bob_on_a = a.resolve("alice", f"bob@{b.domain}")
    assert a.post("alice", f"/api/v1/accounts/{bob_on_a['id']}/follow").status_code == 200
    _wait("B's Accept reaches A", lambda: _relationship(a, "alice", bob_on_a["id"])["following"])
    b.post("bob", "/api/v1/statuses", status="before the block")
    _wait(
        "bob's post reaches alice",
        lambda: any("before the block" in p["content"] for p in _home(a, "alice")),
    )
    notified_before = {n["id"] for n in a.get("alice", "/api/v1/notifications").json()}

    # When bob blocks her on B,
    alice_on_b = b.get("bob", "/api/v1/accounts/lookup", acct=f"alice@{a.domain}").json()
    blocked = b.post("bob", f"/api/v1/accounts/{alice_on_b['id']}/block")
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["blocking"] is True and blocked.json()["followed_by"] is False

    # then A learns it: alice follows him no more, and he blocks her.
    _wait("B's Block reaches A", lambda: _relationship(a, "alice", bob_on_a["id"])["blocked_by"])
    shown = _relationship(a, "alice", bob_on_a["id"])
    assert shown["following"] is False and shown["requested"] is False
    me = a.get("alice", "/api/v1/accounts/verify_credentials").json()
    assert me["following_count"] == 0
    assert b.get("bob", "/api/v1/accounts/verify_credentials").json()["followers_count"] == 0
    # Nobody is told: no new notification for alice.
    after = {n["id"] for n in a.get("alice", "/api/v1/notifications").json()}
    assert after <= notified_before

    # bob's later posts do not reach alice; alice's post naming bob does not reach him.
    b.post("bob", "/api/v1/statuses", status="after the block")
    a.post("alice", "/api/v1/statuses", status=f"@bob@{b.domain} why?")
    time.sleep(4)  # well past the moments deliveries took above
    assert not any("after the block" in p["content"] for p in _home(a, "alice"))
    mentions = b.get("bob", "/api/v1/notifications", **{"types[]": "mention"}).json()
    assert mentions == []
    on_b = b.get("bob", "/api/v1/accounts/lookup", acct=f"alice@{a.domain}").json()
    assert on_b["statuses_count"] == 0

    # alice reports bob, forwarded: B's staff get it as from A, alice unnamed.
    b.process.cli(
        "accounts", "create", "mod", "--email", "mod@example.org", "--password", "pw-mod-123456789",
        "--admin",
    )  # fmt: skip
    b.tokens["mod"] = b.process.cli(
        "tokens", "create", "mod", "--scopes", "read write admin:read admin:write"
    ).strip()
    filed = a.post(
        "alice", "/api/v1/reports", account_id=bob_on_a["id"], comment="blocked me", forward=True
    )
    assert filed.status_code == 200, filed.text

    def reported() -> list[dict[str, Any]]:
        return list(b.get("mod", "/api/v1/admin/reports").json())

    _wait("A's Flag reaches B", lambda: len(reported()) == 1)
    [report] = reported()
    assert report["target_account"]["username"] == "bob"
    assert report["account"]["domain"] == a.domain
    assert report["comment"] == "blocked me"
    assert "alice" not in str(report["account"])
    assert "Traceback" not in a.process.log() + b.process.log()
