"""Streaming heartbeats on a real server: a client that waits a couple of
heartbeat intervals, and no longer, tells a live connection from a dead one.

A ``roost serve`` process with ROOST_STREAMING_HEARTBEAT_S=0.5 (Roost's
default is 5 s; Mastodon's SSE heartbeat is 15 s). Heartbeats must come on
the clock even while the bus is busy with events that are not for the
stream, a link that dies silently must show as heartbeats that stop, a
revoked token must end the stream within a heartbeat, and a WebSocket client
that stops answering pings must be dropped.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from mastodon import Mastodon, StreamListener

from roost.config import Settings, load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.process import prepare_process
from tests.drills.support import ROOST, FaultyProxy, free_port, roost_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

HEARTBEAT_S = 0.5
# What a client allows itself before it calls the connection dead.
PATIENCE_S = 2 * HEARTBEAT_S


@dataclass
class Live:
    url: str
    port: int
    env: dict[str, str]
    listener_token: str
    poster_token: str

    def roost(self, *args: str) -> str:
        done = subprocess.run(
            [str(ROOST), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


def _accounts_and_tokens(settings: Settings) -> tuple[str, str]:
    """The listener's and the poster's tokens, made before the server starts."""

    # This process's key store must be this installation's (sealed e-mail
    # addresses and notes), not whatever an earlier test left installed.
    prepare_process(settings)

    async def make() -> tuple[str, str]:
        db = Database(settings)
        try:
            await upgrade(db)
            tokens = []
            async with db.write() as tx:
                for name in ("listener", "poster"):
                    account_id = await do_create_account(
                        tx, NewAccount(name, f"{name}@example.org", "pw" * 6)
                    )
                    issued = await do_issue_token(tx, account_id, None, parse_scopes("read write"))
                    tokens.append(issued.token)
            return tokens[0], tokens[1]
        finally:
            await db.dispose()

    return asyncio.run(make())


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    port = free_port()
    values = {
        "data_dir": str(tmp_path / "data"),
        "domain": f"127.0.0.1:{port}",
        "secret_key": "h" * 40,
        "streaming_heartbeat_s": str(HEARTBEAT_S),
    }
    listener, poster = _accounts_and_tokens(load_settings(**values))
    env = roost_env(**values)
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [str(ROOST), "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/livez", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 30, f"roost serve on {url}")
        yield Live(url, port, env, listener, poster)
    finally:
        process.kill()
        process.wait(timeout=10)


def _sse(client: httpx.Client, base: str, token: str) -> httpx.Response:
    return client.send(
        client.build_request(
            "GET",
            f"{base}/api/v1/streaming/hashtag",
            params={"tag": "quiet"},
            headers={"Authorization": f"Bearer {token}"},
        ),
        stream=True,
    )


def _post_untagged(live: Live, stop: threading.Event) -> None:
    """Keep the event bus busy with posts the #quiet stream does not carry."""
    with httpx.Client(headers={"Authorization": f"Bearer {live.poster_token}"}) as poster:
        n = 0
        while not stop.is_set():
            n += 1
            poster.post(f"{live.url}/api/v1/statuses", json={"status": f"noise {n}"})
            stop.wait(0.05)


def test_given_a_busy_bus_when_a_quiet_stream_is_read_then_heartbeats_come_on_the_clock(
    live: Live,
) -> None:
    timeout = httpx.Timeout(10.0, read=PATIENCE_S)
    stop = threading.Event()
    noise = threading.Thread(target=_post_untagged, args=(live, stop))
    beats: list[float] = []
    with httpx.Client(timeout=timeout) as client:
        response = _sse(client, live.url, live.listener_token)
        try:
            assert response.status_code == 200
            lines = response.iter_lines()
            assert next(lines) == ":)"
            noise.start()
            started = time.monotonic()
            while time.monotonic() - started < 4.0:
                line = next(lines)  # a ReadTimeout here: the heartbeat was late
                if line == ":thump":
                    beats.append(time.monotonic())
        finally:
            stop.set()
            response.close()
    noise.join(timeout=10)
    gaps = [later - earlier for earlier, later in itertools.pairwise(beats)]
    assert len(beats) >= 6, beats
    assert max(gaps) < 1.5 * HEARTBEAT_S, gaps


