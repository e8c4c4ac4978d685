"""Mentions and direct posts across three real ``roost serve`` processes
(insecure mode, loopback): a public post mentioning someone on C, where
nobody follows the author, reaches C; a direct post from A to one person on
B reaches only them, and the answer comes back to A the same way; server C,
where the author has a follower by then, gets neither.

A and C run embedded (SQLite); B runs on the test's backend (SQLite, and
PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from roost.config import Settings
from tests.drills.support import ServerProcess, free_port, wait_for
from tests.drills.test_federation_follow import Server, _env


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _server(
    tmp_path: Path, servers: list[ServerProcess], name: str, settings: Settings | None = None
) -> Server:
    port = free_port()
    env = _env(settings, tmp_path / name, port, name[0] * 40)
    # Tokens by the password grant: one process less per account.
    env["ROOST_OAUTH_PASSWORD_GRANT"] = "true"
    process = ServerProcess(env, tmp_path / f"{name}.log", log_level="warning", port=port)
    servers.append(process)
    return Server(process, port)


def _account(server: Server, name: str) -> None:
    """An account made by the command line, its token by the password grant."""
    password = f"pw-{name}-123456789"
    server.process.cli(
        "accounts", "create", name, "--email", f"{name}@example.org", "--password", password
    )
    app = httpx.post(
        server.url + "/api/v1/apps",
        data={
            "client_name": "drill",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        },
        timeout=30,
    ).json()
    granted = httpx.post(
        server.url + "/oauth/token",
        data={
            "grant_type": "password",
            "username": name,
            "password": password,
            "scope": "read write follow",
        },
        auth=(app["client_id"], app["client_secret"]),
        timeout=30,
    )
    assert granted.status_code == 200, granted.text
    server.tokens[name] = granted.json()["access_token"]


def _list(server: Server, who: str, path: str, **params: Any) -> list[dict[str, Any]]:
    answer = server.get(who, path, **params)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def _received(data_dir: Path) -> list[str]:
    """The ids of the activities an embedded server's inboxes took."""
    with sqlite3.connect(data_dir / "roost.sqlite3") as db:
        return [str(r[0]) for r in db.execute("SELECT activity_uri FROM inbox_activities")]


def test_given_three_servers_when_alice_writes_to_bob_directly_then_only_the_two_read_it(
    settings: Settings, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    a = _server(tmp_path, servers, "a")
    b = _server(tmp_path, servers, "b", settings)
    c = _server(tmp_path, servers, "c")
    for server, names in ((a, ("alice", "eve")), (b, ("bob", "dan")), (c, ("carol",))):
        for name in names:
            _account(server, name)

    # Given a public post of alice's mentioning carol@C, while nobody on C
    # follows alice: it reaches carol.
    public = a.post("alice", "/api/v1/statuses", status=f"hello @carol@{c.domain}")
    assert public.status_code == 200, public.text
    assert [m["acct"] for m in public.json()["mentions"]] == [f"carol@{c.domain}"]

    def carols_mention() -> dict[str, Any] | None:
        for n in _list(c, "carol", "/api/v1/notifications"):
            if n["type"] == "mention":
                return dict(n["status"])
        return None

    wait_for(lambda: carols_mention() is not None, 30, "the public post's mention reaches carol")
    on_c = carols_mention()
    assert on_c is not None
    assert on_c["uri"] == public.json()["uri"]
    assert on_c["visibility"] == "public"
    assert [m["acct"] for m in on_c["mentions"]] == ["carol"]

    # And carol@C follows alice@A (so C is one of alice's followers' servers).
    alice_on_c = c.resolve("carol", f"alice@{a.domain}")
    assert c.post("carol", f"/api/v1/accounts/{alice_on_c['id']}/follow").status_code == 200
    wait_for(
        lambda: bool(
            _list(c, "carol", "/api/v1/accounts/relationships", id=alice_on_c["id"])[0]["following"]
        ),
        30,
        "A's Accept reaches C",
    )

    # When alice writes to bob@B directly (A does not know bob yet: the
    # mention is looked up as the post is made).
    sent = a.post(
        "alice", "/api/v1/statuses", status=f"@bob@{b.domain} secret", visibility="direct"
    )
    assert sent.status_code == 200, sent.text
    dm = sent.json()
    assert [m["acct"] for m in dm["mentions"]] == [f"bob@{b.domain}"]
    assert f'href="{b.url}/@bob"' in dm["content"]

    # Then it reaches bob, in his conversations, and nobody else on B.
    def bobs_conversation() -> dict[str, Any] | None:
        found = _list(b, "bob", "/api/v1/conversations")
        return found[0] if found else None

    wait_for(lambda: bobs_conversation() is not None, 30, "the direct post reaches bob")
    conversation = bobs_conversation()
    assert conversation is not None
    on_b = conversation["last_status"]
    assert "secret" in on_b["content"]
    assert on_b["visibility"] == "direct"
    assert on_b["uri"] == dm["uri"]
    assert [acc["acct"] for acc in conversation["accounts"]] == [f"alice@{a.domain}"]
    assert b.get("dan", f"/api/v1/statuses/{on_b['id']}").status_code == 404
    assert _list(b, "dan", "/api/v1/conversations") == []

    # When bob answers in that conversation, then it reaches alice only.
    answered = b.post(
        "bob",
        "/api/v1/statuses",
        status=f"@alice@{a.domain} got it",
        visibility="direct",
        in_reply_to_id=on_b["id"],
    )
    assert answered.status_code == 200, answered.text

    def alices_answer() -> dict[str, Any] | None:
        for found in _list(a, "alice", "/api/v1/conversations"):
            if "got it" in found["last_status"]["content"]:
                return found
        return None

    wait_for(lambda: alices_answer() is not None, 30, "bob's answer reaches alice")
    [conversation] = _list(a, "alice", "/api/v1/conversations")  # the same conversation
    answer = conversation["last_status"]
    assert answer["visibility"] == "direct"
    assert answer["in_reply_to_id"] == dm["id"]
    assert [acc["acct"] for acc in conversation["accounts"]] == [f"bob@{b.domain}"]
    assert a.get("eve", f"/api/v1/statuses/{answer['id']}").status_code == 404
    assert _list(a, "eve", "/api/v1/conversations") == []

    # A followers-only post of alice's then reaches carol on C: once it is
    # there, whatever A was to send C before it has been sent.
    later = a.post("alice", "/api/v1/statuses", status="for followers", visibility="private")
    assert later.status_code == 200, later.text
    wait_for(
        lambda: any(
            "for followers" in p["content"] for p in _list(c, "carol", "/api/v1/timelines/home")
        ),
        30,
        "the followers-only post reaches carol",
    )

    # C, which has a follower of alice, never got the direct posts.
    received = _received(tmp_path / "c")
    assert any(uri.startswith(later.json()["uri"]) for uri in received)
    assert not any(uri.startswith((dm["uri"], answered.json()["uri"])) for uri in received)
    assert _list(c, "carol", "/api/v1/conversations") == []
    assert "Traceback" not in a.process.log() + b.process.log() + c.process.log()
