"""Real ``roost serve`` processes federating on loopback (insecure mode):
remote accounts resolved by ``name@domain``, follows across servers, posts
delivered to followers' servers and deleted there, an erased account and its
posts deleted there.

A runs embedded (SQLite); B runs on the test's backend (SQLite, and
PostgreSQL + Redis when ROOST_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from roost.config import Settings
from tests.drills.support import ServerProcess, free_port, roost_env, wait_for


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _env(settings: Settings | None, data_dir: Path, port: int, secret: str) -> dict[str, str]:
    values = {
        "data_dir": str(data_dir),
        "secret_key": secret,
        "domain": f"127.0.0.1:{port}",
        "federation_allow_insecure": "true",
    }
    if settings is not None:
        values["secret_key"] = settings.secret_key
        values["data_dir"] = str(settings.data_dir)
        if settings.database_url:
            values |= {
                "database_url": settings.database_url,
                "redis_url": settings.redis_url,
                "redis_prefix": settings.redis_prefix,
            }
    return roost_env(**values)


class Server:
    """A running server and one account on it, with a token."""

    def __init__(self, process: ServerProcess, port: int) -> None:
        self.process = process
        self.port = port
        self.url = process.url
        self.domain = f"127.0.0.1:{port}"
        self.tokens: dict[str, str] = {}

    def account(self, name: str) -> str:
        password = f"pw-{name}-123456789"
        self.process.cli(
            "accounts", "create", name, "--email", f"{name}@example.org", "--password", password
        )
        self.tokens[name] = self.process.cli("tokens", "create", name).strip()
        return self.tokens[name]

    def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return httpx.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
        )

    def post(self, who: str, path: str, **data: Any) -> httpx.Response:
        return httpx.post(
            self.url + path,
            json=data,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
        )

    def delete(self, who: str, path: str) -> httpx.Response:
        return httpx.delete(
            self.url + path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, timeout=30
        )

    def resolve(self, who: str, acct: str) -> dict[str, Any]:
        found = self.get(who, "/api/v2/search", q=f"@{acct}", resolve="true", type="accounts")
        assert found.status_code == 200, found.text
        [account] = found.json()["accounts"]
        return dict(account)


def _start(
    tmp_path: Path, name: str, settings: Settings | None = None
) -> tuple[ServerProcess, int]:
    port = free_port()
    env = _env(settings, tmp_path / name, port, name[0] * 40)
    return ServerProcess(env, tmp_path / f"{name}.log", log_level="warning", port=port), port


@pytest.fixture
def pair(settings: Settings, tmp_path: Path, servers: list[ServerProcess]) -> tuple[Server, Server]:
    a_process, a_port = _start(tmp_path, "a")
    servers.append(a_process)
    b_process, b_port = _start(tmp_path, "b", settings)
    servers.append(b_process)
    a, b = Server(a_process, a_port), Server(b_process, b_port)
    a.account("alice")
    b.account("bob")
    return a, b


def test_given_bob_on_b_when_alice_resolves_him_then_a_knows_his_account(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair
    unresolved = a.get("alice", "/api/v2/search", q=f"@bob@{b.domain}", type="accounts")
    assert unresolved.json()["accounts"] == []

    bob = a.resolve("alice", f"bob@{b.domain}")

    assert bob["acct"] == f"bob@{b.domain}"
    assert bob["username"] == "bob"
    assert bob["uri"] == f"{b.url}/users/bob"
    assert bob["url"] == f"{b.url}/@bob"
    looked_up = a.get("alice", "/api/v1/accounts/lookup", acct=f"bob@{b.domain}")
    assert looked_up.status_code == 200
    assert looked_up.json()["id"] == bob["id"]
    # Resolving again finds the same row; a local bob is another account.
    assert a.resolve("alice", f"bob@{b.domain}")["id"] == bob["id"]
    a.account("bob")
    local = a.get("alice", "/api/v1/accounts/lookup", acct="bob").json()
    assert local["id"] != bob["id"]
    assert local["acct"] == "bob"
    # A profile path does not reach the remote account.
    assert a.get("alice", "/api/v1/accounts/lookup", acct="nobody@" + b.domain).status_code == 404
    assert "Traceback" not in a.process.log() + b.process.log()


def _wait(what: str, check: Any, timeout: float = 30) -> None:
    wait_for(check, timeout, what)


def _home(server: Server, who: str) -> list[dict[str, Any]]:
    answer = server.get(who, "/api/v1/timelines/home", limit=40)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_given_alice_follows_bob_elsewhere_when_bob_posts_and_deletes_then_her_home_follows(
    pair: tuple[Server, Server], tmp_path: Path, servers: list[ServerProcess]
) -> None:
    a, b = pair
    c_process, c_port = _start(tmp_path, "c")
    servers.append(c_process)
    c = Server(c_process, c_port)
    c.account("carol")

    # Given alice@A follows bob@B: the Follow goes out, B accepts (bob is not locked).
    bob_on_a = a.resolve("alice", f"bob@{b.domain}")
    followed = a.post("alice", f"/api/v1/accounts/{bob_on_a['id']}/follow")
    assert followed.status_code == 200, followed.text
    assert followed.json()["requested"] is True

    def accepted() -> bool:
        [rel] = a.get("alice", "/api/v1/accounts/relationships", id=bob_on_a["id"]).json()
        return bool(rel["following"])

    _wait("B's Accept reaches A", accepted)
    bob_on_b = b.get("bob", "/api/v1/accounts/lookup", acct="bob").json()
    assert bob_on_b["followers_count"] == 1
    [follower] = b.get("bob", f"/api/v1/accounts/{bob_on_b['id']}/followers").json()
    assert follower["acct"] == f"alice@{a.domain}"

    # C knows bob but does not follow him.
    bob_on_c = c.resolve("carol", f"bob@{b.domain}")

    # When bob posts for his followers only, then it reaches A and not C.
    private = b.post("bob", "/api/v1/statuses", status="for followers", visibility="private")
    assert private.status_code == 200, private.text

    def in_home(text: str) -> dict[str, Any] | None:
        for post in _home(a, "alice"):
            if text in post["content"]:
                return post
        return None

    _wait(
        "the followers-only post reaches alice's home", lambda: in_home("for followers") is not None
    )
    seen = in_home("for followers")
    assert seen is not None
    assert seen["account"]["acct"] == f"bob@{b.domain}"
    assert seen["visibility"] == "private"
    assert seen["uri"] == private.json()["uri"]

    # And a public post; then bob deletes it and it leaves alice's home.
    public = b.post("bob", "/api/v1/statuses", status="hello fediverse", visibility="public")
    assert public.status_code == 200
    _wait("the public post reaches alice's home", lambda: in_home("hello fediverse") is not None)
    on_a = in_home("hello fediverse")
    assert on_a is not None
    assert on_a["account"]["url"] == f"{b.url}/@bob"
    assert b.delete("bob", f"/api/v1/statuses/{public.json()['id']}").status_code == 200
    _wait("the deletion reaches A", lambda: in_home("hello fediverse") is None)
    assert a.get("alice", f"/api/v1/statuses/{on_a['id']}").status_code == 404

    looked = c.get("carol", "/api/v1/accounts/lookup", acct=f"bob@{b.domain}").json()
    assert looked["id"] == bob_on_c["id"]
    assert looked["statuses_count"] == 0  # C never got bob's posts

    # Carol follows bob, then C stops: bob's next post still reaches A at once.
    c.post("carol", f"/api/v1/accounts/{bob_on_c['id']}/follow")
    _wait(
        "B's Accept reaches C",
        lambda: bool(
            c.get("carol", "/api/v1/accounts/relationships", id=bob_on_c["id"]).json()[0][
                "following"
            ]
        ),
    )
    # C hangs (its process frozen: connections are taken and never answered,
    # the worst kind of dead server): bob's posts still reach A at once,
    # well within the delivery timeout that C's deliveries wait out.
    c_process.process.send_signal(signal.SIGSTOP)
    try:
        for n in (1, 2):
            started = time.monotonic()
            sent = b.post("bob", "/api/v1/statuses", status=f"while C hangs {n}")
            assert sent.status_code == 200
            _wait(
                "the post reaches A while C hangs",
                lambda n=n: in_home(f"while C hangs {n}") is not None,
                8,
            )
            assert time.monotonic() - started < 8
    finally:
        c_process.process.send_signal(signal.SIGCONT)

    # When C answers again, it catches up: the posts it missed while it hung
    # arrive by the retries (its host's backoff, then the deliveries' own).
    def c_has(n: int) -> bool:
        return any(f"while C hangs {n}" in post["content"] for post in _home(c, "carol"))

    _wait("C catches up once it answers again", lambda: c_has(1) and c_has(2), 120)
    assert "Traceback" not in a.process.log() + b.process.log()


def test_given_alice_follows_bob_elsewhere_when_bob_erases_his_account_then_a_forgets_him(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair
    bob_on_a = a.resolve("alice", f"bob@{b.domain}")
    assert a.post("alice", f"/api/v1/accounts/{bob_on_a['id']}/follow").status_code == 200
    _wait(
        "B's Accept reaches A",
        lambda: bool(
            a.get("alice", "/api/v1/accounts/relationships", id=bob_on_a["id"]).json()[0][
                "following"
            ]
        ),
    )
    posted = b.post("bob", "/api/v1/statuses", status="soon erased", visibility="public")
    assert posted.status_code == 200, posted.text

    def on_a() -> list[dict[str, Any]]:
        return [p for p in _home(a, "alice") if "soon erased" in p["content"]]

    _wait("bob's post reaches alice's home", lambda: bool(on_a()))
    [seen] = on_a()

    # When bob erases his account on B: B sends Delete of his actor, signed
    # with his key (kept for that alone), and A drops him and his posts.
    erased = b.post("bob", "/api/v1/roost/account/erase", password="pw-bob-123456789")
    assert erased.status_code == 200, erased.text
    assert "1 inbox(es)" in erased.json()["stores"]["other servers"]

    _wait(
        "the Delete of bob's actor reaches A",
        lambda: a.get("alice", f"/api/v1/accounts/{bob_on_a['id']}").status_code == 404,
    )
    assert a.get("alice", f"/api/v1/statuses/{seen['id']}").status_code == 404
    assert on_a() == []
    assert a.get("alice", f"/api/v1/accounts/{bob_on_a['id']}/statuses").status_code == 404
    public = a.get("alice", "/api/v1/timelines/public", limit=40).json()
    assert not any("soon erased" in p["content"] for p in public)
    assert "Traceback" not in a.process.log() + b.process.log()
