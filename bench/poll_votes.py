"""Polls: how long a vote takes, what reading a poll costs as its votes grow,
and how long its end takes to tell every voter (roost/domain/polls).

Builds a fresh SQLite data directory with an author, a post with a poll
(four options, several choices allowed) and N voters, then:

1. each voter votes once, one after another (``do_vote`` in its own write
   transaction, as ``POST /api/v1/polls/:id/votes`` runs it): the median
   and p90 of a vote, and votes per second;
2. reads the poll as a voter (``polls.queries.poll``, through the privacy
   policy, counted now and marked with the viewer's own votes) with no vote
   and with N votes: the ratio says how reading grows with the votes;
3. ends the poll: the ``poll.ended`` job's write (``do_announce_end``, one
   ``notify`` job queued for each voter and the author), then a job runner
   drains those jobs: one "poll" notification each.

Run: .venv/bin/python -m bench.poll_votes   (about 30 seconds)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from bench import _results
from roost.clock import utcnow
from roost.config import load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.db.tables import notifications, polls
from roost.domain.accounts import passwords
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.polls.actions import NewPoll, do_announce_end, do_vote
from roost.domain.polls.queries import poll
from roost.domain.statuses.actions import NewStatus, do_create_status
from roost.domain.types import Viewer
from roost.jobs.runner import JobRunner
from roost.process import prepare_process
from roost.services import build_services

N = int(os.environ.get("BENCH_POLL_VOTERS", "500"))
READS = 200
POLL = NewPoll(options=("tea", "coffee", "water", "juice"), expires_in=3600, multiple=True)


async def _read_ms(db: Database, viewer: Viewer, poll_id: int) -> float:
    timings = []
    async with db.read() as conn:
        for _ in range(READS):
            begun = time.perf_counter()
            await poll(conn, viewer, poll_id)
            timings.append(time.perf_counter() - begun)
    return statistics.median(timings) * 1000


async def main() -> int:
    passwords.use_fast_hashing_for_tests()
    with tempfile.TemporaryDirectory() as directory:
        settings = load_settings(data_dir=Path(directory), secret_key="b" * 40)
        prepare_process(settings)
        db = Database(settings)
        await upgrade(db)
        async with db.write() as tx:
            author = await do_create_account(
                tx, NewAccount(username="author", email="author@example.org", password="x" * 12)
            )
            voters = [
                await do_create_account(
                    tx, NewAccount(username=f"v{n}", email=f"v{n}@example.org", password="x" * 12)
                )
                for n in range(N)
            ]
            post = await do_create_status(
                tx,
                Viewer(account_id=author),
                NewStatus(text="what to drink?", poll=POLL),
                base_url=settings.base_url,
                max_chars=500,
            )
            poll_id = (
                await tx.execute(select(polls.c.id).where(polls.c.status_id == post))
            ).scalar_one()
        reader = Viewer(account_id=voters[0])
        empty_ms = await _read_ms(db, reader, poll_id)

        timings = []
        begun_all = time.perf_counter()
        for number, voter in enumerate(voters):
            choices = [number % 4] if number % 3 else [number % 4, (number + 1) % 4]
            begun = time.perf_counter()
            async with db.write() as tx:
                await do_vote(tx, Viewer(account_id=voter), poll_id, choices)
            timings.append(time.perf_counter() - begun)
        votes_s = time.perf_counter() - begun_all
        full_ms = await _read_ms(db, reader, poll_id)
        async with db.read() as conn:
            counted = (await poll(conn, reader, poll_id)).value
        assert counted.voters_count == N, counted.voters_count

        async with db.write() as tx:
            past = utcnow() - timedelta(seconds=1)
            await tx.execute(update(polls).where(polls.c.id == poll_id).values(expires_at=past))
        begun = time.perf_counter()
        async with db.write() as tx:
            told = await do_announce_end(tx, poll_id)
        queue_s = time.perf_counter() - begun
        runner = JobRunner(build_services(settings, db).job_context())
        begun = time.perf_counter()
        await runner.drain()
        end_s = time.perf_counter() - begun
        async with db.read() as conn:
            recorded = (
                await conn.execute(
                    select(func.count())
                    .select_from(notifications)
                    .where(notifications.c.type == "poll")
                )
            ).scalar_one()
        assert told == recorded == N + 1, (told, recorded)
        await db.dispose()

    median_ms = statistics.median(timings) * 1000
    p90_ms = statistics.quantiles(timings, n=100)[89] * 1000
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(
        f"{N} votes one after another: median {median_ms:.1f} ms, p90 {p90_ms:.1f} ms,"
        f" {N / votes_s:.0f} votes/s"
    )
    print(
        f"reading the poll as a voter: {empty_ms:.2f} ms with no vote, {full_ms:.2f} ms"
        f" with {N} voters ({full_ms / empty_ms:.2f}x)"
    )
    print(
        f"the poll's end: {told} notification jobs queued in one write of"
        f" {queue_s * 1000:.0f} ms; run by one job runner in {end_s:.1f} s"
        f" ({end_s / told * 1000:.1f} ms each)"
    )
    _results.record(
        "poll_votes",
        {
            "vote_median_ms": _results.lower(median_ms, "ms"),
            "vote_p90_ms": _results.lower(p90_ms, "ms"),
            "votes_per_s": _results.higher(N / votes_s, "votes/s"),
            "read_full_ms": _results.lower(full_ms, "ms"),
            "read_growth": _results.lower(full_ms / empty_ms, "x"),
            "end_queue_ms": _results.lower(queue_s * 1000, "ms"),
            "end_each_ms": _results.lower(end_s / told * 1000, "ms"),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
