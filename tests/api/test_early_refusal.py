"""Refusals written by the HTTP protocol before any ASGI work
(roost/api/early_refusal.py).

Two levels: uvicorn's own httptools protocol driven byte by byte on a
recording transport, where admission control's state is set by hand so that
each request's fate is known; and a real `roost serve` process hit by a burst
of connections, where the early path must be the one that refuses. Admission
control never touches the database, so one backend covers both.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from roost.api.admission import Admission
from roost.api.early_refusal import PAUSE_S, install
from roost.observability.metrics import Metrics
from tests.cli.installation import Installation


class RecordingTransport(asyncio.Transport):
    """What the protocol writes, and whether it closed the connection."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False
        self.paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )


class Served:
    """Every request the app itself was given (past admission control)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.paths.append(scope["path"])
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"served"})


def _connection(admission: Admission) -> tuple[asyncio.Protocol, RecordingTransport]:
    config = Config(app=admission, http="httptools", lifespan="off", log_config=None)
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Sat, 05 Dec 2026 00:00:00 GMT")]
    protocol_class = install(admission)
    protocol = protocol_class(config=config, server_state=state, app_state={})  # type: ignore[call-arg]
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return protocol, transport


def _admission(app: Served, max_in_flight: int) -> Admission:
    return Admission(
        app, max_queue_s=0, max_in_flight=max_in_flight, max_streams=0, metrics=Metrics()
    )


def _answers(written: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The HTTP/1.1 answers in ``written``, in order."""
    found = []
    rest = written
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        if "transfer-encoding" in headers:
            chunks, _, rest = rest.partition(b"0\r\n\r\n")
            body = re.sub(rb"[0-9a-f]+\r\n(.*?)\r\n", rb"\1", chunks, flags=re.S)
        else:
            body, rest = rest[:length], rest[length:]
        found.append((status, headers, body))
    return found


