"""Real ``roost serve`` processes (insecure mode, loopback): a post of
another server found by its address (``search?resolve=true``), and a thread
whose last reply alone arrives, its ancestors then fetched from their server.

A runs embedded (SQLite); B runs on the test's backend (SQLite, and
PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

from typing import Any

from tests.drills.test_federation_follow import Server, _wait, pair, servers
from tests.drills.test_federation_interactions import _follow

__all__ = ["pair", "servers"]  # the fixtures, shared with test_federation_follow


def _post(on: Server, who: str, text: str, **fields: Any) -> dict[str, Any]:
    answer = on.post(who, "/api/v1/statuses", status=text, **fields)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _resolve(on: Server, who: str, address: str) -> list[dict[str, Any]]:
    found = on.get(who, "/api/v2/search", q=address, resolve="true", type="statuses")
    assert found.status_code == 200, found.text
    return list(found.json()["statuses"])


def test_given_posts_on_a_when_b_resolves_them_and_gets_a_reply_then_b_shows_the_thread(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair

    # When bob on B looks up alice's public post by its page's address, then
    # B fetches it from A and shows it as hers.
    public = _post(a, "alice", "the heron is back", visibility="public")
    [found] = _resolve(b, "bob", public["url"])
    assert found["uri"] == public["uri"]
    assert found["account"]["acct"] == f"alice@{a.domain}"
    assert "heron" in found["content"]
    # By its id too: the same post, stored once.
    assert [p["id"] for p in _resolve(b, "bob", public["uri"])] == [found["id"]]

    # A followers-only post's address finds nothing for bob, who does not
    # follow her (A answers B's fetch as anyone's: not found).
    private = _post(a, "alice", "nest location", visibility="private")
    assert _resolve(b, "bob", private["url"]) == []
    assert _resolve(b, "bob", private["uri"]) == []

    # A thread of three on A, of which only the last reply reaches B.
    first = _post(a, "alice", "one", visibility="public")
    second = _post(a, "alice", "two", visibility="public", in_reply_to_id=first["id"])
    _follow(b, "bob", f"alice@{a.domain}")
    third = _post(a, "alice", "three", visibility="public", in_reply_to_id=second["id"])

    def reply_on_b() -> dict[str, Any] | None:
        home = b.get("bob", "/api/v1/timelines/home").json()
        return next((p for p in home if p["uri"] == third["uri"]), None)

    _wait("the last reply reaches B", lambda: reply_on_b() is not None)
    reply = reply_on_b()
    assert reply is not None

    def ancestors() -> list[str]:
        shown = b.get("bob", f"/api/v1/statuses/{reply['id']}/context").json()
        return [p["uri"] for p in shown["ancestors"]]

    # Then B fetched the two above it from A, and the thread shows whole.
    _wait("B fetches the ancestors", lambda: ancestors() == [first["uri"], second["uri"]])
    linked = b.get("bob", f"/api/v1/statuses/{reply['id']}").json()
    assert linked["in_reply_to_id"] is not None
    assert "Traceback" not in a.process.log() + b.process.log()
