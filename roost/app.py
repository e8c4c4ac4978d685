"""The ASGI application: routes, middleware, and what runs beside them.

``create_app(settings)`` is all a server, a test or a benchmark needs. On start
it applies pending migrations (refusing a schema newer than it knows) and, in
embedded mode, runs the job runner in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from roost.api import errors, openapi
from roost.api.admission import Admission
from roost.api.ip_access import IpAccess
from roost.api.mastodon import hooks
from roost.api.middleware import RequestId, TrailingSlash
from roost.api.ratelimits import RateLimits
from roost.api.responses import JSON
from roost.api.routing import guard_routers
from roost.config import Settings
from roost.db.migrate import upgrade
from roost.domain.blocks.ip import AccessList
from roost.domain.federation.upkeep import keep_upkeep
from roost.domain.statuses.shared import forget_deleted_elsewhere
from roost.jobs.runner import JobRunner
from roost.observability.http import RequestMetrics
from roost.ops.background import start_ops_tasks
from roost.ops.backup_metrics import register_backup_metrics
from roost.ops.disk import register_disk_metrics
from roost.process import prepare_process
from roost.routes import ROUTERS
from roost.services import Services, build_services
from roost.web import cache as page_cache
from roost.web import errors as web_errors

log = logging.getLogger("roost")

# Any origin may call the API (tokens, not cookies, authorise it); these
# headers are what a browser app must be allowed to read.
CORS_EXPOSED_HEADERS = [
    "Link",
    "X-Request-Id",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]


def create_app(
    settings: Settings,
    services: Services | None = None,
    on_ready: Callable[[], None] | None = None,
    began_at: float | None = None,
) -> FastAPI:
    # A server's start-up runs from its process's start (``roost serve`` passes
    # it); an app made inside a longer-lived process (tests, benchmarks) starts
    # when it is made.
    began = time.time() if began_at is None else began_at
    prepare_process(settings)
    hooks.install()
    svc = services or build_services(settings)
    page_cache.install(svc.db)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await upgrade(svc.db)
        except BaseException:
            # Refusing to start (a schema newer than this release) must not
            # leave database connections open behind it.
            await svc.close()
            raise
        await svc.db.refresh_statistics()
        await svc.start()
        statistics = asyncio.create_task(svc.db.keep_statistics_fresh(), name="roost-statistics")
        runner = JobRunner(svc.job_context())
        app.state.job_runner = runner
        task = None
        if settings.run_jobs_in_process:
            admission = getattr(app, "admission", None)
            if settings.jobs_give_way_ms and isinstance(admission, Admission):
                svc.db.give_way = partial(admission.quiet, settings.jobs_give_way_ms / 1000)
            task = asyncio.create_task(runner.run_forever(), name="roost-jobs")
        ops_tasks = start_ops_tasks(settings)
        if settings.run_jobs_in_process:
            ops_tasks.append(
                asyncio.create_task(keep_upkeep(svc.db, settings), name="roost-federation-upkeep")
            )
        ops_tasks.append(
            asyncio.create_task(forget_deleted_elsewhere(svc.bus), name="roost-cache-janitor")
        )
        if svc.redis is not None:
            # Other processes' changes reach this one's page cache by the bus.
            ops_tasks.append(
                asyncio.create_task(
                    page_cache.forget_changed_elsewhere(svc.bus, svc.db), name="roost-page-cache"
                )
            )
        svc.metrics.mark_ready(since=began)
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            background = [statistics, *ops_tasks]
            for each in background:
                each.cancel()
            runner.stop()
            if task is not None:
                try:
                    await asyncio.wait_for(task, timeout=10)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
                background.append(task)
            # Cancelled tasks finish (their connections go back to the pool)
            # before the pool is closed: a connection still held when it is
            # closed is left for the garbage collector, open.
            await asyncio.wait(background, timeout=10)
            await svc.close()

    app = RoostApp(
        title="Roost",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # roost.api.openapi serves the document
        default_response_class=JSON,
        redirect_slashes=False,
    )
    app.state.services = svc
    register_disk_metrics(svc.metrics.registry, settings)
    register_backup_metrics(svc.metrics.registry, settings)
    errors.install(app, web_errors.page_for_error, web_errors.page_for_status)
    openapi.install(app)
    # Every router, in the order requests are matched: roost/routes.py.
    for router in ROUTERS:
        app.include_router(router)
    guard_routers(app)
    # Inside CORS, request ids and metrics, so that a 429 carries all three.
    app.add_middleware(RateLimits, services=svc)
    # Outside the rate limits: a refused range is not even counted.
    app.state.ip_access = AccessList()
    app.add_middleware(IpAccess, db=svc.db, access=app.state.ip_access)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=CORS_EXPOSED_HEADERS,
        max_age=3600,
    )
    app.add_middleware(RequestMetrics, metrics=svc.metrics)
    app.add_middleware(TrailingSlash)
    app.add_middleware(RequestId)
    # In front of FastAPI itself, so that a refusal costs as little as
    # possible; it carries the CORS headers itself so that browser apps can
    # read the 503.
    app.admission = Admission(
        app.serve,
        max_queue_s=settings.max_queue_ms / 1000,
        max_in_flight=settings.max_in_flight,
        sustained_in_flight=_sustained_in_flight(settings, svc),
        adaptive_floor=_adaptive_floor(settings, svc),
        max_streams=settings.max_streams,
        metrics=svc.metrics,
        headers=[
            (b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", ", ".join(CORS_EXPOSED_HEADERS).encode()),
        ],
    )
    return app


class RoostApp(FastAPI):
    """FastAPI behind admission control (roost/api/admission.py): every
    request meets it before any of FastAPI's or Starlette's own work, which
    under overload is most of what a refusal would cost."""

    admission: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.admission is None:
            await self.serve(scope, receive, send)
        else:
            await self.admission(scope, receive, send)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The application itself, past admission control."""
        await super().__call__(scope, receive, send)


def _adaptive_floor(settings: Settings, svc: Services) -> int:
    """The adaptive limit's floor (0: the adaptive limit off): ROOST_MIN_IN_FLIGHT,
    or 2 on SQLite and 4 on PostgreSQL."""
    if not settings.adaptive_in_flight or not settings.max_in_flight:
        return 0
    if settings.min_in_flight is not None:
        return settings.min_in_flight
    return 2 if svc.db.is_sqlite else 4


def _sustained_in_flight(settings: Settings, svc: Services) -> int:
    """ROOST_SUSTAINED_IN_FLIGHT, or its default for the store (measured with
    bench/overload.py: docs/operations.md, "Overload"); never above the burst
    limit."""
    chosen = settings.sustained_in_flight
    if chosen is None:
        if not settings.max_in_flight:
            return 0  # no limit in flight asked for: none under overload either
        # SQLite: one event loop does all of a request's work (its reads are
        # synchronous), so two admitted at once each took about twice as long
        # and served no more. PostgreSQL: requests also wait on round trips.
        chosen = 1 if svc.db.is_sqlite else 4
    if settings.max_in_flight:
        chosen = min(chosen, settings.max_in_flight)
    return chosen
