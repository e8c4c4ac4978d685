"""An in-flight limit that follows latency (admission control's, roost/api/admission.py).

A fixed limit cannot be right both ways. Requests that share one event loop
(and, on SQLite, one process's CPU) are interleaved: with k of them in flight
each takes about k service times, so under sustained overload only 2 or so at
once keep the admitted requests' latency near an unloaded one's
(bench/overload.py). But an app opening asks for its timelines, notifications
and instance at once, and a sign-in holds a place for its ~50 ms password
hash on a thread: with 2 places an idle instance would refuse them.

So the limit moves, in the manner of TCP Vegas and Netflix's
concurrency-limits "gradient" limiter: it starts at the configured maximum
(an idle instance admits a burst), falls multiplicatively while the
requests it admits take more than ``TOLERANCE`` times their unloaded time,
and climbs back by one place per interval while they take about their
unloaded time, or while the process is idle; never below ``floor`` nor above
``maximum``.

What is measured. A request's time in flight: from its admission to its
answer's last byte handed to the server, less the time spent waiting on the
client (which holds no place either). Its unloaded time is the least time in
flight of its route class (method and path with ids and names blanked), the
smallest of the last one or two ``BASELINE_S`` windows, so that it follows a
database that grows or a cache that warms, while a few lucky requests under
load keep it honest. Each request gives the ratio of its time to its class's
unloaded time, so a mix of cheap and dear routes does not read as load; the
signal of an interval is the median ratio of the requests answered in it.
Routes slow by design (password hashes and media processing on threads, where
the time is the thread pool's and the hash's, not the loop's) and answers of
400 and above (a quick 404 is not the route's service time) give no sample.

Whose slowness. Time in flight grows for three reasons, and fewer places
help with only one: this process's loop having more work than it can do
(requests interleaved on it). A slow dependency (Redis gone and reads falling
back to the database, a slow round trip) and a crowded machine (the process
waiting for a core) slow every request too, but refusing requests does not
speed them up; it only loses answers. So the limit falls only while the event
loop is saturated: over the interval, the loop's thread was working for
``SATURATED`` or more of the time it could have run (its CPU time over the
wall time less the time it waited for a core, from the kernel's scheduler
statistics, ``/proc/self/task/<loop thread>/schedstat``). A loop waiting on
the database or on Redis idles in its selector, and that idle time shows. Below
``UNSATURATED`` the limit climbs back by one place per interval whatever the
latency: when few places leave the loop idle between answers (its clients are
slow, or what it waits on is), they cost throughput and buy no latency. In
between it holds. The limit thus settles near the fewest places that keep the
loop busy, which is Little's law's concurrency for a loop that is the
bottleneck.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# How often the limit may move, and the least number of answers an interval
# needs to judge by; with fewer it waits, up to PATIENCE_S, for more.
INTERVAL_S = 0.1
MIN_SAMPLES = 5
PATIENCE_S = 1.0
# Above this median ratio the limit falls by TOLERANCE / ratio (between
# SHRINK_MOST and SHRINK_LEAST of itself); at or below NEAR it climbs by one.
TOLERANCE = 2.0
NEAR = 1.5
SHRINK_MOST = 0.5
SHRINK_LEAST = 0.9
# The share of the time the loop's thread could run that it spent working, at
# or above which the loop is saturated (the limit may fall), and below which
# it idles enough that the limit climbs back whatever the latency.
SATURATED = 0.9
UNSATURATED = 0.75
# The unloaded time of a route class is the least seen in this window and the
# one before it.
BASELINE_S = 30.0
# Added to both sides of a ratio: below a millisecond the time is noise.
SLACK_S = 0.0005
# Route classes remembered; a class beyond them gives no sample until a
# stale one is dropped.
MAX_CLASSES = 512
MAX_SAMPLES = 512
# Password checks and sign-ups (argon2 on a thread), media uploads (decoding
# and encoding on threads).
SLOW_BY_DESIGN = ("/oauth/", "/auth/", "/settings/", "/api/v1/media", "/api/v2/media")
SIGN_UP = "/api/v1/accounts"


SCHEDSTAT = "/proc/self/task/{}/schedstat"

# A thread's CPU time and time spent waiting for a core, in seconds; None
# while not known.
ThreadTimes = Callable[[], "tuple[float, float] | None"]


class LoopThreadTimes:
    """The event loop thread's CPU time and the time it waited for a core
    (Linux's scheduler statistics), readable from any thread once ``bind``
    was called on the loop's. Elsewhere: the process's CPU time and 0, so
    that a crowded machine reads as a busy loop."""

    def __init__(self) -> None:
        self._path: Path | None = None

    @property
    def bound(self) -> bool:
        return self._path is not None

    def bind(self) -> None:
        """Called on the event loop's thread."""
        self._path = Path(SCHEDSTAT.format(threading.get_native_id()))

    def __call__(self) -> tuple[float, float] | None:
        if self._path is None:
            return None
        try:
            running, waiting, _ = self._path.read_bytes().split(maxsplit=2)
            return int(running) / 1e9, int(waiting) / 1e9
        except (OSError, ValueError):
            return time.process_time(), 0.0


def route_class(method: str, path: str) -> str | None:
    """The class a request's time is compared within, or None when its time
    says nothing about load (slow by design)."""
    if path.startswith(SLOW_BY_DESIGN) or path.rstrip("/") == SIGN_UP:
        return None
    parts = path.split("/", 6)[:6]
    return method + " " + "/".join(_blank(part) for part in parts)


def _blank(part: str) -> str:
    """An id, a name or a token becomes ``*``; ``v1`` and ``home`` stay."""
    if part.startswith("@") or len(part) > 32 or part.isdigit():
        return "*"
    if len(part) > 3 and any(c.isdigit() for c in part):
        return "*"
    return part


@dataclass
class _Baseline:
    """The least time in flight of one route class: of the current window and
    the one before."""

    current: float
    previous: float
    since: float

    def observe(self, seconds: float, now: float, window_s: float) -> float:
        age = now - self.since
        if age >= window_s:
            self.previous = self.current if age < 2 * window_s else math.inf
            self.current = math.inf
            self.since = now
        self.current = min(self.current, seconds)
        return min(self.current, self.previous)


class AdaptiveLimit:
    """Requests admitted at once, moved by their latency (see module doc).

    ``clock`` is in seconds; ``taken`` tells how many places are held now (an
    interval without answers counts as idle only when places were free);
    ``loop_times`` gives the event loop thread's CPU time and time waited for
    a core (``LoopThreadTimes``), for the loop's busy share; without it (or
    while it answers None) the loop is taken to be saturated.
    """

    def __init__(
        self,
        maximum: int,
        floor: int,
        *,
        clock: Callable[[], float],
        taken: Callable[[], int],
        loop_times: ThreadTimes | None = None,
        baseline_s: float = BASELINE_S,
    ) -> None:
        self.maximum = maximum
        self.floor = max(1, min(floor, maximum))
        self._clock = clock
        self._taken = taken
        self._baseline_s = baseline_s
        self._limit = float(maximum)
        self._baselines: dict[str, _Baseline] = {}
        self._ratios: list[float] = []
        self._window_started = clock()
        self._last_answer_at = self._window_started
        self.last_ratio = 1.0  # the median ratio the limit last moved on
        # The loop thread's (CPU, waited for a core) at the interval's start;
        # without loop_times the loop counts as saturated throughout.
        self._loop_times = loop_times
        self._loop_at = loop_times() if loop_times is not None else None
        self.last_busy = 1.0  # the loop's busy share the limit last moved on

    @property
    def current(self) -> int:
        self._decide(self._clock())
        return max(self.floor, int(self._limit))

    def observe(self, key: str, seconds: float) -> None:
        """A request of route class ``key`` was answered after ``seconds`` in flight."""
        now = self._clock()
        baseline = self._baselines.get(key)
        if baseline is None:
            if len(self._baselines) >= MAX_CLASSES and not self._forget_stale(now):
                return
            baseline = self._baselines[key] = _Baseline(seconds, math.inf, now)
        unloaded = baseline.observe(seconds, now, self._baseline_s)
        self._decide(now)
        if len(self._ratios) < MAX_SAMPLES:
            self._ratios.append((seconds + SLACK_S) / (unloaded + SLACK_S))
        self._last_answer_at = now
        self._decide(now)

    def _decide(self, now: float) -> None:
        if now - self._window_started < INTERVAL_S:
            return
        ratios = self._ratios
        quiet_since = self._last_answer_at if ratios else self._window_started
        quiet = now - quiet_since >= INTERVAL_S
        free = self._taken() < self.current_unmoved
        if ratios and not (quiet and free and len(ratios) < MIN_SAMPLES):
            if len(ratios) < MIN_SAMPLES and not quiet and now - self._window_started < PATIENCE_S:
                return  # too few answers to judge by yet
            self._move(ratios, self._busy_share(now))
        if quiet and free:
            # Nothing answered for an interval or more with places free: idle.
            # One place back per idle interval.
            idle = math.floor((now - quiet_since) / INTERVAL_S + 1e-9)
            self._limit = min(float(self.maximum), self._limit + idle)
        self._restart(now)

    def _move(self, ratios: list[float], busy: float) -> None:
        ratios.sort()
        ratio = ratios[len(ratios) // 2]
        self.last_ratio = ratio
        self.last_busy = busy
        if ratio > TOLERANCE and busy >= SATURATED:
            shrink = min(SHRINK_LEAST, max(SHRINK_MOST, TOLERANCE / ratio))
            self._limit = max(float(self.floor), self._limit * shrink)
        elif ratio <= NEAR or busy < UNSATURATED:
            self._limit = min(float(self.maximum), self._limit + 1)

    def _busy_share(self, now: float) -> float:
        """The share of the interval the loop's thread could run that it spent
        working (1.0 without ``loop_times``)."""
        if self._loop_times is None or self._loop_at is None:
            return 1.0
        times = self._loop_times()
        if times is None:
            return 1.0
        cpu, waited = times
        cpu_before, waited_before = self._loop_at
        could_run = (now - self._window_started) - (waited - waited_before)
        if could_run <= 0:
            return 1.0  # waited for a core throughout: nothing to judge by
        return min(1.0, (cpu - cpu_before) / could_run)

    @property
    def current_unmoved(self) -> int:
        return max(self.floor, int(self._limit))

    def _restart(self, now: float) -> None:
        self._ratios = []
        self._window_started = now
        if self._loop_times is not None:
            self._loop_at = self._loop_times()

    def _forget_stale(self, now: float) -> bool:
        """Drops the classes not seen for two windows; whether room was made."""
        stale = [k for k, b in self._baselines.items() if now - b.since >= 2 * self._baseline_s]
        for key in stale:
            del self._baselines[key]
        return bool(stale)
