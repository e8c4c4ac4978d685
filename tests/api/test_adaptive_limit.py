"""The in-flight limit that follows latency (roost/api/concurrency_limit.py).

First the limiter alone on a simulated clock: requests answered in their
unloaded time keep the limit at its maximum, slower ones bring it down to no
less than its floor, and it climbs back when they are fast again or the
process is idle. The limit falls only while the event loop is saturated
(its thread working for most of the time it could run, on simulated thread
times): slow answers from a loop that idles (waiting on the database or
Redis) or from a machine that keeps the process waiting for a core do not
lower it. Then behind admission control, where requests held open in a real
event loop take simulated time that grows with how many run at once (as
requests sharing one loop do): under a lasting overload the excess is
refused, also by the protocol's early check, and an idle instance admits an
app's burst again; requests that wait on a dependency are not refused.
"""

from __future__ import annotations

import asyncio
import threading
import time

from starlette.types import Receive, Scope, Send

from roost.api.admission import ADMITTED, Admission
from roost.api.concurrency_limit import (
    INTERVAL_S,
    AdaptiveLimit,
    LoopThreadTimes,
    route_class,
)
from roost.api.refusals import Refusal
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


class LoopTimes:
    """The event loop thread's CPU time and time waited for a core, simulated."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.waited = 0.0

    def __call__(self) -> tuple[float, float]:
        return self.cpu, self.waited


def _answer_on(
    limiter: AdaptiveLimit,
    clock: Clock,
    loop: LoopTimes,
    seconds: float,
    *,
    working: float,
    waiting: float = 0.0,
    count: int = 10,
) -> None:
    """As ``_answer``, the loop's thread working for ``working`` of each
    interval and waiting for a core for ``waiting`` of it (idle the rest)."""
    for _ in range(count):
        step = 1.01 * INTERVAL_S / count
        clock.now += step
        loop.cpu += working * step
        loop.waited += waiting * step
        limiter.observe(HOME, seconds)


def _overloaded_on(clock: Clock, loop: LoopTimes) -> AdaptiveLimit:
    """A limiter brought to its floor by a saturated loop's slow answers."""
    limiter = AdaptiveLimit(16, 2, clock=clock, taken=lambda: 0, loop_times=loop)
    _answer_on(limiter, clock, loop, SERVICE_S, working=1.0)
    for _ in range(10):
        _answer_on(limiter, clock, loop, 4 * SERVICE_S, working=1.0)
    assert limiter.current == 2
    return limiter


def test_given_slow_answers_while_the_loop_idles_waiting_on_a_dependency_then_the_limit_stays() -> (
    None
):
    # Redis gone, reads falling back to the database: every answer takes four
    # times its unloaded time, but the loop's thread works for a third of the
    # time and idles in its selector the rest.
    clock, loop = Clock(), LoopTimes()
    limiter = AdaptiveLimit(16, 2, clock=clock, taken=lambda: 0, loop_times=loop)
    _answer_on(limiter, clock, loop, SERVICE_S, working=0.3)
    for _ in range(10):
        _answer_on(limiter, clock, loop, 4 * SERVICE_S, working=0.3)
    assert limiter.current == 16
    assert limiter.last_ratio > 2
    assert limiter.last_busy < 0.5


def test_given_the_limit_at_its_floor_when_the_loop_idles_between_answers_then_it_climbs_back() -> (
    None
):
    # Few places and slow clients: answers still slow (a crowded machine), but
    # the loop waits for work, so the places cost answers and buy nothing.
    clock, loop = Clock(), LoopTimes()
    limiter = _overloaded_on(clock, loop)
    seen = []
    for _ in range(5):
        _answer_on(limiter, clock, loop, 4 * SERVICE_S, working=0.5)
        seen.append(limiter.current)
    assert seen == [3, 4, 5, 6, 7]


