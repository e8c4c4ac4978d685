"""The job runner: retries with backoff, parking, leases, and stopping cleanly."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import pytest

from roost.clock import utcnow
from roost.jobs import runner as runner_module
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, RetryLater, handles
from roost.jobs.runner import BASE_BACKOFF_S, backoff_seconds
from tests.jobs.conftest import Queue

calls: dict[str, int] = {}
started: dict[str, asyncio.Event] = {}


@dataclass(frozen=True)
class Fails(Job, kind="test.fails"):
    name: str


@dataclass(frozen=True)
class Flaky(Job, kind="test.flaky"):
    name: str
    failures: int


@dataclass(frozen=True)
class Ok(Job, kind="test.ok"):
    name: str
    sleep: float = 0


@dataclass(frozen=True)
class DependencyDown(Job, kind="test.dependency_down"):
    pass


@dataclass(frozen=True)
class Waits(Job, kind="test.waits"):
    """Stands for a delivery to a server that does not answer."""

    concurrent: ClassVar[bool] = True
    name: str


@handles(Waits)
async def _waits(ctx: object, job: Waits) -> None:
    calls[job.name] = calls.get(job.name, 0) + 1
    await started[job.name].wait()


@handles(Fails)
async def _fails(ctx: object, job: Fails) -> None:
    calls[job.name] = calls.get(job.name, 0) + 1
    raise RuntimeError(f"broken {job.name}")


@handles(Flaky)
async def _flaky(ctx: object, job: Flaky) -> None:
    calls[job.name] = calls.get(job.name, 0) + 1
    if calls[job.name] <= job.failures:
        raise RuntimeError("not yet")


@handles(Ok)
async def _ok(ctx: object, job: Ok) -> None:
    calls[job.name] = calls.get(job.name, 0) + 1
    if job.name in started:
        started[job.name].set()
    await asyncio.sleep(job.sleep)


@handles(DependencyDown)
async def _down(ctx: object, job: DependencyDown) -> None:
    raise RetryLater("redis is unavailable")


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    # One count per test: the same scenario runs once per backend.
    calls.clear()
    started.clear()


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the runner's clock forward."""
    moved = utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(runner_module, "utcnow", lambda: moved)


