"""`roost jobs list | retry | discard`: what an operator does with parked jobs."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from roost.cli.main import app
from roost.db.tables import jobs
from roost.domain.notifications.jobs import Notify
from roost.domain.statuses.jobs import StatusPublished
from tests.jobs.conftest import Queue

cli = CliRunner()


@pytest.fixture
def parked(queue: Queue, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    monkeypatch.setenv("ROOST_DATA_DIR", str(queue.settings.data_dir))
    monkeypatch.setenv("ROOST_SECRET_KEY", queue.settings.secret_key)
    if queue.settings.database_url:
        monkeypatch.setenv("ROOST_DATABASE_URL", queue.settings.database_url)
    ids = [
        queue.enqueue(Notify(type="mention", account_id=n + 1, from_account_id=0)) for n in range(2)
    ]
    queue.enqueue(StatusPublished(status_id=1))

    async def park() -> None:
        async with queue.db.write() as tx:
            await tx.execute(
                update(jobs)
                .where(jobs.c.id.in_(ids))
                .values(state="parked", attempts=8, last_error="RuntimeError: boom")
            )

    queue.run(park)
    return ids


def test_given_parked_jobs_when_listed_then_counts_by_kind_and_each_error(
    parked: list[int],
) -> None:
    result = cli.invoke(app, ["jobs", "list", "--parked"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "notify" in result.output and "parked" in result.output
    assert "status.published" in result.output and "queued" in result.output
    for job in parked:
        assert f"{job} notify after 8 attempts: RuntimeError: boom" in result.output


def test_given_a_parked_job_when_retried_then_it_is_queued_afresh(
    parked: list[int], queue: Queue
) -> None:
    result = cli.invoke(app, ["jobs", "retry", str(parked[0])])
    assert result.exit_code == 0, result.output
    assert "requeued 1 job(s)" in result.output
    row = queue.rows()[parked[0]]
    assert row["state"] == "queued" and row["attempts"] == 0 and row["locked_by"] is None
    assert queue.rows()[parked[1]]["state"] == "parked"
    everything = cli.invoke(app, ["jobs", "retry", "--all-parked"])
    assert "requeued 1 job(s)" in everything.output


def test_given_a_parked_job_when_discarded_then_it_is_gone_and_a_second_time_fails(
    parked: list[int], queue: Queue
) -> None:
    assert cli.invoke(app, ["jobs", "discard", str(parked[0])]).exit_code == 0
    assert parked[0] not in queue.rows()
    again = cli.invoke(app, ["jobs", "discard", str(parked[0])])
    assert again.exit_code == 1
    assert f"no parked job with id {parked[0]}" in again.output


def test_given_no_job_id_when_retrying_then_it_says_what_to_pass(parked: list[int]) -> None:
    result = cli.invoke(app, ["jobs", "retry"])
    assert result.exit_code == 1
    assert "name a job id, or pass --all-parked" in result.output
