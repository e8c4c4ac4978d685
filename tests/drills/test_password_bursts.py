"""Drill (threats 31-35): a burst of password guesses against real servers.

A stranger at one loopback address sends 40 wrong passwords at the same moment,
then the right one while the burst is still being answered. Every place a
password is checked is drilled: the OAuth sign-in form, the password grant and
the erasure's password. Embedded mode runs one ``roost serve`` (in-process
counts); scaled mode runs two on PostgreSQL + Redis and splits the burst
between them (counts shared through Redis).

Then: at most ROOST_SIGN_IN_ATTEMPTS passwords were checked (the servers'
``roost_password_attempts_total`` and the answers agree), the late right
password is refused with 429 and Retry-After, the owner signing in from another
address gets in while the stranger's address stays blocked, and guesses spread
over several addresses reach the looser per-account limit, which then holds
the owner back too.

Addresses are real: each client binds its own source address in 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.drills.conftest import Stack
from tests.drills.support import ROOST, ServerProcess, roost_env

PASSWORD = "correct horse battery staple"
OOB = "urn:ietf:wg:oauth:2.0:oob"
LIMIT = 5
ACCOUNT_LIMIT = 12
BURST = 40
STRANGER, OWNER = "127.0.0.2", "127.0.0.3"
LATER_STRANGERS = ("127.0.0.4", "127.0.0.5", "127.0.0.6")
OWNER_ELSEWHERE = "127.0.0.9"
LIMITS = {
    "oauth_password_grant": "true",
    "sign_in_attempts": str(LIMIT),
    "sign_in_account_attempts": str(ACCOUNT_LIMIT),
    "sign_in_address_attempts": "1000",
    "sign_in_window_s": "300",
    # Admission control off: the drill is of the password limiter, which must
    # hold with the whole burst reaching it at once, not a burst thinned by
    # 503s from a busy event loop.
    "max_queue_ms": "0",
    "max_in_flight": "0",
}


def client_at(address: str) -> httpx.AsyncClient:
    """A client whose connections come from ``address`` (its own source IP)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(transport=transport, timeout=60)


@dataclass
class Target:
    """The servers under test and what a password attempt needs there."""

    urls: list[str]
    app: dict[str, str] = field(default_factory=dict)
    token: str = ""

    def url(self, n: int) -> str:
        return self.urls[n % len(self.urls)]


class Entry:
    """One place a password is checked: how to try one, what its answers are."""

    purpose = "sign_in"
    success = 200
    wrong = 400

    async def open(self, client: httpx.AsyncClient, url: str, target: Target) -> None:
        """What a client does once before its attempts."""

    async def attempt(
        self, client: httpx.AsyncClient, url: str, target: Target, password: str
    ) -> httpx.Response:
        raise NotImplementedError


class PasswordGrant(Entry):
    async def attempt(
        self, client: httpx.AsyncClient, url: str, target: Target, password: str
    ) -> httpx.Response:
        return await client.post(
            url + "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": target.app["client_id"],
                "client_secret": target.app["client_secret"],
                "username": "owner",
                "password": password,
                "scope": "read",
            },
        )


class SignInForm(Entry):
    wrong = 422

    def __init__(self) -> None:
        self.csrf: dict[int, str] = {}

    @staticmethod
    def query(target: Target) -> dict[str, str]:
        return {
            "client_id": target.app["client_id"],
            "redirect_uri": OOB,
            "response_type": "code",
            "scope": "read",
        }

    async def open(self, client: httpx.AsyncClient, url: str, target: Target) -> None:
        # The form's CSRF cookie holds for every server (they share the secret key).
        page = await client.get(url + "/oauth/authorize", params=self.query(target))
        assert page.status_code == 200, page.text
        self.csrf[id(client)] = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]

    async def attempt(
        self, client: httpx.AsyncClient, url: str, target: Target, password: str
    ) -> httpx.Response:
        return await client.post(
            url + "/oauth/authorize",
            data={
                **self.query(target),
                "csrf_token": self.csrf[id(client)],
                "login": "owner",
                "password": password,
                "decision": "approve",
            },
        )


class Erasure(Entry):
    purpose = "erasure"
    wrong = 403

    async def attempt(
        self, client: httpx.AsyncClient, url: str, target: Target, password: str
    ) -> httpx.Response:
        return await client.post(
            url + "/api/v1/roost/account/erase",
            json={"password": password},
            headers={"Authorization": f"Bearer {target.token}"},
        )


ENTRIES = {"password_grant": PasswordGrant(), "sign_in_form": SignInForm(), "erasure": Erasure()}


def checked(urls: list[str], purpose: str) -> dict[str, float]:
    """``roost_password_attempts_total`` for ``purpose`` summed over the servers."""
    totals: dict[str, float] = {"accepted": 0.0, "rejected": 0.0, "limited": 0.0}
    pattern = re.compile(
        r'^roost_password_attempts_total\{outcome="(\w+)",purpose="(\w+)"\} ([0-9.e+]+)$'
        r'|^roost_password_attempts_total\{purpose="(\w+)",outcome="(\w+)"\} ([0-9.e+]+)$'
    )
    for url in urls:
        text = httpx.get(url + "/metrics", timeout=10).text
        for line in text.splitlines():
            match = pattern.match(line)
            if match is None:
                continue
            if match.group(1):
                outcome, what, value = match.group(1), match.group(2), match.group(3)
            else:
                what, outcome, value = match.group(4), match.group(5), match.group(6)
            if what == purpose:
                totals[outcome] += float(value)
    return totals