def test_backoff_doubles_with_jitter_and_stops_at_the_cap() -> None:
    for attempts in range(1, 8):
        ceiling = BASE_BACKOFF_S * 2 ** (attempts - 1)
        samples = [backoff_seconds(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 100  # jittered, not one fixed delay
    assert backoff_seconds(40) <= runner_module.MAX_BACKOFF_S


def test_given_a_failing_job_when_run_then_it_is_retried_later_not_at_once(queue: Queue) -> None:
    job = queue.enqueue(Fails(name="retry-later"))
    before = utcnow()
    queue.run(queue.runner().drain)
    row = queue.rows()[job]
    assert calls["retry-later"] == 1
    assert row["state"] == "queued" and row["attempts"] == 1
    assert row["locked_by"] is None
    assert "RuntimeError: broken retry-later" in row["last_error"]
    wait = (row["run_at"] - before).total_seconds()
    assert BASE_BACKOFF_S / 2 - 0.5 <= wait <= BASE_BACKOFF_S + 1


def test_given_a_job_that_keeps_failing_when_attempts_run_out_then_it_is_parked(
    queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = queue.enqueue(Fails(name="parks"), max_attempts=3)
    for hours in range(1, 6):
        _later(monkeypatch, hours * 3600)
        queue.run(queue.runner().drain)
    row = queue.rows()[job]
    assert calls["parks"] == 3
    assert row["state"] == "parked" and row["attempts"] == 3


def test_given_a_flaky_job_when_retried_then_it_succeeds_and_is_gone(
    queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = queue.enqueue(Flaky(name="flaky", failures=2))
    for hours in range(1, 4):
        _later(monkeypatch, hours * 3600)
        queue.run(queue.runner().drain)
    assert calls["flaky"] == 3
    assert job not in queue.rows()


def test_given_a_dependency_down_when_deferred_then_the_attempt_does_not_count(
    queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = queue.enqueue(DependencyDown(), max_attempts=2)
    for minutes in range(1, 6):
        _later(monkeypatch, minutes * 60)
        queue.run(queue.runner().drain)
    row = queue.rows()[job]
    assert row["state"] == "queued" and row["attempts"] == 0
    assert row["last_error"] == "deferred: redis is unavailable"


def test_given_a_claimed_job_when_its_worker_dies_then_it_runs_again_after_the_lease(
    queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = queue.enqueue(Ok(name="orphan"))
    dead, alive = queue.runner(), queue.runner()
    assert [j["id"] for j in queue.run(dead.claim)] == [job]
    # The dead worker never finishes; while its lease lasts nobody else runs it.
    assert queue.run(alive.claim) == []
    _later(monkeypatch, queue.settings.job_lease_s + 1)
    queue.run(alive.drain)
    assert calls["orphan"] == 1
    assert job not in queue.rows()


def test_given_a_job_longer_than_its_lease_when_running_then_the_lease_is_renewed(
    queue: Queue,
) -> None:
    short = queue.settings.model_copy(update={"job_lease_s": 1})
    queue.settings = short
    job = queue.enqueue(Ok(name="long", sleep=1.6))
    first, second = queue.runner(), queue.runner()

    async def race() -> list[dict[str, Any]]:
        running = asyncio.create_task(first.run_once())
        await asyncio.sleep(1.3)  # past the first lease, before the job ends
        stolen = await second.claim()
        await running
        return stolen

    assert queue.run(race) == []
    assert calls["long"] == 1
    assert job not in queue.rows()


def test_given_a_batch_in_hand_when_told_to_stop_then_it_finishes_one_and_releases_the_rest(
    queue: Queue,
) -> None:
    ids = [queue.enqueue(Ok(name=f"batch{n}", sleep=0.05)) for n in range(3)]
    runner = queue.runner(batch=3)

    async def stop_midway() -> None:
        # Stop once the first job is running (its handler counts it on entry),
        # however long the claim took on a busy machine.
        started["batch0"] = asyncio.Event()
        task = asyncio.create_task(runner.run_forever())
        await asyncio.wait_for(started["batch0"].wait(), 10)
        runner.stop()
        await asyncio.wait_for(task, 5)

    queue.run(stop_midway)
    rows = queue.rows()
    assert calls["batch0"] == 1 and ids[0] not in rows
    for job in ids[1:]:
        assert rows[job]["locked_by"] is None and rows[job]["locked_until"] is None
        assert rows[job]["attempts"] == 0
    # Released, not leased: another runner takes them at once.
    queue.run(queue.runner().drain)
    assert not queue.rows()


def test_given_a_rolled_back_change_when_it_enqueued_a_job_then_the_job_is_gone_too(
    queue: Queue,
) -> None:
    from roost.jobs.outbox import enqueue

    async def fail_midway() -> None:
        async with queue.db.write() as tx:
            await enqueue(tx, Ok(name="never"))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        queue.run(fail_midway)
    assert queue.rows() == {}


def test_given_a_concurrent_job_waiting_when_others_are_queued_then_they_run_meanwhile(
    queue: Queue,
) -> None:
    hanging = queue.enqueue(Waits(name="dead server"))
    queue.enqueue(Ok(name="same batch"))
    runner = queue.runner(batch=2)

    async def scenario() -> tuple[bool, bool]:
        started["dead server"] = asyncio.Event()
        # Each run_once returns while the concurrent job still waits (a
        # runner taking jobs one by one would wait here until the timeout).
        assert await asyncio.wait_for(runner.run_once(), 5) == 2
        async with queue.db.write() as tx:
            await enqueue(tx, Ok(name="next batch"))
        await asyncio.wait_for(runner.run_once(), 5)
        done_meanwhile = calls.get("same batch") == 1 and calls.get("next batch") == 1
        still_waiting = calls["dead server"] == 1 and bool(runner._running)
        started["dead server"].set()  # the server answers at last
        await runner.settle()
        return done_meanwhile, still_waiting

    assert queue.run(scenario) == (True, True)
    assert hanging not in queue.rows() and not queue.rows()