def test_given_a_link_that_dies_silently_then_the_sse_client_notices_within_two_heartbeats(
    live: Live,
) -> None:
    proxy = FaultyProxy(live.port)
    try:
        with httpx.Client(timeout=httpx.Timeout(10.0, read=PATIENCE_S)) as client:
            response = _sse(client, f"http://127.0.0.1:{proxy.port}", live.listener_token)
            try:
                lines = response.iter_lines()
                healthy_until = time.monotonic() + 2.0
                while time.monotonic() < healthy_until:
                    next(lines)  # alive: heartbeats keep the read timeout away
                proxy.freeze()
                frozen_at = time.monotonic()
                with pytest.raises(httpx.ReadTimeout):
                    while True:
                        next(lines)
                noticed_after = time.monotonic() - frozen_at
            finally:
                response.close()
    finally:
        proxy.close()
    assert noticed_after < PATIENCE_S + HEARTBEAT_S, noticed_after


def test_given_a_revoked_token_when_streaming_then_the_stream_ends_within_a_heartbeat(
    live: Live,
) -> None:
    with httpx.Client(timeout=httpx.Timeout(10.0, read=5.0)) as client:
        response = _sse(client, live.url, live.listener_token)
        try:
            lines = response.iter_lines()
            assert next(lines) == ":)"
            live.roost("tokens", "revoke-all", "listener")
            revoked_at = time.monotonic()
            for _ in lines:
                pass  # heartbeats until the server ends the stream
            ended_after = time.monotonic() - revoked_at
        finally:
            response.close()
    assert ended_after < 2 * HEARTBEAT_S + 0.5, ended_after


class _Beats(StreamListener):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.heartbeats = 0
        self.aborted: list[Exception] = []

    def handle_heartbeat(self) -> None:
        self.heartbeats += 1

    def on_abort(self, err: Exception) -> None:
        self.aborted.append(err)


def test_given_mastodon_py_with_a_short_timeout_when_the_stream_is_quiet_then_it_stays_connected(
    live: Live,
) -> None:
    """Mastodon.py reads with ``timeout`` as its read timeout: heartbeats
    every interval keep a client that waits only two intervals connected."""
    api = Mastodon(access_token=live.listener_token, api_base_url=live.url, request_timeout=10)
    listener = _Beats()
    handle = api.stream_hashtag(
        "quiet", listener, run_async=True, timeout=PATIENCE_S, reconnect_async=False
    )
    try:
        time.sleep(3.0)
        assert handle.is_alive() and not listener.aborted, listener.aborted
        assert listener.heartbeats >= 4
    finally:
        handle.close()


def _websocket(port: int) -> socket.socket:
    """A bare WebSocket handshake, so that nothing answers the server's pings."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /api/v1/streaming?stream=public HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "the server closed the connection during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _frame(sock: socket.socket) -> int:
    """The opcode of the next frame from the server (its payload is read and dropped)."""
    first, second = _exact(sock, 2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(_exact(sock, 2), "big")
    elif length == 127:
        length = int.from_bytes(_exact(sock, 8), "big")
    _exact(sock, length)
    return first & 0x0F


PING, CLOSE = 0x9, 0x8


def test_given_a_websocket_client_that_stops_answering_then_pinged_and_dropped(
    live: Live,
) -> None:
    sock = _websocket(live.port)
    try:
        sock.settimeout(PATIENCE_S)
        started = time.monotonic()
        assert _frame(sock) == PING  # a socket.timeout here: no ping came in time
        first_ping_after = time.monotonic() - started
        sock.settimeout(10)
        opcodes: list[int] = []
        try:
            while True:
                opcodes.append(_frame(sock))
                if opcodes[-1] == CLOSE:
                    break
        except (EOFError, ConnectionError):
            pass
        dropped_after = time.monotonic() - started
    finally:
        sock.close()
    assert first_ping_after < PATIENCE_S
    # Pinged, never answered: closed once three intervals pass without a pong.
    assert dropped_after < HEARTBEAT_S + 3 * HEARTBEAT_S + 1.0, (dropped_after, opcodes)