async def burst(entry: Entry, target: Target) -> tuple[list[httpx.Response], httpx.Response]:
    """40 wrong passwords at once from STRANGER, then the right one as soon as
    the first refusal shows the limit is reached (or the burst is over)."""
    async with client_at(STRANGER) as client:
        await entry.open(client, target.url(0), target)
        refused = asyncio.Event()

        async def wrong(n: int) -> httpx.Response:
            response = await entry.attempt(client, target.url(n), target, f"guess number {n}")
            if response.status_code == 429:
                refused.set()
            return response

        everything = asyncio.gather(*(wrong(n) for n in range(BURST)))
        waiter = asyncio.ensure_future(refused.wait())
        await asyncio.wait([waiter, everything], return_when=asyncio.FIRST_COMPLETED)
        right = await entry.attempt(client, target.url(BURST), target, PASSWORD)
        wrongs = await everything
        waiter.cancel()
    return list(wrongs), right


async def one(
    entry: Entry, target: Target, address: str, password: str, n: int = 0
) -> httpx.Response:
    async with client_at(address) as client:
        await entry.open(client, target.url(n), target)
        return await entry.attempt(client, target.url(n), target, password)


def limited(response: httpx.Response) -> bool:
    return response.status_code == 429 and int(response.headers.get("retry-after", "0")) >= 1


def run_drill(entry: Entry, target: Target) -> None:
    before = checked(target.urls, entry.purpose)
    wrongs, right = asyncio.run(burst(entry, target))
    after = checked(target.urls, entry.purpose)
    statuses = sorted(r.status_code for r in wrongs)
    wrong_answers = [r for r in wrongs if r.status_code == entry.wrong]
    assert len(wrong_answers) <= LIMIT, (
        f"{len(wrong_answers)} wrong passwords were checked: {statuses}"
    )
    assert all(r.status_code in (entry.wrong, 429) for r in wrongs), statuses
    assert all(limited(r) for r in wrongs if r.status_code == 429), "a 429 without Retry-After"
    verified = (after["accepted"] - before["accepted"]) + (after["rejected"] - before["rejected"])
    assert verified <= LIMIT, f"{verified} passwords verified for a burst limited to {LIMIT}"
    # Every attempt is accounted for: checked, or refused before any check.
    assert verified + after["limited"] - before["limited"] == BURST + 1
    assert limited(right), (right.status_code, right.text[:200])

    still = asyncio.run(one(entry, target, STRANGER, PASSWORD, n=1))
    assert limited(still), "the stranger's address was let in with the right password"
    owner = asyncio.run(one(entry, target, OWNER, PASSWORD))
    assert owner.status_code == entry.success, owner.text[:300]
    if isinstance(entry, Erasure):
        return  # the owner's success erased the account: nothing left to guess at
    still = asyncio.run(one(entry, target, STRANGER, PASSWORD, n=1))
    assert limited(still), "the owner's sign-in let the stranger's address in"

    # Guesses from more addresses reach the looser per-account limit ...
    for n, address in enumerate(LATER_STRANGERS):
        for _ in range(LIMIT):
            asyncio.run(one(entry, target, address, "another guess", n=n))
    final = checked(target.urls, entry.purpose)
    assert final["rejected"] - before["rejected"] <= ACCOUNT_LIMIT
    # ... which then holds the owner back too, wherever they come from.
    blocked = asyncio.run(one(entry, target, OWNER_ELSEWHERE, PASSWORD))
    assert limited(blocked), (blocked.status_code, blocked.text[:200])


def prepare(server: ServerProcess, urls: list[str]) -> Target:
    target = Target(urls)
    app = httpx.post(
        urls[0] + "/api/v1/apps",
        data={"client_name": "drill", "redirect_uris": OOB, "scopes": "read write"},
        timeout=10,
    )
    assert app.status_code == 200, app.text
    target.app = app.json()
    target.token = server.cli("tokens", "create", "owner", "--scopes", "read write").strip()
    return target


def create_owner(env: dict[str, str]) -> None:
    done = subprocess.run(
        [
            str(ROOST),
            "accounts",
            "create",
            "owner",
            "--email",
            "owner@example.org",
            "--password",
            PASSWORD,
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


@pytest.mark.parametrize("entry_name", list(ENTRIES))
def test_given_an_embedded_server_when_a_burst_of_guesses_arrives_then_the_limit_holds(
    entry_name: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    env = roost_env(data_dir=str(tmp_path / "data"), secret_key="e" * 40, **LIMITS)
    create_owner(env)
    servers.append(ServerProcess(env, tmp_path / "server.log"))
    run_drill(ENTRIES[entry_name], prepare(servers[0], [servers[0].url]))


@pytest.mark.parametrize("entry_name", list(ENTRIES))
def test_given_two_scaled_servers_when_a_split_burst_of_guesses_arrives_then_the_limit_holds(
    entry_name: str, stack: Stack, servers: list[ServerProcess]
) -> None:
    env = stack.env(**LIMITS, run_jobs_in_process="true")
    create_owner(env)
    for name in ("one", "two"):
        servers.append(ServerProcess(env, stack.tmp / f"{name}.log"))
    run_drill(ENTRIES[entry_name], prepare(servers[0], [s.url for s in servers]))
