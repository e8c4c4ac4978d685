"""Real ``roost serve`` processes (insecure mode, loopback): a quote across
servers, approved as Mastodon 4.5 approves it (FEP-044f). bob on B quotes
alice's post on A; B asks A (QuoteRequest), A accepts with a
QuoteAuthorization, B's Note then names it; alice revokes the quote and B
hears of it (a Delete of the authorization).

A runs embedded (SQLite); B runs on the test's backend (SQLite, and
PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.drills.test_federation_follow import Server, _wait, pair, servers
from tests.drills.test_federation_threads import _post, _resolve

__all__ = ["pair", "servers"]  # the fixtures, shared with test_federation_follow

AP = "application/activity+json"


def test_given_bob_quotes_alices_post_elsewhere_then_a_authorizes_it_and_b_shows_it_accepted(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair
    original = _post(a, "alice", "herons stand very still", visibility="public")
    [found] = _resolve(b, "bob", original["uri"])

    # When bob on B quotes it (anyone may: B shows it at once, and asks A).
    quoting = _post(b, "bob", "patience", visibility="public", quoted_status_id=found["id"])
    assert quoting["quote"]["state"] == "accepted"

    # Then A stores bob's post with the quote accepted, and alice is told.
    def told() -> list[dict[str, Any]]:
        answer = a.get("alice", "/api/v1/notifications", **{"types[]": "quote"})
        return list(answer.json())

    _wait("alice hears of bob's quote", lambda: len(told()) == 1)
    [notification] = told()
    assert notification["account"]["acct"] == f"bob@{b.domain}"
    on_a = notification["status"]
    assert on_a["uri"] == quoting["uri"]
    assert on_a["quote"]["state"] == "accepted"
    assert on_a["quote"]["quoted_status"]["id"] == original["id"]

    # And B's Note names the authorization A gave, which A serves.
    def note() -> dict[str, Any]:
        answer = httpx.get(
            f"{b.url}/users/bob/statuses/{quoting['id']}", headers={"Accept": AP}, timeout=30
        )
        return dict(answer.json())

    _wait("A's authorization reaches B", lambda: "quoteAuthorization" in note())
    stamp_uri = note()["quoteAuthorization"]
    assert stamp_uri.startswith(f"{a.url}/users/alice/quote_authorizations/")
    stamp = httpx.get(stamp_uri, headers={"Accept": AP}, timeout=30)
    assert stamp.status_code == 200, stamp.text
    assert stamp.json()["interactingObject"] == quoting["uri"]
    assert stamp.json()["interactionTarget"] == original["uri"]

    # When alice revokes it on A, then B shows the quote revoked.
    revoked = a.post("alice", f"/api/v1/statuses/{original['id']}/quotes/{on_a['id']}/revoke")
    assert revoked.status_code == 200, revoked.text

    def on_b() -> dict[str, Any]:
        return dict(b.get("bob", f"/api/v1/statuses/{quoting['id']}").json()["quote"])

    _wait("the revocation reaches B", lambda: on_b()["state"] == "revoked")
    assert on_b()["quoted_status"] is None
    assert "quoteAuthorization" not in note()
    assert "Traceback" not in a.process.log() + b.process.log()
