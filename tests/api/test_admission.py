"""Admission control: what a process cannot take now is refused at once.

The app is driven through ASGI directly (not the TestClient) so that requests
can be held open, as a slow upload or a long stream holds them, while others
arrive. The queueing policy is played out on a real event loop with a
simulated clock: each admitted request "costs" a fixed time, so how long each
request waited between being ready and being started is exact.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from roost.api.admission import INTERVAL_S, Admission
from roost.observability.metrics import Metrics
from tests.conftest import Roost

ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]
WAIT_S = 10.0  # for anything the app should do at once


@dataclass
class Exchange:
    """One request driven straight through an ASGI app, and its answer."""

    scope: Scope
    body_held: bool = False
    requested: bool = False
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reading: asyncio.Event = field(default_factory=asyncio.Event)
    answering: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @classmethod
    def start(
        cls,
        app: ASGI,
        method: str,
        path: str,
        *,
        hold_body: bool = False,
        kind: str = "http",
        token: str = "",
    ) -> Exchange:
        """The request, begun in a task of its own."""
        exchange = cls.of(method, path, hold_body=hold_body, kind=kind, token=token)
        exchange.task = asyncio.ensure_future(app(exchange.scope, exchange.receive, exchange.send))
        return exchange

    @classmethod
    def of(
        cls, method: str, path: str, *, hold_body: bool = False, kind: str = "http", token: str = ""
    ) -> Exchange:
        authorization = [(b"authorization", f"Bearer {token}".encode())] if token else []
        scope: Scope = {
            "type": kind,
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"testserver"),
                (b"origin", b"https://app.example"),
                (b"content-type", b"application/json"),
                (b"content-length", b"40"),
                *authorization,
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "extensions": {"websocket.http.response": {}} if kind == "websocket" else {},
        }
        return cls(scope, body_held=hold_body)

    async def receive(self) -> Message:
        self.reading.set()
        if self.scope["type"] == "websocket":
            await self.release.wait()
            return {"type": "websocket.disconnect", "code": 1000}
        if self.body_held:
            # Half a body now; the rest only when the test says (a slow upload).
            self.body_held = False
            return {"type": "http.request", "body": b'{"status": "a slow', "more_body": True}
        if self.scope["method"] == "POST":
            await self.release.wait()
            return {"type": "http.request", "body": b' upload, in the end"}', "more_body": False}
        if self.requested:
            # The client stays until the test lets it go.
            await self.release.wait()
            return {"type": "http.disconnect"}
        self.requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: Message) -> None:
        if message["type"] in {"http.response.start", "websocket.http.response.start"}:
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
            self.answering.set()
        elif message["type"] in {"http.response.body", "websocket.http.response.body"}:
            self.body += message.get("body", b"")

    async def answered(self) -> Exchange:
        assert self.task is not None
        await asyncio.wait_for(self.task, WAIT_S)
        return self

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


async def _all_set(*events: asyncio.Event) -> None:
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in events)), WAIT_S)


class StalledTimelines:
    """The process's timeline store, as if its database had stopped answering
    home timeline reads until ``resume`` is set."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.resume = asyncio.Event()
        self.waiting = 0
        self.someone_waits = asyncio.Event()

    async def home(self, *args: Any, **kwargs: Any) -> Any:
        self.waiting += 1
        self.someone_waits.set()
        await self.resume.wait()
        return await self.inner.home(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.settings(max_in_flight=2)
def test_given_requests_in_flight_at_the_limit_when_one_more_comes_then_503_at_once_health_answers(
    roost: Roost, caplog: pytest.LogCaptureFixture
) -> None:
    app: ASGI = roost.client.app
    services = roost.client.app.state.services  # type: ignore[attr-defined]
    token = roost.account("alice").token

    async def scenario() -> dict[str, Exchange]:
        stalled = StalledTimelines(services.timelines)
        services.timelines = stalled
        try:
            stuck = [
                Exchange.start(app, "GET", "/api/v1/timelines/home", token=token) for _ in range(2)
            ]
            while stalled.waiting < 2:
                stalled.someone_waits.clear()
                await asyncio.wait_for(stalled.someone_waits.wait(), WAIT_S)
            seen = {
                "refused": await Exchange.start(app, "GET", "/api/v1/instance").answered(),
                "livez": await Exchange.start(app, "GET", "/livez").answered(),
                "readyz": await Exchange.start(app, "GET", "/readyz").answered(),
                "metrics": await Exchange.start(app, "GET", "/metrics").answered(),
            }
            assert all(request.status is None for request in stuck)  # still waiting
            stalled.resume.set()
            for request in stuck:
                assert (await request.answered()).status == 200, request.body
        finally:
            services.timelines = stalled.inner
        seen["after"] = await Exchange.start(app, "GET", "/api/v1/instance").answered()
        return seen

    with caplog.at_level(logging.WARNING, logger="roost.admission"):
        seen = roost.run(scenario)

    refused = seen["refused"]
    assert refused.status == 503
    assert refused.json == {"error": "The server is busy; try again in a moment"}
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["access-control-allow-origin"] == "*"
    assert "Retry-After" in refused.headers["access-control-expose-headers"]
    assert seen["livez"].status == 200
    assert seen["readyz"].status == 200, seen["readyz"].body
    metrics = seen["metrics"].body.decode()
    assert 'roost_http_requests_shed_total{reason="in_flight"} 1.0' in metrics
    assert "roost_http_requests_in_flight 2.0" in metrics
    assert seen["after"].status == 200
    assert any("refused 1 request(s)" in record.getMessage() for record in caplog.records)


@pytest.mark.settings(max_in_flight=1)
def test_given_a_slow_upload_when_other_requests_come_then_it_holds_no_place_in_flight(
    roost: Roost,
) -> None:
    app: ASGI = roost.client.app
    token = roost.account("alice").token

    async def scenario() -> tuple[Exchange, Exchange]:
        upload = Exchange.start(app, "POST", "/api/v1/statuses", hold_body=True, token=token)
        await _all_set(upload.reading)  # admitted, and waiting for the rest of its body
        other = await Exchange.start(app, "GET", "/api/v1/instance").answered()
        assert upload.status is None
        upload.release.set()
        return await upload.answered(), other

    upload, other = roost.run(scenario)
    assert other.status == 200
    assert upload.status == 200, upload.body


@pytest.mark.settings(max_in_flight=1, max_streams=1)
def test_given_streams_at_their_limit_when_requests_and_streams_come_then_only_streams_are_refused(
    roost: Roost,
) -> None:
    app: ASGI = roost.client.app

    async def scenario() -> dict[str, Exchange]:
        stream = Exchange.start(app, "GET", "/api/v1/streaming/public")
        await _all_set(stream.answering)
        assert stream.status == 200
        seen = {
            "request": await Exchange.start(app, "GET", "/api/v1/instance").answered(),
            "second stream": await Exchange.start(
                app, "GET", "/api/v1/streaming/public"
            ).answered(),
            "websocket": await Exchange.start(
                app, "GET", "/api/v1/streaming", kind="websocket"
            ).answered(),
        }
        stream.release.set()  # the first client goes away
        await stream.answered()
        seen["later stream"] = Exchange.start(app, "GET", "/api/v1/streaming/public")
        await _all_set(seen["later stream"].answering)
        seen["later stream"].release.set()
        await seen["later stream"].answered()
        return seen

    seen = roost.run(scenario)
    assert seen["request"].status == 200  # the open stream holds no request's place
    for name in ("second stream", "websocket"):
        assert seen[name].status == 503, name
        assert seen[name].json == {
            "error": "Too many streaming connections to this server; try again later"
        }
        assert int(seen[name].headers["retry-after"]) >= 1
    assert seen["later stream"].status == 200


# -- the queueing policy, in simulated time ------------------------------------


class Turns:
    """An ASGI app whose every request costs ``cost_s`` of simulated time,
    behind the admission control under test, which reads the same clock."""

    def __init__(self, cost_s: float, max_queue_s: float) -> None:
        self.now = 0.0
        self.cost_s = cost_s
        self.admission = Admission(
            self.serve,
            max_queue_s=max_queue_s,
            max_in_flight=0,
            max_streams=0,
            metrics=Metrics(),
            clock=lambda: self.now,
        )
        # (simulated time it began, how long it had waited) per admitted request
        self.admitted: list[tuple[float, float]] = []
        self.refused: list[float] = []

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.admitted.append((self.now, self.now - scope["ready_at"]))
        self.now += self.cost_s  # CPU work: nothing else runs meanwhile
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def request(self) -> int:
        """One request, ready now and begun in the next turn of the loop (as
        one whose bytes have arrived is)."""
        exchange = Exchange.of("GET", "/api/v1/timelines/home")
        exchange.scope["ready_at"] = self.now
        await asyncio.sleep(0)
        await self.admission(exchange.scope, exchange.receive, exchange.send)
        assert exchange.status is not None
        if exchange.status == 503:
            self.refused.append(self.now)
        return exchange.status

    async def clients(self, count: int, until_s: float) -> None:
        """``count`` clients, each sending its next request as soon as the last
        is answered, until the simulated clock reaches ``until_s``."""

        async def client() -> None:
            while self.now < until_s:
                await self.request()

        await asyncio.gather(*(client() for _ in range(count)))


def test_given_an_idle_loop_when_a_burst_arrives_then_it_queues_up_to_the_interval_only() -> None:
    turns = Turns(cost_s=0.04, max_queue_s=0.005)

    async def scenario() -> list[int]:
        return list(await asyncio.gather(*(turns.request() for _ in range(10))))

    statuses = asyncio.run(scenario())
    # All ten began waiting in one turn; each admitted one took 40 ms. Those
    # reached within the interval (100 ms) were served, the rest refused.
    assert INTERVAL_S == 0.1
    assert statuses == [200] * 3 + [503] * 7
    assert [round(waited, 3) for _, waited in turns.admitted] == [0.0, 0.04, 0.08]


def test_given_overload_that_lasts_when_requests_keep_coming_then_none_waits_past_max_queue() -> (
    None
):
    turns = Turns(cost_s=0.004, max_queue_s=0.01)

    asyncio.run(turns.clients(10, until_s=1.0))
    # Ten clients at 4 ms a request: 40 ms of work each turn, and never a turn
    # with nothing waiting. At first the queue may grow (a burst, up to the
    # interval); once that has lasted the interval, no admitted request
    # waited past max_queue, and the rest were refused.
    burst = [waited for began, waited in turns.admitted if began < INTERVAL_S]
    sustained = [waited for began, waited in turns.admitted if began > 2 * INTERVAL_S]
    assert max(burst) > 0.01
    assert sustained and max(sustained) <= 0.01 + 1e-9
    assert len(turns.refused) > len(sustained)


def test_given_overload_that_ended_when_a_new_burst_comes_then_it_may_queue_again() -> None:
    turns = Turns(cost_s=0.004, max_queue_s=0.01)

    async def scenario() -> list[int]:
        await turns.clients(10, until_s=1.0)
        assert turns.refused  # it was overloaded
        await asyncio.sleep(0)  # a turn in which no request started: caught up
        return list(await asyncio.gather(*(turns.request() for _ in range(10))))

    burst = asyncio.run(scenario())
    assert burst == [200] * 10  # 40 ms of queue: within the interval again


# -- requests in flight: a burst may take every place, a lasting overload few --


class Held:
    """An ASGI app whose requests each stay in flight until released, behind
    admission control with ``max_in_flight`` places for a burst and
    ``sustained`` once an overload lasts, on a simulated clock."""

    def __init__(self, max_in_flight: int, sustained: int) -> None:
        self.now = 0.0
        self.metrics = Metrics()
        self.admission = Admission(
            self.serve,
            max_queue_s=0.01,
            max_in_flight=max_in_flight,
            sustained_in_flight=sustained,
            max_streams=0,
            metrics=self.metrics,
            clock=lambda: self.now,
            cpu_clock=lambda: self.cpu,
        )
        self.cpu = 0.0  # the process's CPU time, simulated
        self.running: list[asyncio.Event] = []
        self.exchanges: list[Exchange] = []

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        done = asyncio.Event()
        self.running.append(done)
        await done.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    def start(self) -> Exchange:
        exchange = Exchange.start(self.admission, "GET", "/api/v1/timelines/home")
        self.exchanges.append(exchange)
        return exchange

    async def settle(self) -> None:
        """Turns of the loop in which no request starts: it catches up."""
        for _ in range(5):
            await asyncio.sleep(0)

    async def pressure(self, seconds: float, step_s: float = 0.001) -> list[Exchange]:
        """A request starting every ``step_s`` for ``seconds``, the process
        using a core all along (clients that ask again at once)."""
        started = []
        for _ in range(round(seconds / step_s)):
            started.append(self.start())
            self.now += step_s
            self.cpu += step_s
            await asyncio.sleep(0)
        return started

    async def finish(self, count: int) -> None:
        for done in self.running[:count]:
            done.set()
        del self.running[:count]
        await asyncio.sleep(0)

    async def finish_all(self) -> list[int | None]:
        await self.finish(len(self.running))
        return [(await exchange.answered()).status for exchange in self.exchanges]


def test_given_an_idle_server_when_an_app_opens_with_a_burst_then_every_place_is_used() -> None:
    held = Held(max_in_flight=16, sustained=2)

    async def scenario() -> list[int | None]:
        for _ in range(8):
            held.start()
        await held.settle()
        held.now += 0.03  # answered within 30 ms
        return await held.finish_all()

    assert asyncio.run(scenario()) == [200] * 8
    assert held.admission.limit == 16


def test_given_long_requests_using_little_cpu_when_more_come_then_they_are_admitted() -> None:
    held = Held(max_in_flight=16, sustained=2)

    async def scenario() -> list[int | None]:
        for _ in range(6):  # waiting on the network: little CPU used
            held.start()
        await held.settle()
        held.now += 1.0
        held.cpu += 0.05
        await held.settle()
        held.start()
        await held.settle()
        return await held.finish_all()

    assert asyncio.run(scenario()) == [200] * 7
    assert held.admission.limit == 16


def test_given_overload_that_lasts_when_requests_keep_coming_then_few_are_in_flight() -> None:
    held = Held(max_in_flight=16, sustained=2)

    async def scenario() -> dict[str, Any]:
        await held.pressure(0.05)  # a burst: every place may be taken
        burst_running = len(held.running)
        await held.pressure(0.1)  # it lasts, the loop busy in every turn
        limit_during = held.admission.limit
        await held.finish(14)  # two still in flight: the sustained limit
        refused = await held.pressure(0.01)
        await held.finish(1)  # one place of the two comes free
        admitted = await held.pressure(0.01)
        await held.settle()
        held.now += INTERVAL_S + 0.01  # an interval without refusals: over
        await held.pressure(0.005)
        running_after = len(held.running)
        await held.finish_all()
        return {
            "burst running": burst_running,
            "limit during": limit_during,
            "refused": [e.status for e in refused],
            "admitted": [e.status for e in admitted],
            "running after": running_after,
            "limit after": held.admission.limit,
        }

    seen = asyncio.run(scenario())
    assert seen["burst running"] == 16
    assert seen["limit during"] == 2
    assert set(seen["refused"]) == {503}
    assert seen["admitted"][0] == 200 and set(seen["admitted"][1:]) == {503}
    assert seen["running after"] == 2 + 5  # the two held, and a new burst
    assert seen["limit after"] == 16
    exposition = held.metrics.exposition().decode()
    assert "roost_http_in_flight_limit 16.0" in exposition


def test_given_overload_that_ended_when_nothing_comes_for_an_interval_then_the_gauge_shows_the_burst_limit() -> (  # noqa: E501
    None
):
    """An operator reading /metrics after an overload sees the limit as it
    now stands, not as the last request found it."""
    held = Held(max_in_flight=16, sustained=1)

    async def scenario() -> tuple[int, str]:
        await held.pressure(0.15)  # a lasting overload: one place
        during = held.admission.limit
        await held.finish_all()
        held.now += INTERVAL_S + 0.01  # then nothing comes, not even a request
        return during, held.metrics.exposition().decode()

    during, exposition = asyncio.run(scenario())
    assert during == 1
    assert "roost_http_in_flight_limit 16.0" in exposition


def test_given_three_requests_held_for_an_interval_on_a_busy_process_when_one_more_comes_then_one_place_is_left() -> (  # noqa: E501
    None
):
    """On SQLite the queue is in the event loop: under a lasting overload
    requests in flight rarely reach the burst limit, so the lower limit must
    take hold from the moment the overload counts as sustained, not only
    after a refusal at the burst limit."""
    held = Held(max_in_flight=16, sustained=1)

    async def scenario() -> list[int | None]:
        for _ in range(3):
            held.start()
        await held.settle()
        held.now += 0.15  # all held for longer than an interval...
        held.cpu += 0.15  # ...while the process kept a core busy
        fourth = held.start()
        await held.settle()
        await held.finish(2)
        fifth = held.start()  # the one place of the lower limit is still taken
        await held.settle()
        statuses = [(await fourth.answered()).status, (await fifth.answered()).status]
        await held.finish_all()
        return statuses

    assert asyncio.run(scenario()) == [503, 503]
    assert held.admission.limit == 1


def test_given_two_requests_held_for_a_while_when_a_third_comes_then_it_is_admitted() -> None:
    """A page and its parts, or an app opening, on a slow machine: two
    places held for longer than an interval are not an overload."""
    held = Held(max_in_flight=16, sustained=1)

    async def scenario() -> int | None:
        held.start()
        held.start()
        await held.settle()
        held.now += 0.3
        held.cpu += 0.3
        third = held.start()
        await held.settle()
        await held.finish_all()
        return (await third.answered()).status

    assert asyncio.run(scenario()) == 200
    assert held.admission.limit == 16


def test_given_a_lasting_overload_when_a_browser_page_is_refused_by_the_application_then_it_gets_a_page() -> (  # noqa: E501
    None
):
    """The same answers when the ASGI path refuses (no early protocol)."""
    held = Held(max_in_flight=1, sustained=0)

    async def scenario() -> tuple[Exchange, Exchange]:
        held.start()
        await held.settle()
        page = Exchange.of("GET", "/tags/garden")
        page.scope["headers"].append((b"accept", b"text/html,*/*;q=0.8"))
        page.task = asyncio.ensure_future(held.admission(page.scope, page.receive, page.send))
        api = held.start()
        await held.settle()
        await page.answered()
        await held.finish_all()
        return page, api

    page, api = asyncio.run(scenario())
    assert page.status == 503 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert b'http-equiv="refresh"' in page.body
    assert api.status == 503 and api.headers["content-type"].startswith("application/json")
