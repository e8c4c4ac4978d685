"""Admission control: what one process cannot serve in time is refused at once.

Overloaded, a server that queues everything answers everything late: at 200
connections on the home timeline requests waited 5 to 10 s and ``/livez`` timed
out, so an orchestrator would have restarted a healthy process. This
middleware (pure ASGI, in front of FastAPI itself: ``roost.app.RoostApp``)
answers the excess ``503`` with ``Retry-After`` and Mastodon's
``{"error": ...}`` before any work is done for it, so that what it admits, and
the health checks, keep their latency.

What is measured. One ``roost serve`` is one event loop, and a request's work
(parsing, policy, a prepared read, rendering) is mostly CPU that runs to the
end without yielding. Under overload the queue is therefore not here but in
the loop: requests whose bytes have arrived wait for their turn, and by the
time one reaches this middleware, what was ahead of it has usually finished.
With 200 connections waiting, the requests in flight stayed at 1 or 2
(SQLite, measured): a count cannot see that queue. Time can. Every request
that starts in a turn of the loop was ready when the turn began, and its
bytes were read at the end of the turn before at the latest; so it has waited
at least as long as it is into its turn, and at most that plus the length of
the turn before, which is what it is taken to have waited. The middleware
notes when turns begin: a callback queued behind a turn's work runs first in
the next one (while requests keep coming; an idle loop is left alone).

The policy is CoDel's, as used for RPC queues: while the loop keeps catching
up (a turn with no request starting, within the last ``INTERVAL_S``), a burst
may wait up to ``INTERVAL_S``; once it has not caught up for that long, a
request that waited longer than ``max_queue_s`` is refused. A burst of
clients opening at once is absorbed; sustained overload is cut down to
``max_queue_s`` of queue, which bounds the admitted requests' latency and
keeps the turns short enough for ``/livez`` to answer. A refusal costs about
a tenth of a home timeline, mostly uvicorn's own parsing and writing; being
in front of FastAPI saves most of the rest (10,000 to 14,000 refusals a
second against 7,000 to 9,000 behind it).

Also bounded: requests in flight (``max_in_flight``), for requests that wait
on something other than the loop: on PostgreSQL and Redis a request waits
for its round trips and for a pooled connection, where the loop does not see
the queue, and one process serves fastest with a few requests at once
(overloaded on PostgreSQL, 16 admitted were answered in about half the time
of 32, and a third or less of 100). With ``ROOST_ADAPTIVE_IN_FLIGHT`` the
limit follows latency and the loop's busy share
(roost/api/concurrency_limit.py): the configured maximum while admitted
requests take about their unloaded time, so that an idle instance admits an
app's burst, falling towards a floor while they take more than twice it on
a saturated loop, for requests that share the loop are interleaved and each
takes about as many service times as there are in flight. A request waiting
on its client (an upload arriving, a download being read) is not counted
meanwhile: a slow client holds no place of the server's own.
Open streams are bounded apart (``max_streams``): SSE and WebSocket
connections last for hours and hold no request's place. Health (``/livez``,
``/readyz``, ``/metrics``, ``/api/v1/streaming/health``) is never refused, so
probes tell a busy process from a dead one. A limit of 0 turns its check off.

Left out, measured or read: uvicorn's ``limit_concurrency`` counts
connections as well as requests (idle keep-alive and streaming connections
would turn everything away), answers plain text without ``Retry-After`` and
refuses health checks too; an in-flight limit alone does not see the
loop's queue (above), and for the same reason waiting a few milliseconds for
a free place before refusing would not shorten it (on PostgreSQL, where a
place does come free as round trips end, that wait was not measured);
holding a refused connection's next request for ``Retry-After`` would tame
clients that retry at once, but would queue whatever a reverse proxy sends
next on that connection.

Above 500 lines: one policy over one set of counters (the loop's turns,
places in flight and reserved, open streams) that every check reads and
``quiet`` waits on; split, each part would reach into the other's fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roost.api.concurrency_limit import AdaptiveLimit, LoopThreadTimes, route_class
from roost.api.refusals import Refusal, Refusals
from roost.observability.metrics import Metrics

log = logging.getLogger("roost.admission")

HEALTH = frozenset({"/livez", "/readyz", "/metrics", "/api/v1/streaming/health"})
# The API's streams and the web pages' live timelines (roost/web/pages/app.py):
# each holds a connection open, counted against max_streams, not in flight.
STREAMING_PREFIXES = ("/api/v1/streaming/", "/web/stream/")
# CoDel's interval: how long turns may run late before the queue is cut to
# max_queue_s, and the longest any burst may queue meanwhile.
INTERVAL_S = 0.1
# The share of one core the process must have used while more than
# SUSTAINED_ABOVE (or sustained_in_flight, if more) requests were in flight
# for an overload to count as sustained: requests that wait on the network or
# on the client use little.
BUSY_CPU_SHARE = 0.5
# A page and its parts, or an app's opening requests, hold two places at once
# for a while on a slow machine: an overload counts as sustained only above
# that, even where the limit it then drops to is one.
SUSTAINED_ABOVE = 2
RETRY_AFTER_S = 1
STREAMS_RETRY_AFTER_S = 10
# A refusal is logged at most this often (with how many there were).
LOG_EVERY_S = 60.0

BUSY = "The server is busy; try again in a moment"
STREAMS_FULL = "Too many streaming connections to this server; try again later"


@dataclass
class _Timing:
    """One admitted request's time in flight, as the adaptive limit reads it."""

    started: float
    unheld_s: float = 0.0
    status: int = 0


