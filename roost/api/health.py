"""/livez (the process answers), /readyz (its dependencies answer) and /metrics.

/readyz checks each dependency by name (database, redis when configured, jobs)
and answers 503 naming the ones that failed: a load balancer takes the process
out, and the operator reading the body sees which part is down. The job check
fails when the oldest due job has waited longer than ROOST_JOBS_READY_MAX_AGE_S
(no worker running, or workers falling behind).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select, text

from roost.api.auth import services
from roost.api.responses import JSON
from roost.clock import utcnow
from roost.db.tables import jobs
from roost.observability.metrics import CONTENT_TYPE
from roost.services import Services

router = APIRouter()

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Backlog:
    queued: int
    parked: int
    oldest_due_s: float


async def job_backlog(svc: Services) -> Backlog:
    now = utcnow()
    async with svc.db.read() as conn:
        rows = (await conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state))).all()
        oldest = (
            await conn.execute(
                select(func.min(jobs.c.run_at)).where(
                    jobs.c.state == "queued", jobs.c.run_at <= now
                )
            )
        ).scalar_one()
    counts = {state: int(count) for state, count in rows}
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return Backlog(counts.get("queued", 0), counts.get("parked", 0), age)


@router.get("/livez")
async def livez() -> JSON:
    return JSON({"status": "ok"})


async def _database(svc: Services) -> dict[str, Any]:
    async with svc.db.read() as conn:
        await conn.execute(text("SELECT 1"))
    return {"ok": True}


async def _redis(svc: Services) -> dict[str, Any]:
    assert svc.redis is not None
    return {"ok": await svc.redis.ping()}


async def _jobs(svc: Services) -> dict[str, Any]:
    backlog = await job_backlog(svc)
    limit = svc.settings.jobs_ready_max_age_s
    return {
        "ok": backlog.oldest_due_s <= limit,
        "queued": backlog.queued,
        "parked": backlog.parked,
        "oldest_due_seconds": round(backlog.oldest_due_s, 1),
    }


async def _run(check: Any, svc: Services) -> dict[str, Any]:
    try:
        result: dict[str, Any] = await asyncio.wait_for(check(svc), CHECK_TIMEOUT_S)
        return result
    except TimeoutError:
        return {"ok": False, "error": f"no answer within {CHECK_TIMEOUT_S:g}s"}
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}


@router.get("/readyz")
async def readyz(request: Request) -> JSON:
    svc = services(request)
    named = {"database": _database, "jobs": _jobs}
    if svc.redis is not None:
        named["redis"] = _redis
    results = await asyncio.gather(*(_run(check, svc) for check in named.values()))
    checks = dict(zip(named, results, strict=True))
    failed = [name for name, result in checks.items() if not result["ok"]]
    body: dict[str, object] = {"status": "not ready" if failed else "ready", "checks": checks}
    if failed:
        body["failed"] = failed
    return JSON(body, status_code=503 if failed else 200)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    svc = services(request)
    m = svc.metrics
    try:
        backlog = await asyncio.wait_for(job_backlog(svc), CHECK_TIMEOUT_S)
    except Exception:
        # The scrape still reports everything this process knows; the database
        # being down shows as the missing job gauges' staleness and in /readyz.
        pass
    else:
        m.jobs_queued.set(backlog.queued)
        m.jobs_parked.set(backlog.parked)
        m.job_oldest_age.set(backlog.oldest_due_s)
    m.observe_pool(svc.db.engine.pool)
    if svc.redis is not None:
        await svc.redis.ping()
    return Response(m.exposition(), media_type=CONTENT_TYPE)
