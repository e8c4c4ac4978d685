"""Prometheus metrics for one Roost process.

Each process keeps its own registry (a test can build several apps without
their counts mixing); Prometheus scrapes every server and worker and sums.
Gauges that describe shared state (job backlog, oldest job) are read from the
database at scrape time by ``/metrics``, so any one server reports them.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Latency buckets around the targets that matter: a timeline page well under
# 50 ms, nothing (short of a dependency outage) above a few seconds.
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


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
            buckets=_LATENCY_BUCKETS,
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
        self.db_pool = Gauge(
            "roost_db_pool_connections",
            "Database pool connections by state (size, checked_out, overflow).",
            ["state"],
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

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
