"""/livez (the process answers), /readyz (its dependencies answer) and /metrics
(this machine's clients only, or a bearer token: ROOST_METRICS_TOKEN).

/readyz checks each dependency by name (database, redis when configured, jobs)
and answers 503 naming the ones that failed: a load balancer takes the process
out, and the operator reading the body sees which part is down. Two more are
checked and named but do not fail readiness, since taking servers out of the
load balancer cannot help: smtp (when ROOST_SMTP_URL is set; probed at most
every ROOST_SMTP_CHECK_INTERVAL_S) and media (the media directory takes
files). They answer 200 with ``degraded`` naming them. Every check sets
``roost_dependency_up{name}`` (1 or 0), and a scrape of /metrics runs them too,
so an alert sees a dependency go down without anyone calling /readyz
(ops/prometheus/roost.rules.yml, RoostDependencyDown). A scrape also keeps
the certificate and DNS gauges of the public address fresh
(roost/ops/exposure.py). The database
check fails when it does not answer, and also when it answers but cannot take
writes because its disk is full (``writable: false`` and the reason; see
roost/db/storage.py): every write would answer 507. The job check fails when
the oldest due job has waited longer than ROOST_JOBS_READY_MAX_AGE_S (no
worker running, or workers falling behind).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import smtplib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import text

from roost.api.auth import services
from roost.api.openapi import answers
from roost.api.responses import JSON
from roost.errors import Forbidden, Unauthorized
from roost.jobs.queue import job_backlog
from roost.mail.smtp import probe
from roost.media.store import media_root
from roost.observability.metrics import CONTENT_TYPE
from roost.ops.exposure import ExposureProbe
from roost.services import Services

router = APIRouter()

CHECK_TIMEOUT_S = 2.0


class Alive(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, dict[str, Any]]
    failed: list[str] | None = None
    degraded: list[str] | None = None


@router.get("/livez", responses=answers(Alive, steady=True))
async def livez() -> JSON:
    return JSON({"status": "ok"})


async def _database(svc: Services) -> dict[str, Any]:
    async with svc.db.read() as conn:
        await conn.execute(text("SELECT 1"))
    full = await asyncio.to_thread(svc.db.storage.problem)
    if full is not None:
        return {
            "ok": False,
            "readable": True,
            "writable": False,
            "error": f"not writable, the disk is full ({full})",
        }
    return {"ok": True, "readable": True, "writable": True}


async def _redis(svc: Services) -> dict[str, Any]:
    assert svc.redis is not None
    return {"ok": await svc.redis.ping()}


async def _jobs(svc: Services) -> dict[str, Any]:
    backlog = await job_backlog(svc.db)
    limit = svc.settings.jobs_ready_max_age_s
    return {
        "ok": backlog.oldest_due_s <= limit,
        "queued": backlog.queued,
        "parked": backlog.parked,
        "oldest_due_seconds": round(backlog.oldest_due_s, 1),
    }


class _SmtpProbe:
    """The last SMTP probe's answer, reused for ROOST_SMTP_CHECK_INTERVAL_S:
    a load balancer calling /readyz every second must not open a mail
    connection every second."""

    def __init__(self) -> None:
        self.at = -float("inf")
        self.result: dict[str, Any] = {}
        self.lock = asyncio.Lock()

    async def __call__(self, svc: Services) -> dict[str, Any]:
        async with self.lock:
            if time.monotonic() - self.at >= svc.settings.smtp_check_interval_s:
                try:
                    said = await probe(svc.settings.smtp_url, CHECK_TIMEOUT_S)
                    self.result = {"ok": True, "answer": said}
                except (OSError, smtplib.SMTPException) as error:
                    self.result = {"ok": False, "error": str(error) or type(error).__name__}
                self.at = time.monotonic()
            return self.result


async def _media(svc: Services) -> dict[str, Any]:
    root = media_root(svc.settings)

    def usable() -> bool:
        # A fresh installation has no media directory yet: the first upload
        # makes it, so the nearest existing parent must take it.
        existing = root
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)

    if await asyncio.to_thread(usable):
        return {"ok": True}
    return {"ok": False, "error": f"{root} is not a writable directory"}


Check = Callable[[Services], Awaitable[dict[str, Any]]]


def _checks(request: Request, svc: Services) -> tuple[dict[str, Check], dict[str, Check]]:
    """(checks that fail readiness, checks that only degrade it), by name."""
    failing: dict[str, Check] = {"database": _database, "jobs": _jobs}
    if svc.redis is not None:
        failing["redis"] = _redis
    degrading: dict[str, Check] = {"media": _media}
    if svc.settings.smtp_url:
        state = request.app.state
        if getattr(state, "smtp_probe", None) is None:
            state.smtp_probe = _SmtpProbe()
        degrading["smtp"] = state.smtp_probe
    return failing, degrading


async def _check_all(svc: Services, named: dict[str, Check]) -> dict[str, dict[str, Any]]:
    results = await asyncio.gather(*(_run(check, svc) for check in named.values()))
    checks = dict(zip(named, results, strict=True))
    for name, result in checks.items():
        if name != "jobs":  # the job queue is not a dependency: its own gauges tell
            svc.metrics.dependency_up.labels(name).set(1 if result["ok"] else 0)
    return checks


async def _run(check: Any, svc: Services) -> dict[str, Any]:
    try:
        result: dict[str, Any] = await asyncio.wait_for(check(svc), CHECK_TIMEOUT_S)
        return result
    except TimeoutError:
        return {"ok": False, "error": f"no answer within {CHECK_TIMEOUT_S:g}s"}
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}


@router.get(
    "/readyz",
    responses=answers(
        Readiness, also={503: Readiness}, description="503 names the failed checks", steady=True
    ),
)
async def readyz(request: Request) -> JSON:
    svc = services(request)
    failing, degrading = _checks(request, svc)
    checks = await _check_all(svc, failing | degrading)
    failed = [name for name in failing if not checks[name]["ok"]]
    degraded = [name for name in degrading if not checks[name]["ok"]]
    body: dict[str, object] = {"status": "not ready" if failed else "ready", "checks": checks}
    if failed:
        body["failed"] = failed
    if degraded:
        body["degraded"] = degraded
    return JSON(body, status_code=503 if failed else 200)


def _loopback(host: str | None) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False  # a Unix socket peer or a name: not provably this machine
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def _may_scrape(request: Request, token: str) -> None:
    """With ROOST_METRICS_TOKEN set, only that bearer token reads /metrics;
    without it, only clients on this machine's loopback addresses do.

    Behind a reverse proxy the peer is the proxy: uvicorn replaces it with the
    client the proxy names in X-Forwarded-For (when the proxy's address is
    trusted, by default 127.0.0.1), so a proxy that does not send that header
    makes every client look local. docs/operations.md says what to do.
    """
    if token:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        given = value.strip().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, token.encode()):
            raise Unauthorized("/metrics needs the bearer token set in ROOST_METRICS_TOKEN")
        return
    if not _loopback(request.client.host if request.client else None):
        raise Forbidden(
            "/metrics answers only clients on this machine; "
            "set ROOST_METRICS_TOKEN to scrape it from elsewhere"
        )


def _exposure(request: Request, svc: Services) -> None:
    """The certificate and DNS gauges (roost/ops/exposure.py), refreshed in
    the background when due: a slow handshake never holds up the scrape,
    whose next run reads the new values."""
    state = request.app.state
    if getattr(state, "exposure_probe", None) is None:
        state.exposure_probe = ExposureProbe()
    state.exposure_probe.start(svc)


@router.get(
    "/metrics",
    response_class=Response,
    responses=answers(description="Prometheus metrics", media_type="text/plain", steady=True),
)
async def metrics(request: Request) -> Response:
    svc = services(request)
    _may_scrape(request, svc.settings.metrics_token)
    m = svc.metrics
    try:
        backlog = await asyncio.wait_for(job_backlog(svc.db), CHECK_TIMEOUT_S)
    except Exception:
        # The scrape still reports everything this process knows; the database
        # being down shows as the missing job gauges' staleness and in /readyz.
        pass
    else:
        m.jobs_queued.set(backlog.queued)
        m.jobs_parked.set(backlog.parked)
        m.job_oldest_age.set(backlog.oldest_due_s)
    m.observe_pool(svc.db.engine.pool)
    failing, degrading = _checks(request, svc)
    failing.pop("jobs")
    await _check_all(svc, failing | degrading)
    _exposure(request, svc)
    return Response(m.exposition(), media_type=CONTENT_TYPE)