def test_given_no_place_free_when_a_post_with_a_body_arrives_then_it_is_refused_before_asgi_and_the_connection_serves_the_next_request() -> (  # noqa: E501
    None
):
    async def scenario() -> None:
        served = Served()
        admission = _admission(served, max_in_flight=1)
        protocol, transport = _connection(admission)
        admission.in_flight = 1  # another request holds the only place

        body = b'{"status": "hello"}'
        protocol.data_received(
            b"POST /api/v1/statuses HTTP/1.1\r\nHost: roost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        protocol.data_received(body)  # the body of a refused request is dropped
        await asyncio.sleep(0)
        [(status, headers, answer)] = _answers(transport.written)
        assert status == 503
        assert headers["retry-after"] == "1"
        assert headers["date"] == "Sat, 05 Dec 2026 00:00:00 GMT"
        assert "connection" not in headers  # kept alive
        assert orjson.loads(answer) == {"error": "The server is busy; try again in a moment"}
        assert served.paths == [] and not transport.closed
        assert admission.reserved == 0
        # A first refusal leaves the connection read from: what its client
        # asks next is decided when it comes.
        assert not transport.paused

        # The place comes free; the same connection's next request is parsed
        # cleanly (the dropped body did not leak into it) and served.
        admission.in_flight = 0
        transport.written = b""
        protocol.data_received(b"GET /api/v1/instance HTTP/1.1\r\nHost: roost\r\n\r\n")
        for _ in range(5):
            await asyncio.sleep(0)
        [(status, _, answer)] = _answers(transport.written)
        assert (status, answer) == (200, b"served")
        assert served.paths == ["/api/v1/instance"]
        assert admission.reserved == 0 and admission.in_flight == 0

    asyncio.run(scenario())


def test_given_a_refused_connection_when_its_client_asks_again_at_once_then_a_free_place_serves_it_at_once_and_a_refusal_is_held_back() -> (  # noqa: E501
    None
):
    """A client that retries the moment it is refused: the retry is read and
    decided on arrival (served at once if a place came free, so no pause
    hides in an admitted request's latency), and only a second refusal
    within PAUSE_S waits, its connection unread meanwhile."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        served = Served()
        admission = _admission(served, max_in_flight=1)
        protocol, transport = _connection(admission)
        request = b"GET /api/v1/timelines/home HTTP/1.1\r\nHost: roost\r\n\r\n"

        # Given a connection refused once (the only place taken)...
        admission.in_flight = 1
        protocol.data_received(request)
        [(status, _, _)] = _answers(transport.written)
        assert status == 503 and not transport.paused

        # ...when its client asks again at once and the place has come free,
        # then the request is served in the same moment.
        admission.in_flight = 0
        transport.written = b""
        asked = loop.time()
        protocol.data_received(request)
        for _ in range(5):
            await asyncio.sleep(0)
        [(status, _, answer)] = _answers(transport.written)
        assert (status, answer) == (200, b"served")
        assert loop.time() - asked < PAUSE_S / 2

        # Refused again a while later, then asked again at once with no place
        # free: the second refusal is held until PAUSE_S after the first, and
        # nothing more is read from the connection meanwhile.
        await asyncio.sleep(PAUSE_S * 1.2)
        admission.in_flight = 1
        transport.written = b""
        protocol.data_received(request)
        first_refused = loop.time()
        [(status, _, _)] = _answers(transport.written)
        assert status == 503
        transport.written = b""
        protocol.data_received(request)
        assert transport.written == b"" and transport.paused
        for _ in range(100):
            await asyncio.sleep(0.005)
            if transport.written:
                break
        held_for = loop.time() - first_refused
        [(status, headers, _)] = _answers(transport.written)
        assert status == 503 and headers["retry-after"] == "1"
        assert PAUSE_S * 0.9 <= held_for < PAUSE_S * 3
        assert not transport.paused and served.paths == ["/api/v1/timelines/home"]

        # A client that waited PAUSE_S before asking again is answered at once.
        await asyncio.sleep(PAUSE_S * 1.2)
        transport.written = b""
        protocol.data_received(request)
        [(status, _, _)] = _answers(transport.written)
        assert status == 503 and not transport.paused

    asyncio.run(scenario())


def test_given_a_held_refusal_when_a_request_is_pipelined_behind_it_or_the_client_leaves_then_answers_keep_their_order_and_nothing_is_written_to_a_gone_client() -> (  # noqa: E501
    None
):
    async def scenario() -> None:
        served = Served()
        admission = _admission(served, max_in_flight=1)
        protocol, transport = _connection(admission)
        request = b"GET /api/v1/notifications HTTP/1.1\r\nHost: roost\r\n\r\n"
        admission.in_flight = 1
        protocol.data_received(request)  # refused at once
        transport.written = b""

        # Given a refusal held back, with a second request pipelined behind it
        # (the place free by then)...
        protocol.data_received(request)
        admission.in_flight = 0
        protocol.data_received(b"GET /api/v1/instance HTTP/1.1\r\nHost: roost\r\n\r\n")
        assert transport.written == b""
        # ...then the refusal is written first, and the pipelined request
        # served after it.
        for _ in range(40):
            await asyncio.sleep(0.005)
            if len(_answers(transport.written)) == 2:
                break
        assert [status for status, _, _ in _answers(transport.written)] == [503, 200]
        assert served.paths == ["/api/v1/instance"]

        # Given another held refusal, when the client goes away meanwhile,
        # then nothing is written to it.
        other, other_transport = _connection(admission)
        admission.in_flight = 1
        other.data_received(request)
        other_transport.written = b""
        other.data_received(request)
        other_transport.closed = True
        other.connection_lost(None)
        await asyncio.sleep(PAUSE_S * 1.5)
        assert other_transport.written == b""

    asyncio.run(scenario())


def test_given_one_place_when_two_requests_arrive_in_the_same_turn_then_the_second_is_refused_early() -> (  # noqa: E501
    None
):
    async def scenario() -> None:
        served = Served()
        admission = _admission(served, max_in_flight=1)
        first, first_transport = _connection(admission)
        second, second_transport = _connection(admission)
        request = b"GET /api/v1/timelines/public HTTP/1.1\r\nHost: roost\r\n\r\n"

        # Both read in one turn: the first's task has not started yet, but its
        # place is reserved, so the second sees it taken.
        first.data_received(request)
        second.data_received(request)
        assert admission.reserved == 1
        assert _answers(second_transport.written)[0][0] == 503
        for _ in range(5):
            await asyncio.sleep(0)
        assert _answers(first_transport.written)[0][0] == 200
        assert served.paths == ["/api/v1/timelines/public"]
        assert admission.reserved == 0 and admission.in_flight == 0

    asyncio.run(scenario())


def test_given_no_place_free_when_health_is_probed_or_an_http10_client_is_refused_then_health_answers_and_http10_is_closed() -> (  # noqa: E501
    None
):
    async def scenario() -> None:
        served = Served()
        admission = _admission(served, max_in_flight=1)
        admission.in_flight = 1

        probe, probe_transport = _connection(admission)
        probe.data_received(b"GET /livez HTTP/1.1\r\nHost: roost\r\n\r\n")
        for _ in range(5):
            await asyncio.sleep(0)
        assert _answers(probe_transport.written)[0][0] == 200  # never refused

        old, old_transport = _connection(admission)
        old.data_received(b"GET /api/v1/instance HTTP/1.0\r\n\r\n")
        [(status, headers, _)] = _answers(old_transport.written)
        assert status == 503 and headers["connection"] == "close" and old_transport.closed

    asyncio.run(scenario())


def _status(s: socket.socket) -> int:
    s.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, "the server closed the connection without answering"
        data += chunk
    return int(data.split(b" ", 2)[1])


def _burst_behind_a_sign_in(port: int, app: dict[str, str], round_: int) -> tuple[int, list[int]]:
    """A password sign-in (its hash check takes ~50 ms on a thread, holding
    the one place), then 20 requests on connections of their own while it
    runs; the sign-in's status and theirs."""
    holder = socket.create_connection(("127.0.0.1", port))
    others = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    form = (
        f"grant_type=password&username=nobody{round_}@example.org&password=wrong-password"
        f"&client_id={app['client_id']}&client_secret={app['client_secret']}&scope=read"
    ).encode()
    try:
        holder.sendall(
            b"POST /oauth/token HTTP/1.1\r\nHost: roost\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(form)}\r\n\r\n".encode()
            + form
        )
        time.sleep(0.01)
        for s in others:
            s.sendall(b"GET /api/v1/timelines/public HTTP/1.1\r\nHost: roost\r\n\r\n")
        statuses = [_status(s) for s in others]
        return _status(holder), statuses
    finally:
        for s in [holder, *others]:
            s.close()


@pytest.mark.timeout(120)
def test_given_a_running_server_with_one_place_when_requests_come_while_it_is_taken_then_the_protocol_refuses_them(  # noqa: E501
    tmp_path: Path,
) -> None:
    installation = Installation(tmp_path, {"max_in_flight": "1", "max_queue_ms": "0"})
    try:
        base = installation.serve()
        port = int(base.rsplit(":", 1)[1])
        app = httpx.post(
            f"{base}/api/v1/apps",
            data={"client_name": "burst", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
            timeout=10,
        ).json()
        refused = 0
        for round_ in range(3):
            signed_in, statuses = _burst_behind_a_sign_in(port, app, round_)
            assert signed_in in (400, 401), signed_in  # wrong password: answered, not refused
            assert set(statuses) <= {200, 503}, statuses
            refused += statuses.count(503)
        assert refused >= 1
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        early = re.search(r"^roost_http_requests_refused_early_total (\S+)$", metrics, re.M)
        assert early is not None and float(early.group(1)) == refused, metrics
        assert httpx.get(f"{base}/livez", timeout=10).status_code == 200
    finally:
        installation.stop_all()


def test_given_no_place_free_when_a_browser_asks_for_a_page_or_sends_a_form_then_it_gets_a_page_not_json() -> (  # noqa: E501
    None
):
    """A person's browser shows whatever comes back as the page: a page
    that loads itself again (GET), or that says to go back (a form), while
    apps and other servers still read Mastodon's error entity."""

    async def scenario() -> list[tuple[int, dict[str, str], bytes]]:
        served = Served()
        admission = _admission(served, max_in_flight=1)
        admission.in_flight = 1
        answers = []
        for request in (
            b"GET /@alice HTTP/1.1\r\nHost: roost\r\n"
            b"Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n\r\n",
            b"POST /auth/sign_in HTTP/1.1\r\nHost: roost\r\nAccept: text/html,*/*\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b",
            b"GET /api/v1/timelines/home HTTP/1.1\r\nHost: roost\r\n"
            b"Accept: application/json\r\n\r\n",
            b"GET /users/alice HTTP/1.1\r\nHost: roost\r\n"
            b"Accept: application/activity+json\r\n\r\n",
        ):
            protocol, transport = _connection(admission)
            protocol.data_received(request)
            [answer] = _answers(transport.written)
            answers.append(answer)
        assert served.paths == []
        return answers

    page, form, api, federation = asyncio.run(scenario())
    for status, headers, body in (page, form):
        assert status == 503 and headers["retry-after"] == "1"
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert b"<h1>This server is busy</h1>" in body and b"<script" not in body
    assert b'<meta http-equiv="refresh" content="1">' in page[2]
    assert b"refresh" not in form[2] and b"Go back" in form[2]
    for status, headers, body in (api, federation):
        assert status == 503 and headers["content-type"] == "application/json; charset=utf-8"
        assert orjson.loads(body) == {"error": "The server is busy; try again in a moment"}
