"""/livez (the process answers) and /readyz (its dependencies answer)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func, select, text

from roost.api.auth import services
from roost.api.responses import JSON
from roost.db.tables import jobs

router = APIRouter()


@router.get("/livez")
async def livez() -> JSON:
    return JSON({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSON:
    svc = services(request)
    checks: dict[str, dict[str, object]] = {}
    try:
        async with svc.db.read() as conn:
            await conn.execute(text("SELECT 1"))
            queued = (
                await conn.execute(
                    select(func.count()).select_from(jobs).where(jobs.c.state == "queued")
                )
            ).scalar_one()
            parked = (
                await conn.execute(
                    select(func.count()).select_from(jobs).where(jobs.c.state == "parked")
                )
            ).scalar_one()
        checks["database"] = {"ok": True}
        checks["jobs"] = {"ok": True, "queued": queued, "parked": parked}
    except Exception as error:
        checks["database"] = {"ok": False, "error": type(error).__name__}
    ready = all(bool(c["ok"]) for c in checks.values())
    failed = [name for name, c in checks.items() if not c["ok"]]
    body: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": checks}
    if failed:
        body["failed"] = failed
    return JSON(body, status_code=200 if ready else 503)
