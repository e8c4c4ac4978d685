"""Job kinds: each a frozen dataclass with exactly one handler, stored as the
previous release stored it."""

from __future__ import annotations

import dataclasses

from sqlalchemy import delete, insert, select

from roost import job_handlers
from roost.clock import utcnow
from roost.db.tables import jobs, notifications
from roost.domain.notifications.jobs import Notify
from roost.ids import new_id
from roost.jobs.registry import handled_classes, handler_for, job_class, job_classes
from tests.conftest import Roost

# The kinds the release before typed jobs wrote (``kind`` strings in the table).
PREVIOUS_RELEASE_KINDS = {
    "notify",
    "list.changed",
    "status.published",
    "status.edited",
    "status.deleted",
    "search.sync",
    "search.reindex_account",
    "search.reindex",
    "media.process",
    "media.sweep",
    "import.twitter",
    "import.twitter.index",
}


def test_given_every_job_kind_then_each_is_a_frozen_dataclass_with_exactly_one_handler() -> None:
    assert job_handlers.REGISTERED  # every area's handlers are imported
    kinds = job_classes()
    ours = {cls.kind for cls in kinds if cls.__module__.startswith("roost.")}
    # Every kind a previous release may have left queued still has its class.
    assert ours >= PREVIOUS_RELEASE_KINDS
    for cls in kinds:
        # Its own dataclass, frozen: not merely one by inheritance from Job.
        assert "__dataclass_params__" in cls.__dict__, cls
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        assert job_class(cls.kind) is cls
        assert handler_for(cls) is not None, f"no handler for {cls.kind}"
    assert set(handled_classes()) == set(kinds)
    assert len({cls.kind for cls in kinds}) == len(kinds)


def test_given_a_job_when_stored_and_read_back_then_it_is_the_same_job() -> None:
    for job in (Notify(type="mention", account_id=1, from_account_id=2, status_id=3),):
        payload = job.payload()
        assert payload == dataclasses.asdict(job)
        assert type(job).from_payload(payload) == job
    # A key the class does not know (written by a later release) is left aside.
    assert Notify.from_payload(
        {"type": "follow", "account_id": 1, "from_account_id": 2, "later": True}
    ) == Notify(type="follow", account_id=1, from_account_id=2)


def test_given_jobs_queued_by_the_previous_release_when_run_then_they_are_handled(
    roost: Roost,
) -> None:
    """Rows as the release before typed jobs wrote them (its kinds and payload
    keys), in place of the ones this release queued for the same post."""
    alice, bob = roost.account("alice"), roost.account("bob")
    post = int(alice.post_status(f"@{bob.username} hello")["id"])

    async def queue_old_rows() -> None:
        now = utcnow()
        rows = [
            ("status.published", {"status_id": post}),
            ("search.sync", {"status_id": post}),
            (
                "notify",
                {
                    "type": "favourite",
                    "account_id": int(alice.id),
                    "from_account_id": int(bob.id),
                    "status_id": post,
                },
            ),
        ]
        async with roost.db.write() as tx:
            await tx.execute(delete(jobs))
            await tx.execute(
                insert(jobs),
                [
                    {
                        "id": new_id(),
                        "kind": kind,
                        "payload": payload,
                        "state": "queued",
                        "attempts": 0,
                        "max_attempts": 8,
                        "run_at": now,
                        "created_at": now,
                    }
                    for kind, payload in rows
                ],
            )

    roost.run(queue_old_rows)
    roost.drain_jobs()

    async def left() -> tuple[list[str], dict[int, list[str]]]:
        async with roost.db.read() as conn:
            kinds = [r.kind for r in await conn.execute(select(jobs.c.kind))]
            heard: dict[int, list[str]] = {}
            for r in await conn.execute(select(notifications.c.account_id, notifications.c.type)):
                heard.setdefault(r.account_id, []).append(r.type)
        return kinds, heard

    kinds, heard = roost.run(left)
    assert kinds == []  # every one ran: none failed, none parked
    assert heard == {int(bob.id): ["mention"], int(alice.id): ["favourite"]}
