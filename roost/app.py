"""The ASGI application: routes, middleware, and what runs beside them.

``create_app(settings)`` is all a server, a test or a benchmark needs. On start
it applies pending migrations (refusing a schema newer than it knows) and, in
embedded mode, runs the job runner in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from roost.api import erasure, errors, exports, health, images, media_files
from roost.api.mastodon import (
    accounts,
    admin,
    announcements,
    apps,
    conversations,
    filters,
    graph,
    instance,
    lists,
    markers,
    media,
    notifications,
    oauth,
    search,
    statuses,
    streaming,
    tags,
    timelines,
)
from roost.api.middleware import RequestId, TrailingSlash
from roost.api.responses import JSON
from roost.api.roost import imports as roost_imports
from roost.api.routing import guard_routers
from roost.config import Settings
from roost.db.migrate import upgrade
from roost.domain.statuses.feed import forget_deleted_elsewhere
from roost.jobs import handlers as _handlers  # noqa: F401  (registers the job kinds)
from roost.jobs.runner import JobRunner
from roost.media import urls as media_urls
from roost.observability.http import RequestMetrics
from roost.ops.background import start_ops_tasks
from roost.ops.disk import register_disk_metrics
from roost.services import Services, build_services

log = logging.getLogger("roost")


def create_app(
    settings: Settings,
    services: Services | None = None,
    on_ready: Callable[[], None] | None = None,
) -> FastAPI:
    svc = services or build_services(settings)

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
            task = asyncio.create_task(runner.run_forever(), name="roost-jobs")
        ops_tasks = start_ops_tasks(settings)
        ops_tasks.append(
            asyncio.create_task(forget_deleted_elsewhere(svc.bus), name="roost-cache-janitor")
        )
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            statistics.cancel()
            for ops_task in ops_tasks:
                ops_task.cancel()
            runner.stop()
            if task is not None:
                try:
                    await asyncio.wait_for(task, timeout=10)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
            await svc.close()

    app = FastAPI(
        title="Roost",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        default_response_class=JSON,
        redirect_slashes=False,
    )
    app.state.services = svc
    register_disk_metrics(svc.metrics.registry, settings)
    # Media URLs of non-public posts are signed with a key from the secret.
    media_urls.configure(settings.secret_key)
    errors.install(app)
    for module in (
        health,
        images,
        oauth,
        apps,
        accounts,
        statuses,
        timelines,
        notifications,
        graph,
        conversations,
        search,
        tags,
        lists,
        filters,
        markers,
        announcements,
        instance,
        streaming,
        media,
        media_files,
        exports,
        erasure,
        admin,
    ):
        app.include_router(module.router)
    app.include_router(roost_imports.router)
    guard_routers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["Link", "X-Request-Id", "Retry-After"],
        max_age=3600,
    )
    app.add_middleware(RequestMetrics, metrics=svc.metrics)
    app.add_middleware(TrailingSlash)
    app.add_middleware(RequestId)
    return app