def test_given_slow_answers_from_a_loop_busy_between_waits_for_a_core_then_the_limit_falls() -> (
    None
):
    # A crowded machine: the loop's thread waits for a core two thirds of the
    # time, and works all the rest. It is saturated: the time it waited is
    # not idleness.
    clock, loop = Clock(), LoopTimes()
    limiter = AdaptiveLimit(16, 2, clock=clock, taken=lambda: 0, loop_times=loop)
    _answer_on(limiter, clock, loop, SERVICE_S, working=0.33, waiting=0.67)
    for _ in range(10):
        _answer_on(limiter, clock, loop, 4 * SERVICE_S, working=0.33, waiting=0.67)
    assert limiter.current == 2
    assert limiter.last_busy > 0.9


def test_given_a_loop_neither_saturated_nor_idle_when_answers_are_slow_then_the_limit_holds() -> (
    None
):
    clock, loop = Clock(), LoopTimes()
    limiter = _overloaded_on(clock, loop)
    for _ in range(5):
        _answer_on(limiter, clock, loop, 4 * SERVICE_S, working=0.8)
    assert limiter.current == 2


def test_given_a_loop_thread_working_then_its_cpu_time_grows_read_from_any_thread() -> None:
    loop_thread = LoopThreadTimes()
    assert loop_thread() is None  # not bound yet: nothing to judge by
    loop_thread.bind()
    cpu_before, waited_before = loop_thread()  # type: ignore[misc]
    deadline = time.thread_time() + 0.05
    while time.thread_time() < deadline:
        pass
    cpu_after, waited_after = loop_thread()  # type: ignore[misc]
    assert cpu_after - cpu_before >= 0.04
    assert waited_after >= waited_before

    sleeping = LoopThreadTimes()
    seen: list[tuple[float, float] | None] = []

    def sleeper() -> None:
        sleeping.bind()
        seen.append(sleeping())
        time.sleep(0.1)
        seen.append(sleeping())

    thread = threading.Thread(target=sleeper)
    thread.start()
    deadline = time.thread_time() + 0.08  # this thread works meanwhile
    while time.thread_time() < deadline and thread.is_alive():
        pass
    thread.join()
    (cpu_a, _), (cpu_b, _) = seen  # type: ignore[misc]
    assert cpu_b - cpu_a < 0.02  # its own thread's time, not the process's


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
        self.loop = LoopTimes()
        self.metrics = Metrics()
        self.admission = Admission(
            self.serve,
            max_queue_s=0,
            max_in_flight=maximum,
            adaptive_floor=floor,
            max_streams=0,
            metrics=self.metrics,
            clock=self.clock,
            loop_times=self.loop,
        )
        self.running: list[asyncio.Event] = []
        # Whether the requests' time is the loop's work (shared CPU) or a
        # wait on a dependency (the loop idles meanwhile).
        self.working = True

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
        took = SERVICE_S * max(1, admitted)
        self.clock.now += took
        if self.working:
            self.loop.cpu += took
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
    assert "roost_event_loop_busy_share" in exposition


def test_given_requests_slowed_by_a_dependency_while_the_loop_idles_then_none_is_refused() -> None:
    shared = Shared()
    shared.working = False  # each request's time is a wait on the database

    async def scenario() -> tuple[list[int | None], int]:
        for _ in range(20):
            await shared.round(1)
        statuses: list[int | None] = []
        for _ in range(100):  # twelve at once, each twelve times slower
            statuses += await shared.round(12)
        return statuses, shared.admission.limit

    statuses, limit = asyncio.run(scenario())
    assert statuses == [200] * 1200
    assert limit == 16


def test_given_adaptive_off_then_the_limit_stays_fixed_under_overload() -> None:
    shared = Shared(floor=0)

    async def scenario() -> int:
        for _ in range(20):
            await shared.round(1)
        for _ in range(50):
            await shared.round(20)
        return shared.admission.limit

    assert asyncio.run(scenario()) == 16
