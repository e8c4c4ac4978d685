"""The in-flight limit that follows latency (roost/api/concurrency_limit.py).

First the limiter alone on a simulated clock: requests answered in their
unloaded time keep the limit at its maximum, slower ones bring it down to no
less than its floor, and it climbs back when they are fast again or the
process is idle. Then behind admission control, where requests held open in
a real event loop take simulated time that grows with how many run at once
(as requests sharing one loop do): under a lasting overload the excess is
refused, also by the protocol's early check, and an idle instance admits an
app's burst again.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send

from roost.api.admission import ADMITTED, Admission, Refusal
from roost.api.concurrency_limit import INTERVAL_S, AdaptiveLimit, route_class
from roost.observability.metrics import Metrics
from tests.api.test_admission import Exchange

HOME = "GET /api/v1/timelines/home"
SERVICE_S = 0.005


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _limiter(clock: Clock, taken: int = 0) -> AdaptiveLimit:
    return AdaptiveLimit(16, 2, clock=clock, taken=lambda: taken)


def _answer(
    limiter: AdaptiveLimit, clock: Clock, seconds: float, count: int, key: str = HOME
) -> None:
    """``count`` requests answered one after another over an interval (the
    last just past its end, so that the limit moves on them)."""
    for _ in range(count):
        clock.now += 1.01 * INTERVAL_S / count
        limiter.observe(key, seconds)


def test_given_requests_at_their_unloaded_time_then_the_limit_stays_at_its_maximum() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    for _ in range(20):
        _answer(limiter, clock, SERVICE_S, 10)
    assert limiter.current == 16


def test_given_latency_rising_then_the_limit_falls_to_no_less_than_its_floor() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    _answer(limiter, clock, SERVICE_S, 10)
    seen = []
    for _ in range(10):
        _answer(limiter, clock, 4 * SERVICE_S, 10)  # four times the unloaded time
        seen.append(limiter.current)
    assert seen[0] < 16
    assert seen == sorted(seen, reverse=True)
    assert seen[-1] == 2
    assert limiter.last_ratio > 2


def test_given_latency_back_to_unloaded_then_the_limit_climbs_back_one_place_at_a_time() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    _answer(limiter, clock, SERVICE_S, 10)
    for _ in range(10):
        _answer(limiter, clock, 4 * SERVICE_S, 10)
    assert limiter.current == 2
    seen = []
    for _ in range(16):
        _answer(limiter, clock, 1.2 * SERVICE_S, 10)
        seen.append(limiter.current)
    assert seen[:3] == [3, 4, 5]
    assert seen[-1] == 16


def test_given_latency_a_little_above_unloaded_then_the_limit_holds() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    _answer(limiter, clock, SERVICE_S, 10)
    for _ in range(3):
        _answer(limiter, clock, 4 * SERVICE_S, 10)
    held = limiter.current
    for _ in range(5):
        _answer(limiter, clock, 1.8 * SERVICE_S, 10)  # between NEAR and TOLERANCE
    assert limiter.current == held < 16


def test_given_an_idle_process_after_overload_then_the_limit_climbs_back_with_time() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    _answer(limiter, clock, SERVICE_S, 10)
    for _ in range(10):
        _answer(limiter, clock, 4 * SERVICE_S, 10)
    assert limiter.current == 2
    clock.now += 0.5
    assert limiter.current == 7  # five idle intervals, one place each
    clock.now += 2.0
    assert limiter.current == 16


def test_given_every_place_held_and_nothing_answered_then_the_limit_does_not_climb() -> None:
    clock = Clock()
    taken = [0]
    limiter = AdaptiveLimit(16, 2, clock=clock, taken=lambda: taken[0])
    _answer(limiter, clock, SERVICE_S, 10)
    for _ in range(10):
        _answer(limiter, clock, 4 * SERVICE_S, 10)
    taken[0] = 2  # both places held by requests that do not finish
    clock.now += 1.0
    assert limiter.current == 2


def test_given_cheap_and_dear_routes_each_at_its_own_unloaded_time_then_no_load_is_read() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    for _ in range(20):
        for _ in range(5):
            clock.now += 1.01 * INTERVAL_S / 10
            limiter.observe("GET /api/v1/instance", 0.0005)
            clock.now += 1.01 * INTERVAL_S / 10
            limiter.observe(HOME, 0.02)  # forty times the cheap route's time
    assert limiter.current == 16


def test_given_password_and_media_routes_then_they_give_no_sample() -> None:
    for method, path in [
        ("POST", "/oauth/token"),
        ("POST", "/oauth/authorize"),
        ("POST", "/auth/sign_in"),
        ("POST", "/api/v1/accounts"),
        ("PUT", "/settings/security"),
        ("POST", "/api/v2/media"),
    ]:
        assert route_class(method, path) is None, path
    assert route_class("GET", "/api/v1/statuses/1234/context") == "GET /api/v1/statuses/*/context"
    assert route_class("GET", "/@alice/1234") == "GET /*/*"
    assert route_class("POST", "/api/v1/accounts/77/follow") == "POST /api/v1/accounts/*/follow"


# -- behind admission control --


class Shared:
    """Requests held open in a real event loop; when released together, each
    has taken ``SERVICE_S`` times how many ran at once (they shared the
    loop), on the admission's simulated clock."""

    def __init__(self, maximum: int = 16, floor: int = 2) -> None:
        self.clock = Clock()
        self.metrics = Metrics()
        self.admission = Admission(
            self.serve,
            max_queue_s=0,
            max_in_flight=maximum,
            adaptive_floor=floor,
            max_streams=0,
            metrics=self.metrics,
            clock=self.clock,
        )
        self.running: list[asyncio.Event] = []

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        done = asyncio.Event()
        self.running.append(done)
        await done.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def round(self, clients: int, path: str = "/api/v1/timelines/home") -> list[int | None]:
        """``clients`` ask at once; what was admitted is answered together."""
        exchanges = [Exchange.start(self.admission, "GET", path) for _ in range(clients)]
        for _ in range(3):
            await asyncio.sleep(0)
        admitted = len(self.running)
        self.clock.now += SERVICE_S * max(1, admitted)
        for done in self.running:
            done.set()
        self.running.clear()
        statuses = [(await exchange.answered()).status for exchange in exchanges]
        self.clock.now += 0.001
        return statuses


