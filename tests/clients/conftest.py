"""A real Roost server for real clients.

One ``roost serve`` subprocess per test session, on a free loopback port with a
fresh data directory, SQLite, jobs in-process, open registrations and the OAuth
password grant on (toot's ``login_cli`` needs it). ``LiveServer.create_account``
and ``create_token`` make accounts and tokens the way an operator does, with the
``roost`` command as a subprocess; ``LiveServer.people`` signs accounts up through
the API, the way an app does (and much faster than a CLI process each).

When a test that uses the server fails, the tail of the server's log is added to
the report, so the reason on the server side is next to the client's error.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from mastodon import Mastodon

T = TypeVar("T")

ROOST = Path(sys.executable).with_name("roost")
PASSWORD = "correct horse battery staple"
START_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 30.0
LOG_TAIL_CHARS = 6000

_names = itertools.count(1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _base_env() -> dict[str, str]:
    """The caller's environment without any ROOST_* settings (tests/conftest.py
    strips them from os.environ, but be explicit: the server must see only ours)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}


@dataclass(frozen=True)
class Person:
    """An account on the live server, with its token and a Mastodon.py client acting as it."""

    username: str
    email: str
    password: str
    id: str
    token: str
    api: Mastodon


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def log_tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return text[-LOG_TAIL_CHARS:]

    def roost(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the ``roost`` command against this server's data directory."""
        return subprocess.run(
            [str(ROOST), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )

    def create_account(self, username: str) -> None:
        """``roost accounts create``: approved at once, email USERNAME@example.org."""
        result = self.roost(
            "accounts",
            "create",
            username,
            "--email",
            f"{username}@example.org",
            "--password",
            PASSWORD,
        )
        assert result.returncode == 0, result.stderr

    def create_token(self, username: str, scopes: str = "read write follow push") -> str:
        """``roost tokens create`` prints only the token."""
        result = self.roost("tokens", "create", username, "--scopes", scopes)
        assert result.returncode == 0, result.stderr
        token = result.stdout.strip()
        assert token and "\n" not in token and " " not in token, result.stdout
        return token

    def client(self, token: str | None = None, **kwargs: Any) -> Mastodon:
        return Mastodon(
            access_token=token,
            api_base_url=self.url,
            request_timeout=10,
            ratelimit_method="throw",
            version_check_mode="created",
            **kwargs,
        )

    def people(self, *stems: str) -> list[Person]:
        """Fresh accounts (unique names per call) signed up through the API, the
        way an app's sign-up screen does it, each with its own client."""
        client_id, client_secret = Mastodon.create_app(
            "roost client tests", api_base_url=self.url, request_timeout=10
        )
        result = []
        for stem in stems:
            name = f"{stem}{next(_names)}"
            api = self.client(client_id=client_id, client_secret=client_secret)
            token = api.create_account(name, PASSWORD, f"{name}@example.org", agreement=True)
            assert token, f"sign-up of {name} returned no token"
            # The confirmation mail's link stands in for by the operator's command:
            # until the address is confirmed the token answers 403.
            confirmed = self.roost("accounts", "confirm", name)
            assert confirmed.returncode == 0, confirmed.stderr
            me = api.account_verify_credentials()
            result.append(Person(name, f"{name}@example.org", PASSWORD, str(me["id"]), token, api))
        return result


def _wait_until_live(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"roost serve exited with {server.process.returncode}:\n{server.log_tail()}",
                pytrace=False,
            )
        try:
            if requests.get(f"{server.url}/livez", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"roost serve did not answer /livez in time:\n{server.log_tail()}", pytrace=False)


def own_server(
    tmp_path_factory: pytest.TempPathFactory, name: str, settings: dict[str, str]
) -> Iterator[LiveServer]:
    """A `roost serve` of its own on a fresh data directory, with ``settings``
    (ROOST_* names) beside its address; stopped when the caller is done."""
    if not ROOST.exists():
        pytest.fail(f"{ROOST} is missing: install Roost into this environment first")
    root = tmp_path_factory.mktemp(name)
    data_dir = root / "data"
    data_dir.mkdir()
    port = _free_port()
    env = {
        **_base_env(),
        "ROOST_DATA_DIR": str(data_dir),
        "ROOST_DOMAIN": f"127.0.0.1:{port}",
        **settings,
    }
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(ROOST), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", data_dir, log_path, env, process)
    try:
        _wait_until_live(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from own_server(
        tmp_path_factory,
        "live",
        {
            "ROOST_OAUTH_PASSWORD_GRANT": "true",
            "ROOST_REGISTRATIONS": "open",
            # The push tests' push service listens on loopback.
            "ROOST_OUTBOUND_ALLOW_PRIVATE": "true",
            # Link cards may be fetched from a website on 127.0.0.2 (and only there).
            "ROOST_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.2/32",
            # The suite signs up and calls from one address, far beyond
            # Mastodon's per-address limits.
            "ROOST_RATE_LIMIT_REQUESTS": "10000000",
            "ROOST_RATE_LIMIT_ADDRESS_REQUESTS": "10000000",
            "ROOST_RATE_LIMIT_MEDIA": "1000000",
            "ROOST_RATE_LIMIT_DELETES": "1000000",
            "ROOST_RATE_LIMIT_FOLLOWS": "1000000",
            "ROOST_RATE_LIMIT_SIGN_UPS": "1000000",
        },
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    server = getattr(item, "funcargs", {}).get("live_server")
    if report.failed and isinstance(server, LiveServer):
        report.sections.append(("roost server log (tail)", server.log_tail()))
    return report


def eventually(probe: Callable[[], T | None], *, timeout: float = 5.0) -> T:
    """Poll ``probe`` until it returns something truthy (background jobs run
    in the server process, a moment after the request that queued them)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing arrived within {timeout}s")
        time.sleep(0.1)
