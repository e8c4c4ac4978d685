"""Real ``roost serve`` processes (insecure mode, loopback): edits, boosts and
favourites travel between servers, and their undoing too.

A and C run embedded (SQLite); B runs on the test's backend (SQLite, and
PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set). bob@B follows
alice@A; carol@A and dave@C follow bob@B. C never had alice's post: bob's
boost makes C fetch it from A.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.drills.support import ServerProcess
from tests.drills.test_federation_follow import Server, _home, _start, _wait, pair, servers

__all__ = ["pair", "servers"]  # the fixtures, shared with test_federation_follow


def _follow(on: Server, who: str, acct: str) -> dict[str, Any]:
    account = on.resolve(who, acct)
    assert on.post(who, f"/api/v1/accounts/{account['id']}/follow").status_code == 200

    def accepted() -> bool:
        [rel] = on.get(who, "/api/v1/accounts/relationships", id=account["id"]).json()
        return bool(rel["following"])

    _wait(f"{who} follows {acct}", accepted)
    return account


def _notifications(server: Server, who: str, kind: str) -> list[dict[str, Any]]:
    answer = server.get(who, "/api/v1/notifications", **{"types[]": kind})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_given_bob_follows_alice_elsewhere_when_she_edits_and_he_boosts_and_likes_then_both_see_it(
    pair: tuple[Server, Server], tmp_path: Path, servers: list[ServerProcess]
) -> None:
    a, b = pair
    c_process, c_port = _start(tmp_path, "c")
    servers.append(c_process)
    c = Server(c_process, c_port)
    a.account("carol")
    c.account("dave")
    _follow(b, "bob", f"alice@{a.domain}")
    _follow(a, "carol", f"bob@{b.domain}")
    _follow(c, "dave", f"bob@{b.domain}")

    # alice's post reaches bob's home on B.
    posted = a.post("alice", "/api/v1/statuses", status="pelicans eat fish")
    assert posted.status_code == 200, posted.text
    post = posted.json()

    def on_b() -> dict[str, Any] | None:
        return next((p for p in _home(b, "bob") if p["uri"] == post["uri"]), None)

    _wait("alice's post reaches B", lambda: on_b() is not None)
    copy = on_b()
    assert copy is not None

    # When alice edits it, then B shows the new text, with its history.
    edited = httpx.put(
        f"{a.url}/api/v1/statuses/{post['id']}",
        json={"status": "pelicans eat fish, and the odd duckling"},
        headers={"Authorization": f"Bearer {a.tokens['alice']}"},
        timeout=30,
    )
    assert edited.status_code == 200, edited.text

    def copy_now() -> dict[str, Any]:
        return dict(b.get("bob", f"/api/v1/statuses/{copy['id']}").json())

    _wait("the edit reaches B", lambda: "duckling" in copy_now()["content"])
    assert copy_now()["edited_at"] is not None
    history = b.get("bob", f"/api/v1/statuses/{copy['id']}/history").json()
    assert ["duckling" in h["content"] for h in history] == [False, True]

    # When bob boosts and favourites it on B, then A counts both, alice is
    # told, and carol (bob's follower on A) has his boost in her home.
    assert b.post("bob", f"/api/v1/statuses/{copy['id']}/reblog").status_code == 200
    assert b.post("bob", f"/api/v1/statuses/{copy['id']}/favourite").status_code == 200

    def counts() -> tuple[int, int]:
        shown = a.get("alice", f"/api/v1/statuses/{post['id']}").json()
        return int(shown["reblogs_count"]), int(shown["favourites_count"])

    _wait("the boost and the like reach A", lambda: counts() == (1, 1))
    [reblog] = _notifications(a, "alice", "reblog")
    [favourite] = _notifications(a, "alice", "favourite")
    for told in (reblog, favourite):
        assert told["account"]["acct"] == f"bob@{b.domain}"
        assert told["status"]["id"] == post["id"]

    def boosts_in_carols_home() -> list[dict[str, Any]]:
        return [p for p in _home(a, "carol") if p["reblog"] is not None]

    _wait("bob's boost reaches carol's home", lambda: len(boosts_in_carols_home()) == 1)
    [boost] = boosts_in_carols_home()
    assert boost["account"]["acct"] == f"bob@{b.domain}"
    assert boost["reblog"]["id"] == post["id"]
    assert "duckling" in boost["reblog"]["content"]

    # C had not got alice's post: it fetched it from A for bob's boost.
    def boosts_in_daves_home() -> list[dict[str, Any]]:
        return [p for p in _home(c, "dave") if p["reblog"] is not None]

    _wait("bob's boost reaches dave's home", lambda: len(boosts_in_daves_home()) == 1)
    [fetched] = boosts_in_daves_home()
    assert fetched["reblog"]["uri"] == post["uri"]
    assert fetched["reblog"]["account"]["acct"] == f"alice@{a.domain}"
    assert "duckling" in fetched["reblog"]["content"]

    # When bob undoes both, then A's counts go back and the boost leaves carol's home.
    assert b.post("bob", f"/api/v1/statuses/{copy['id']}/unfavourite").status_code == 200
    assert b.post("bob", f"/api/v1/statuses/{copy['id']}/unreblog").status_code == 200
    _wait("the undoing reaches A", lambda: counts() == (0, 0))
    _wait("the boost leaves carol's home", lambda: boosts_in_carols_home() == [])
    _wait("the boost leaves dave's home", lambda: boosts_in_daves_home() == [])
    assert "Traceback" not in a.process.log() + b.process.log() + c.process.log()