def test_given_an_idle_server_when_an_app_opens_with_a_burst_then_every_request_is_admitted() -> (
    None
):
    shared = Shared()

    async def scenario() -> list[int | None]:
        return await shared.round(8)

    assert asyncio.run(scenario()) == [200] * 8


def test_given_lasting_overload_then_few_are_admitted_and_an_idle_server_takes_a_burst_again() -> (
    None
):
    shared = Shared()

    async def scenario() -> dict[str, object]:
        for _ in range(20):  # unloaded: one at a time
            await shared.round(1)
            shared.clock.now += 0.02
        limit_unloaded = shared.admission.limit
        statuses: list[int | None] = []
        for _ in range(100):  # twenty clients asking again at once
            statuses += await shared.round(20)
        limit_overloaded = shared.admission.limit
        # The protocol's early check refuses beyond the same limit.
        early = [shared.admission.early("/api/v1/timelines/home") for _ in range(4)]
        shared.admission.reserved = 0
        health = shared.admission.early("/livez")
        shared.clock.now += 2.0  # then nobody for two seconds
        burst = await shared.round(8)
        return {
            "limit unloaded": limit_unloaded,
            "limit overloaded": limit_overloaded,
            "last round": statuses[-20:],
            "early": early,
            "health": health,
            "burst": burst,
        }

    seen = asyncio.run(scenario())
    assert seen["limit unloaded"] == 16
    assert seen["limit overloaded"] == 2
    assert seen["last round"].count(200) == 2  # type: ignore[attr-defined]
    assert seen["last round"].count(503) == 18  # type: ignore[attr-defined]
    early = seen["early"]
    assert early[:2] == [ADMITTED, ADMITTED]  # type: ignore[index]
    assert all(isinstance(verdict, Refusal) for verdict in early[2:])  # type: ignore[index]
    assert seen["health"] is None
    assert seen["burst"] == [200] * 8
    exposition = shared.metrics.exposition().decode()
    assert "roost_http_in_flight_limit 16.0" in exposition
    assert "roost_http_in_flight_latency_ratio" in exposition


def test_given_adaptive_off_then_the_limit_stays_fixed_under_overload() -> None:
    shared = Shared(floor=0)

    async def scenario() -> int:
        for _ in range(20):
            await shared.round(1)
        for _ in range(50):
            await shared.round(20)
        return shared.admission.limit

    assert asyncio.run(scenario()) == 16
