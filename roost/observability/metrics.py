"""Prometheus metrics for one Roost process.

Each process keeps its own registry (a test can build several apps without
their counts mixing); Prometheus scrapes every server and worker and sums.
Gauges that describe shared state (job backlog, oldest job) are read from the
database at scrape time by ``/metrics``, so any one server reports them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Latency buckets around the targets that matter: a timeline page well under
# 50 ms, nothing (short of a dependency outage) above a few seconds.
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Jobs range from a millisecond (a fan-out batch) to many minutes (an import,
# a backup): the alert on jobs slowing down day over day needs the long tail.
_JOB_BUCKETS = (*_LATENCY_BUCKETS, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram(
            "roost_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and status class.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.jobs_run = Counter(
            "roost_jobs_run_total", "Jobs that finished, by kind.", ["kind"], registry=r
        )
        self.job_failures = Counter(
            "roost_job_failures_total",
            "Job attempts that failed, by kind and outcome (retry, parked, deferred).",
            ["kind", "outcome"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "roost_job_duration_seconds",
            "Time a job's handler ran, by kind.",
            ["kind"],
            buckets=_JOB_BUCKETS,
            registry=r,
        )
        self.jobs_queued = Gauge(
            "roost_jobs_queued", "Jobs waiting to run (including retries not yet due).", registry=r
        )
        self.jobs_parked = Gauge(
            "roost_jobs_parked", "Jobs that failed too often and wait for an operator.", registry=r
        )
        self.job_oldest_age = Gauge(
            "roost_job_oldest_age_seconds",
            "Age of the oldest job that is due and not yet done.",
            registry=r,
        )
        self.timeline_reads = Counter(
            "roost_timeline_cache_reads_total",
            "Home and list timeline reads by where they were served from "
            "(hit, rebuilt, waited, database).",
            ["result"],
            registry=r,
        )
        self.timeline_rebuilds = Counter(
            "roost_timeline_rebuilds_total",
            "Timelines rebuilt from the database into Redis.",
            registry=r,
        )
        self.fanout_entries = Counter(
            "roost_timeline_fanout_entries_total",
            "Timeline entries written by fan-out.",
            registry=r,
        )
        self.password_attempts = Counter(
            "roost_password_attempts_total",
            "Password attempts by purpose (sign_in, erasure) and outcome: accepted and "
            "rejected were checked against the stored hash; limited were refused before "
            "any check (too many recent attempts).",
            ["purpose", "outcome"],
            registry=r,
        )
        self.redis_errors = Counter(
            "roost_redis_errors_total",
            "Redis calls that failed, by what was being done.",
            ["operation"],
            registry=r,
        )
        self.post_cache_lookups = Counter(
            "roost_post_cache_lookups_total",
            "Posts looked up in the Redis post cache by a process that did not "
            "hold them itself (found, missing).",
            ["result"],
            registry=r,
        )
        self.redis_up = Gauge(
            "roost_redis_up", "1 when the last Redis call succeeded, 0 otherwise.", registry=r
        )
        self.requests_shed = Counter(
            "roost_http_requests_shed_total",
            "Requests and streams refused with 503 because this process was "
            "overloaded, by reason (queue, in_flight, streams).",
            ["reason"],
            registry=r,
        )
        self.requests_refused_early = Counter(
            "roost_http_requests_refused_early_total",
            "Of the refusals, those the HTTP protocol wrote before any ASGI work "
            "(roost/api/early_refusal.py).",
            registry=r,
        )
        self.requests_in_flight = Gauge(
            "roost_http_requests_in_flight",
            "HTTP requests this process is answering (streams not included).",
            registry=r,
        )
        self.in_flight_limit = Gauge(
            "roost_http_in_flight_limit",
            "HTTP requests this process admits at once now (0: no limit): with "
            "ROOST_ADAPTIVE_IN_FLIGHT, between ROOST_MIN_IN_FLIGHT and "
            "ROOST_MAX_IN_FLIGHT as latency moves it; else ROOST_MAX_IN_FLIGHT, or "
            "ROOST_SUSTAINED_IN_FLIGHT while an overload lasts.",
            registry=r,
        )
        self.in_flight_latency_ratio = Gauge(
            "roost_http_in_flight_latency_ratio",
            "With ROOST_ADAPTIVE_IN_FLIGHT: the median of admitted requests' time in "
            "flight over their route's unloaded time, as the limit last moved on it "
            "(above 2 the limit falls, at 1.5 or below it climbs).",
            registry=r,
        )
        self.event_loop_busy_share = Gauge(
            "roost_event_loop_busy_share",
            "With ROOST_ADAPTIVE_IN_FLIGHT: the share of the time the event loop's "
            "thread could run (time waited for a core left out) that it spent "
            "working, as the in-flight limit last moved on it (at 0.9 or more the "
            "loop is saturated and the limit may fall; below 0.75 it climbs).",
            registry=r,
        )
        self.streams_open = Gauge(
            "roost_streams_open",
            "Streaming connections (SSE and WebSocket) open on this process.",
            registry=r,
        )
        self.db_pool = Gauge(
            "roost_db_pool_connections",
            "Database pool connections by state (size, checked_out, overflow).",
            ["state"],
            registry=r,
        )

        self.dependency_up = Gauge(
            "roost_dependency_up",
            "1 when a dependency answered its last check (/readyz or a scrape of /metrics), "
            "0 when it did not: database, redis, smtp, media.",
            ["name"],
            registry=r,
        )
        # The domain as the world sees it (roost/ops/exposure.py), probed at
        # most every ROOST_EXPOSURE_CHECK_INTERVAL_S; no sample until probed,
        # and none when the domain is local or not served over HTTPS.
        self.certificate_expiry = Gauge(
            "roost_tls_certificate_expiry_timestamp_seconds",
            "Unix time at which the certificate served at the public address expires.",
            ["host"],
            registry=r,
        )
        self.certificate_verifies = Gauge(
            "roost_tls_certificate_verifies",
            "1 when the certificate served at the public address verifies for the domain.",
            ["host"],
            registry=r,
        )
        self.dns_points_here = Gauge(
            "roost_dns_points_here",
            "1 when the domain resolves, and (with ROOST_PUBLIC_ADDRESSES) only to "
            "this server's addresses; 0 when it does not resolve or points elsewhere.",
            ["host"],
            registry=r,
        )
        self.started_at = Gauge(
            "roost_start_time_seconds",
            "Unix time at which this process became ready to serve (or to run jobs).",
            registry=r,
        )
        self.startup_seconds = Gauge(
            "roost_startup_duration_seconds",
            "Seconds this process took from its start to being ready "
            "(migrations, caches, services).",
            registry=r,
        )

    def observe_pool(self, pool: Any) -> None:
        """Copy the SQLAlchemy pool's counters (only queue pools have them)."""
        for state, reader in (
            ("size", "size"),
            ("checked_out", "checkedout"),
            ("overflow", "overflow"),
        ):
            method = getattr(pool, reader, None)
            if callable(method):
                self.db_pool.labels(state).set(float(method()))

    def mark_ready(self, since: float | None = None) -> None:
        """Ready: note when, and how long starting took since ``since`` (by
        default since this process started)."""
        now = time.time()
        self.started_at.set(now)
        began = process_started_at() if since is None else since
        self.startup_seconds.set(max(0.0, now - began))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


_IMPORTED_AT = time.time()


def process_started_at() -> float:
    """Unix time at which this process started (Linux: from /proc; elsewhere
    the time Roost's modules were first imported, a little later)."""
    try:
        fields = Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # starttime, field 22 of stat(5), in clock ticks after boot
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return int(line.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    return _IMPORTED_AT


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
