"""A job queue on a real database (each backend), without the HTTP app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import jobs
from roost.domain.jobs import JobContext
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job
from roost.jobs.runner import JobRunner
from roost.media.store import media_store
from roost.search.index import index_for
from roost.timelines.sql import SqlTimelineStore

T = TypeVar("T")


@dataclass
class Queue:
    settings: Settings
    db: Database
    loop: asyncio.AbstractEventLoop

    def run(self, body: Callable[[], Awaitable[T]]) -> T:
        return self.loop.run_until_complete(body())

    def runner(self, **kwargs: Any) -> JobRunner:
        context = JobContext(
            db=self.db,
            settings=self.settings,
            timelines=SqlTimelineStore(),
            search=index_for("sqlite" if self.db.is_sqlite else "postgresql"),
            media=media_store(self.settings),
        )
        return JobRunner(context, **kwargs)

    def enqueue(self, job: Job, **kwargs: Any) -> int:
        async def write() -> int:
            async with self.db.write() as tx:
                return await enqueue(tx, job, **kwargs)

        return self.run(write)

    def rows(self) -> dict[int, dict[str, Any]]:
        async def read() -> dict[int, dict[str, Any]]:
            async with self.db.read() as conn:
                result = await conn.execute(select(jobs))
                return {row["id"]: dict(row) for row in result.mappings()}

        return self.run(read)


@pytest.fixture
def queue(settings: Settings) -> Iterator[Queue]:
    loop = asyncio.new_event_loop()
    db = Database(settings)
    try:
        yield Queue(settings, db, loop)
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
