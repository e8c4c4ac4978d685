"""Jobs run in a serving process give way to requests: background work
(``background_work``) starts each transaction when no request is in flight,
or once it has waited ``ROOST_JOBS_GIVE_WAY_MS``; a request's own work, and
background work that already holds a write, never wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from sqlalchemy import text

from roost.api.admission import ADMITTED, Admission
from roost.config import load_settings
from roost.db.engine import Database, background_work
from roost.observability.metrics import Metrics
from tests.api.test_admission import Exchange


class _Serving:
    """Admission control in front of requests that end when told to."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.admission = Admission(
            self.serve, max_queue_s=0, max_in_flight=0, max_streams=0, metrics=Metrics()
        )

    async def serve(
        self, scope: object, receive: object, send: Callable[..., Awaitable[None]]
    ) -> None:
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def _run(
    tmp_path: Path, body: Callable[[Database, _Serving], Awaitable[None]], patience_s: float
) -> None:
    async def main() -> None:
        settings = load_settings(
            data_dir=tmp_path, database_url="", redis_url="", domain="localhost"
        )
        db = Database(settings)
        serving = _Serving()
        db.give_way = partial(serving.admission.quiet, patience_s)
        try:
            await body(db, serving)
        finally:
            await db.dispose()

    asyncio.run(main())


async def _background_write(db: Database, entered: list[float]) -> None:
    with background_work():
        async with db.write() as tx:
            entered.append(time.monotonic())
            await tx.execute(text("SELECT 1"))


def test_given_a_request_in_flight_when_a_job_starts_a_transaction_then_it_waits_for_the_answer(
    tmp_path: Path,
) -> None:
    async def body(db: Database, serving: _Serving) -> None:
        # Given a request being served
        request = Exchange.start(serving.admission, "POST", "/api/v1/statuses")
        await asyncio.sleep(0.01)
        assert serving.admission.in_flight == 1
        # When background work starts a transaction
        entered: list[float] = []
        job = asyncio.create_task(_background_write(db, entered))
        await asyncio.sleep(0.2)
        # Then it has not begun while the request is in flight
        assert entered == []
        # and begins as soon as the request is answered
        answered_at = time.monotonic()
        serving.release.set()
        await job
        assert (await request.answered()).status == 200
        assert entered[0] - answered_at < 0.1

    _run(tmp_path, body, patience_s=5.0)


def test_given_a_request_that_outlasts_the_patience_then_the_job_goes_ahead(
    tmp_path: Path,
) -> None:
    async def body(db: Database, serving: _Serving) -> None:
        Exchange.start(serving.admission, "POST", "/api/v1/statuses")
        await asyncio.sleep(0.01)
        began = time.monotonic()
        entered: list[float] = []
        await _background_write(db, entered)
        # Waited about the patience (0.1 s), not for the request, which is
        # still in flight.
        assert 0.08 <= entered[0] - began < 1.0
        assert serving.admission.in_flight == 1
        serving.release.set()

    _run(tmp_path, body, patience_s=0.1)


def test_given_a_request_in_flight_then_its_own_work_does_not_wait(tmp_path: Path) -> None:
    async def body(db: Database, serving: _Serving) -> None:
        Exchange.start(serving.admission, "POST", "/api/v1/statuses")
        await asyncio.sleep(0.01)
        began = time.monotonic()
        # A request's own transaction (not background work): at once.
        async with db.write() as tx:
            await tx.execute(text("SELECT 1"))
        assert time.monotonic() - began < 2.0
        serving.release.set()

    _run(tmp_path, body, patience_s=5.0)


def test_given_a_job_holding_a_write_when_a_request_arrives_then_its_reads_do_not_wait(
    tmp_path: Path,
) -> None:
    async def body(db: Database, serving: _Serving) -> None:
        with background_work():
            async with db.write() as tx:
                # A request arrives while the job holds the write (it may be
                # waiting for it): the job's reads go on, and it lets go.
                Exchange.start(serving.admission, "POST", "/api/v1/statuses")
                await asyncio.sleep(0.01)
                began = time.monotonic()
                async with db.read() as conn:
                    await conn.execute(text("SELECT 1"))
                await tx.execute(text("SELECT 1"))
                assert time.monotonic() - began < 2.0
        serving.release.set()

    _run(tmp_path, body, patience_s=5.0)


def test_given_no_request_in_flight_then_background_work_does_not_wait(tmp_path: Path) -> None:
    async def body(db: Database, serving: _Serving) -> None:
        began = time.monotonic()
        entered: list[float] = []
        await _background_write(db, entered)
        assert entered[0] - began < 1.0

    _run(tmp_path, body, patience_s=5.0)


def test_given_a_place_reserved_for_what_turns_out_a_health_check_then_it_is_given_back() -> None:
    async def main() -> None:
        serving = _Serving()
        admission = serving.admission
        # Given a request admitted as its headers arrived, its path read as
        # sent (percent-encoded), which the server then decodes to /livez/
        assert admission.early("/livez%2F") is ADMITTED
        assert admission.reserved == 1
        exchange = Exchange.of("GET", "/livez/")
        exchange.scope[Admission.RESERVED] = admission.now()  # type: ignore[literal-required]
        serving.release.set()
        # When it is served (as the health check it is)
        await admission(exchange.scope, exchange.receive, exchange.send)
        # Then its place is free again, and background work sees the server idle
        assert admission.reserved == 0 and admission.in_flight == 0
        began = time.monotonic()
        await admission.quiet(5.0)
        assert time.monotonic() - began < 1.0

    asyncio.run(main())


def test_given_a_job_whose_commit_is_heard_then_the_listeners_reads_do_not_wait(
    tmp_path: Path,
) -> None:
    async def body(db: Database, serving: _Serving) -> None:
        heard: list[float] = []

        async def listener(event: object) -> None:
            # A listener reading back what the event names (the page cache
            # does), while the write lock is still held.
            async with db.read() as conn:
                await conn.execute(text("SELECT 1"))
            heard.append(time.monotonic())

        db.listeners.append(listener)
        with background_work():
            async with db.write() as tx:
                tx.emit("a post was made")
                # A request arrives before the commit (it may want the lock).
                Exchange.start(serving.admission, "POST", "/api/v1/statuses")
                await asyncio.sleep(0.01)
                began = time.monotonic()
        assert heard and heard[0] - began < 2.0
        serving.release.set()

    _run(tmp_path, body, patience_s=5.0)
