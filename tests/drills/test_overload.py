"""Drill (threats 24, 25): more clients than one process can serve.

A real ``roost serve`` gets many more connections, each asking for the home
timeline again as soon as it is answered, than it can serve. Overloaded
without admission control it queued everything: requests waited seconds and
``/livez`` timed out, so an orchestrator would have restarted a healthy
process. Now the excess is refused at once with 503 and ``Retry-After``, what
is admitted is answered promptly, and ``/livez`` (probed on a fresh connection
each time, as kubelet does) answers within its budget throughout.

The machine running this is shared (two cores, other test runs: a load
average of 11 was seen), so the bounds are the ones that matter to an
operator, with room to spare: every probe within 1 s (a liveness probe's
default timeout), the median probe within 200 ms, no admitted request near the
10 s a client gives up after. (The 100 ms target is bench/overload.py's, on a
quieter machine.) With admission control, the median probe took 30 to 110 ms
here; without it, 0.4 s, and the slowest 0.7 to 1.3 s (wrk, which sends
faster than this client, saw 5 to 10 s).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from roost.config import Settings
from tests.conftest import Roost
from tests.drills.support import ROOST, free_port, roost_env, wait_for

pytestmark = pytest.mark.slow

HOME = "/api/v1/timelines/home"
CONNECTIONS = 200
OVERLOAD_S = 6.0
CLIENT_TIMEOUT_S = 10.0
PROBE_EVERY_S = 0.1
PROBE_BUDGET_S = 1.0
PROBE_TYPICAL_S = 0.2
ADMITTED_BOUND_S = 3.0


@dataclass
class Load:
    """What tests.drills.closed_loop reported."""

    steady: bool
    latencies: dict[int, list[float]]  # of requests sent once every connection was open
    refusal_headers: list[dict[str, str]]
    refusal_bodies: list[str]
    failures: list[str]

    def count(self, status: int) -> int:
        return len(self.latencies.get(status, []))


def _env(settings: Settings) -> dict[str, str]:
    env = roost_env(
        data_dir=str(settings.data_dir),
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        redis_prefix=settings.redis_prefix,
        secret_key=settings.secret_key,
        domain=settings.domain,
    )
    env["ROOST_ADAPTIVE_IN_FLIGHT"] = "true" if settings.adaptive_in_flight else "false"
    return env


@pytest.fixture
def server(roost: Roost, tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A viewer with a full home timeline, and ``roost serve`` on the same data."""
    viewer = roost.account("viewer")
    for n in range(10):
        author = roost.account(f"author{n}")
        viewer.follow(author)
        for k in range(4):
            author.post_status(f"post {k} by author {n}, about the garden")
    roost.drain_jobs()
    assert len(viewer.get(HOME).json()) == 20
    port = free_port()
    with (tmp_path / "serve.log").open("ab") as log:
        process = subprocess.Popen(
            [str(ROOST), "serve", "--port", str(port), "--log-level", "warning"],
            env=_env(roost.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: _probe(port) is not None, 30, "roost serve to answer")
        # One read first: the posts' shared parts are loaded into the fresh
        # process once (a cold start is threat 23's drill, not this one's).
        with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
            warm = http.get(f"http://127.0.0.1:{port}{HOME}", headers=viewer.headers)
            assert warm.status_code == 200 and len(warm.json()) == 20
        yield port, viewer.token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _probe(port: int) -> float | None:
    """Seconds for ``GET /livez`` on a fresh connection, or None if not a 200."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_S) as conn:
            conn.sendall(b"GET /livez HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            head = conn.recv(64)
    except OSError:
        return None
    return time.perf_counter() - started if head.startswith(b"HTTP/1.1 200") else None


def test_given_more_clients_than_a_process_can_serve_then_excess_gets_503_and_livez_answers(
    server: tuple[int, str], tmp_path: Path
) -> None:
    port, token = server
    load, probes, unanswered, summary = _overload(port, token, tmp_path, CONNECTIONS)
    _check(load, probes, unanswered, summary)


@pytest.mark.settings(adaptive_in_flight=True)
def test_given_lasting_overload_then_the_in_flight_limit_falls_and_climbs_back_after(
    server: tuple[int, str], tmp_path: Path
) -> None:
    """Ten times the connections one process serves best (one or two on
    SQLite): the adaptive limit falls from its maximum while the overload
    lasts, the excess is refused, /livez stays fast, and once the load is
    gone the limit is back at its maximum for the next app's burst."""
    port, token = server
    before = _limit(port)
    (load, probes, unanswered, summary), limits = _watching_limit(
        port, lambda: _overload(port, token, tmp_path, 20), every_s=0.3
    )
    time.sleep(2.0)  # idle: 100 ms a place
    after = _limit(port)
    summary += f"; limit before {before}, during {limits}, after {after}"
    _check(load, probes, unanswered, summary)
    assert before == 16, summary
    assert min(limits) < 16, summary
    assert after == 16, summary


# What an overload left: the load's figures, the /livez probes' seconds, the
# probes unanswered, and a summary for failed assertions.
Overloaded = tuple[Load, list[float], int, str]


def _watching_limit(
    port: int, overload: Callable[[], Overloaded], every_s: float
) -> tuple[Overloaded, list[float]]:
    """``overload()``, with the in-flight limit read every ``every_s`` on a
    thread of its own, apart from the probes, which must keep their pace."""
    limits: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.wait(every_s):
            limits.append(_limit(port))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return overload(), limits
    finally:
        done.set()
        watcher.join(CLIENT_TIMEOUT_S)


def _limit(port: int) -> float:
    """roost_http_in_flight_limit on /metrics (loopback may read it)."""
    with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
        text = http.get(f"http://127.0.0.1:{port}/metrics").text
    for line in text.splitlines():
        if line.startswith("roost_http_in_flight_limit "):
            return float(line.split()[1])
    raise AssertionError("no roost_http_in_flight_limit on /metrics")


def _overload(port: int, token: str, tmp_path: Path, connections: int) -> Overloaded:
    """``connections`` clients asking again at once for OVERLOAD_S, /livez
    probed meanwhile."""
    report_path = tmp_path / "load.json"
    probes: list[float] = []
    unanswered = 0
    load_process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.drills.closed_loop",
            str(report_path),
            str(port),
            HOME,
            str(connections),
            str(OVERLOAD_S),
            f"Authorization: Bearer {token}",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert load_process.stdout is not None
        if load_process.stdout.readline().strip() == "steady":
            # Every connection is open and the server is overloaded: probe
            # until the load ends.
            while load_process.poll() is None:
                took = _probe(port)
                if took is None:
                    unanswered += 1
                else:
                    probes.append(took)
                time.sleep(PROBE_EVERY_S)
        load_process.communicate(timeout=OVERLOAD_S + 2 * CLIENT_TIMEOUT_S)
    finally:
        if load_process.poll() is None:
            load_process.kill()
            load_process.communicate()
    assert load_process.returncode == 0
    report = json.loads(report_path.read_text())
    load = Load(
        report["steady"],
        {int(status): values for status, values in report["latencies"].items()},
        report["refusal_headers"],
        report["refusal_bodies"],
        report["failures"],
    )

    load_average = os.getloadavg()[0]
    answered = sorted(load.latencies.get(200, [0.0]))
    summary = (
        f"{load.count(200)} answered (p50 {answered[len(answered) // 2]:.3f} s, "
        f"p99 {answered[int(len(answered) * 0.99)]:.3f} s, slowest "
        f"{[round(a, 3) for a in answered[-5:]]}), "
        f"{load.count(503)} refused, failures {load.failures[:3]}; probes median "
        f"{statistics.median(probes or [0.0]):.3f} s, slowest "
        f"{[round(p, 3) for p in sorted(probes)[-5:]]}, "
        f"{unanswered} unanswered; load average {load_average:.1f}"
    )
    print(summary)  # the figures, for a run with -s
    return load, probes, unanswered, summary


def _check(load: Load, probes: list[float], unanswered: int, summary: str) -> None:
    assert load.steady, summary
    # Health answered throughout, and quickly.
    assert len(probes) >= 10 and not unanswered, summary
    assert max(probes) < PROBE_BUDGET_S, summary
    assert statistics.median(probes) < PROBE_TYPICAL_S, summary
    # What was admitted was answered promptly; nothing timed out or was cut off.
    assert not load.failures, summary
    assert set(load.latencies) <= {200, 503}, summary
    admitted = sorted(load.latencies.get(200, []))
    assert admitted, summary
    assert admitted[-1] < ADMITTED_BOUND_S, summary
    # The excess was refused at once, in Mastodon's shape, saying when to retry.
    assert load.count(503) > 0, summary
    assert load.refusal_bodies == ['{"error":"The server is busy; try again in a moment"}']
    assert all(int(h["retry-after"]) >= 1 for h in load.refusal_headers), summary