class _Admitted:
    """``Admission.early``'s answer for a request it lets through."""


ADMITTED = _Admitted()


class Admission:
    """Refuses HTTP requests and streams this process cannot take now (see module doc).

    ``max_queue_s``: under sustained overload, the longest a request may have
    waited for the event loop; ``max_in_flight``: requests being worked on at
    once (with ``adaptive_floor``, the most the adaptive limit allows, and the
    floor its least); ``max_streams``: open SSE and WebSocket streams; 0 turns each off.
    ``headers`` go on every refusal (the CORS headers a browser needs to read
    it). Counts refusals in ``roost_http_requests_shed_total{reason}`` and
    exposes the in-flight and stream counts as gauges. ``clock`` (seconds) is
    for tests that play out a loop's turns in simulated time.
    """

    # Set in the scope of a request admitted by the protocol (early), which
    # holds its place until the ASGI path takes it: when (``now()``).
    RESERVED = "roost.admission.reserved"

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_queue_s: float,
        max_in_flight: int,
        max_streams: int,
        metrics: Metrics,
        sustained_in_flight: int = 0,
        adaptive_floor: int = 0,
        headers: Sequence[tuple[bytes, bytes]] = (),
        clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.process_time,
        loop_times: Callable[[], tuple[float, float] | None] | None = None,
    ) -> None:
        self.app = app
        self._clock = clock
        self._cpu_clock = cpu_clock
        self.max_queue_s = max_queue_s
        self.max_in_flight = max_in_flight
        self.sustained_in_flight = sustained_in_flight
        self.max_streams = max_streams
        self.in_flight = 0
        self.reserved = 0
        self.streams = 0
        self._busy = Refusals.busy(BUSY, RETRY_AFTER_S, headers)
        self._streams_full = Refusal.of(STREAMS_FULL, STREAMS_RETRY_AFTER_S, headers)
        self._shed_queue = metrics.requests_shed.labels("queue")
        self._shed_in_flight = metrics.requests_shed.labels("in_flight")
        self._shed_streams = metrics.requests_shed.labels("streams")
        self._refused_early = metrics.requests_refused_early
        # The in-flight limit that follows latency (roost/api/concurrency_limit.py),
        # when asked for: it replaces the sustained-overload limit below.
        self.adaptive: AdaptiveLimit | None = None
        # The loop thread's times, bound to the thread on the first request.
        self._loop_thread = LoopThreadTimes()
        if loop_times is None:
            loop_times = self._loop_thread
        if adaptive_floor and max_in_flight:
            self.adaptive = AdaptiveLimit(
                max_in_flight,
                adaptive_floor,
                clock=clock,
                taken=lambda: self.in_flight + self.reserved,
                loop_times=loop_times,
            )
            self.sustained_in_flight = 0
            metrics.in_flight_latency_ratio.set_function(lambda: self._latency_ratio())
            adaptive = self.adaptive
            metrics.event_loop_busy_share.set_function(lambda: adaptive.last_busy)
        metrics.requests_in_flight.set_function(lambda: self.in_flight)
        metrics.in_flight_limit.set_function(lambda: self.limit)
        # Sustained overload in flight (see _places_left): since when more than
        # _above places have been taken without a break, whether
        # the lower limit holds, and when a request was last refused for it.
        self._above_since: float | None = None
        self._cpu_above_since = 0.0
        self._sustained = False
        self._refused_in_flight_at = -INTERVAL_S
        metrics.streams_open.set_function(lambda: self.streams)
        # The current turn of the event loop, as far as requests see it.
        self._turn_started = 0.0
        self._last_turn_s = 0.0
        self._watching = False  # a _next_turn callback is queued
        self._started_this_turn = False
        self._caught_up_at = 0.0
        self._refused_unlogged = 0
        self._logged_at = -LOG_EVERY_S
        # Set while no request is in flight (``quiet``); made on first use.
        self._quiet: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._loop_thread.bound:
            self._loop_thread.bind()
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path in HEALTH or path.rstrip("/") in HEALTH:
                self._unreserve(scope)
                await self.app(scope, receive, send)
            elif path.startswith(STREAMING_PREFIXES):
                self._unreserve(scope)
                await self._stream(scope, receive, send)
            else:
                await self._request(scope, receive, send)
        elif kind == "websocket":
            await self._stream(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _unreserve(self, scope: Scope) -> None:
        """A place reserved by ``early`` for what turned out to be a health
        check or a stream (``early`` reads the path as sent, percent-encoded;
        the scope's is decoded): given back, or it would be taken for good
        (and ``quiet`` would never see the server idle)."""
        if scope.pop(self.RESERVED, None) is not None:
            self.reserved -= 1
            self._note_freed()

    def now(self) -> float:
        """The clock admission control times requests by."""
        return self._clock()

    def early(
        self, path: str, method: bytes = b"GET", headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> Refusal | _Admitted | None:
        """Asked by the HTTP protocol as soon as a request's headers are read
        (roost/api/early_refusal.py): the refusal to write now, ADMITTED when the
        request is admitted (its place is reserved until ``_request`` takes
        it), None when the ASGI path decides (health checks, streams)."""
        if not self._loop_thread.bound:
            self._loop_thread.bind()
        if path in HEALTH or path.startswith(STREAMING_PREFIXES) or path.rstrip("/") in HEALTH:
            return None
        if not self._places_left(self.in_flight + self.reserved):
            self._shed_in_flight.inc()
        elif not self._loop_keeps_up():
            self._shed_queue.inc()
        else:
            self.reserved += 1
            self._note_taken()
            return ADMITTED
        self._refused_early.inc()
        self._note_refusal()
        return self._busy.for_request(method, headers)

    async def _request(self, scope: Scope, receive: Receive, send: Send) -> None:
        reserved_at = scope.get(self.RESERVED)
        if reserved_at is not None:
            # Admitted by the protocol already, in the turn its bytes came in.
            self.reserved -= 1
        elif not self._places_left(self.in_flight + self.reserved):
            self._shed_in_flight.inc()
            await self._refuse(scope, send, self._busy_for(scope))
            return
        elif not self._loop_keeps_up():
            self._shed_queue.inc()
            await self._refuse(scope, send, self._busy_for(scope))
            return
        self.in_flight += 1
        if reserved_at is None:
            self._note_taken()
        if self.adaptive is None:
            try:
                await self.app(scope, self._unheld(receive), self._unheld(send))
            finally:
                self.in_flight -= 1
                self._note_freed()
            return
        timing = _Timing(reserved_at if isinstance(reserved_at, float) else self._clock())
        try:
            await self.app(scope, self._unheld(receive, timing), self._unheld(send, timing))
        finally:
            self.in_flight -= 1
            self._note_freed()
        if 200 <= timing.status < 400:
            key = route_class(scope["method"], scope["path"])
            if key is not None:
                held = self._clock() - timing.started - timing.unheld_s
                self.adaptive.observe(key, held)

    def _unheld(self, io: Callable[..., Awaitable[Any]], timing: _Timing | None = None) -> Any:
        """``io`` (receive or send), not counted in flight while it waits: a
        slow client's upload or download holds no place of the server's own.
        With ``timing``, the wait is left out of the request's time in flight
        and the answer's status noted."""

        async def call(*args: Any) -> Any:
            self.in_flight -= 1
            self._note_freed()
            try:
                return await io(*args)
            finally:
                self.in_flight += 1
                self._note_taken()

        if timing is None:
            return call
        clock = self._clock

        async def timed(*args: Any) -> Any:
            if args and args[0].get("type") == "http.response.start":
                timing.status = args[0].get("status", 0)
            began = clock()
            try:
                return await call(*args)
            finally:
                timing.unheld_s += clock() - began

        return timed

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.max_streams and self.streams >= self.max_streams:
            self._shed_streams.inc()
            await self._refuse(scope, send, self._streams_full)
            return
        if not self._loop_keeps_up():
            self._shed_queue.inc()
            await self._refuse(scope, send, self._busy_for(scope))
            return
        self.streams += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.streams -= 1

    @property
    def limit(self) -> int:
        """Requests admitted at once now (0: no limit)."""
        if self.adaptive is not None:
            return self.adaptive.current
        return self.sustained_in_flight if self._sustained_now() else self.max_in_flight

    def _sustained_now(self) -> bool:
        """Whether the lower limit of a sustained overload holds: until no
        request has been refused for it for an interval (also when nothing
        has come since, so that the gauge does not show a past overload)."""
        if self._sustained and self._clock() - self._refused_in_flight_at >= INTERVAL_S:
            self._sustained = False
        return self._sustained

    def _latency_ratio(self) -> float:
        return self.adaptive.last_ratio if self.adaptive is not None else 0.0

    def _places_left(self, taken: int) -> bool:
        """Whether one more request may be worked on, ``taken`` places being held.

        Up to ``max_in_flight`` may run at once while that is a burst (an app
        opening asks for its timelines, notifications and instance together)
        or while the requests wait elsewhere than on the loop (uploads and
        password hashes on threads, round trips). Once more than
        ``SUSTAINED_ABOVE`` (or ``sustained_in_flight``, if more) have been
        held without a break for
        ``INTERVAL_S`` while the process kept a core busy (``BUSY_CPU_SHARE``
        of it, all threads counted: SQLite reads and image work run on
        threads), the overload is sustained and the limit drops to
        ``sustained_in_flight`` until no request has been refused for an
        interval. Requests that share the CPU share it: with k in flight each
        takes about k service times, so under sustained overload a few at
        once keep the admitted requests' latency near an unloaded one's
        (bench/overload.py), while the excess is refused at once.
        """
        if self.sustained_in_flight and not self._sustained_now():
            now = self._clock()
            if (
                self._above_since is not None
                and now - self._above_since >= INTERVAL_S
                and self._cpu_clock() - self._cpu_above_since
                >= BUSY_CPU_SHARE * (now - self._above_since)
            ):
                self._sustained = True
                # It holds from now until an interval passes without a refusal.
                self._refused_in_flight_at = now
        limit = self.limit
        if limit and taken >= limit:
            if self.sustained_in_flight:
                self._refused_in_flight_at = self._clock()
            return False
        return True

    async def quiet(self, patience_s: float) -> None:
        """Until no request is in flight (nor admitted and on its way), or
        ``patience_s`` has passed: background work in this process waits here
        (roost/db/engine.py, ``Database.give_way``), so that requests go first
        but the work is never held up for longer than that."""
        if self.in_flight + self.reserved <= 0:
            return
        if self._quiet is None:
            self._quiet = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), patience_s)

    def _note_taken(self) -> None:
        if self._quiet is not None:
            self._quiet.clear()
        if (
            self.sustained_in_flight
            and self._above_since is None
            and self.in_flight + self.reserved > self._above
        ):
            self._above_since = self._clock()
            self._cpu_above_since = self._cpu_clock()

    def _note_freed(self) -> None:
        if self._quiet is not None and self.in_flight + self.reserved <= 0:
            self._quiet.set()
        if self.in_flight + self.reserved <= self._above:
            self._above_since = None

    @property
    def _above(self) -> int:
        """Places taken above which an overload may be sustained."""
        return max(SUSTAINED_ABOVE, self.sustained_in_flight)

    def _loop_keeps_up(self) -> bool:
        """False when this request should be refused for having waited too long."""
        if not self.max_queue_s:
            return True
        now = self._clock()
        if self._mark_turn(now):
            return True
        # Its bytes came in during the last turn at the latest, and it has
        # waited since for this turn's work ahead of it.
        waited = self._last_turn_s + now - self._turn_started
        if waited <= self.max_queue_s:
            return True
        # A burst may queue up to the interval, as long as the loop caught up
        # (a turn in which no request started) within the interval.
        return waited < INTERVAL_S and now - self._caught_up_at < INTERVAL_S

    def _mark_turn(self, now: float) -> bool:
        """A request starts in this turn; True if it is the first since the
        loop last caught up (it has waited for nothing)."""
        self._started_this_turn = True
        if self._watching:
            return False
        self._watching = True
        self._turn_started = now
        self._last_turn_s = 0.0
        self._caught_up_at = now
        asyncio.get_running_loop().call_soon(self._next_turn)
        return True

    def _next_turn(self) -> None:
        """Runs first in the turn after one in which a request started."""
        if self._started_this_turn:
            self._started_this_turn = False
            now = self._clock()
            self._last_turn_s = now - self._turn_started
            self._turn_started = now
            asyncio.get_running_loop().call_soon(self._next_turn)
        else:
            # No request started in the last turn: none was waiting. Stop
            # watching until one comes (an idle loop is not kept spinning).
            self._watching = False

    def _busy_for(self, scope: Scope) -> Refusal:
        method = scope.get("method", "GET").encode("ascii", "replace")
        return self._busy.for_request(method, scope.get("headers", ()))

    async def _refuse(self, scope: Scope, send: Send, refusal: Refusal) -> None:
        self._note_refusal()
        prefix = "http"
        if scope["type"] == "websocket":
            if "websocket.http.response" not in scope.get("extensions", {}):
                # Without the denial-response extension the server can only
                # close the handshake (uvicorn answers it 403).
                await send({"type": "websocket.close", "code": 1013})
                return
            prefix = "websocket.http"
        start: Message = {
            "type": f"{prefix}.response.start",
            "status": 503,
            "headers": refusal.headers,
        }
        await send(start)
        await send({"type": f"{prefix}.response.body", "body": refusal.body})

    def _note_refusal(self) -> None:
        self._refused_unlogged += 1
        now = self._clock()
        if now - self._logged_at >= LOG_EVERY_S:
            log.warning(
                "overloaded: refused %d request(s) with 503 since the last report "
                "(requests in flight %d, streams %d)",
                self._refused_unlogged,
                self.in_flight,
                self.streams,
            )
            self._refused_unlogged = 0
            self._logged_at = now
