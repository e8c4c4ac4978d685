"""An import stopped at any point resumes where it stopped: the end result and
the report are those of an import that never stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from roost.db.tables import (
    statuses,
    twitter_direct_messages,
    twitter_imports,
    twitter_likes,
    twitter_relations,
)
from roost.importers.twitter import phases
from tests.conftest import Roost, User
from tests.importers.conftest import count, report_of, rich_archive, rows, run_import


class Crash(Exception):
    """The process dying, as far as the import can tell."""


def _shape(roost: Roost, user: User) -> dict[str, Any]:
    """What an import leaves, independent of ids."""
    found = rows(roost, select(statuses).where(statuses.c.account_id == int(user.id)))
    by_id = {r["id"]: r for r in found}
    posts = sorted(
        (
            r["text"].split(roost.settings.base_url)[0],
            r["visibility"],
            by_id[r["in_reply_to_id"]]["text"] if r["in_reply_to_id"] in by_id else None,
            r["replies_count"],
        )
        for r in found
    )
    mine = int(user.id)
    return {
        "posts": posts,
        "likes": count(roost, twitter_likes, twitter_likes.c.account_id == mine),
        "relations": count(roost, twitter_relations, twitter_relations.c.account_id == mine),
        "messages": count(
            roost, twitter_direct_messages, twitter_direct_messages.c.account_id == mine
        ),
    }


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phases, "POST_BATCH", 3)
    monkeypatch.setattr(phases, "RECORD_BATCH", 1)


@pytest.mark.parametrize("crash_at", [1, 3, 6, 8, 11, 15, 19])
def test_given_an_import_killed_at_a_batch_when_run_again_then_it_ends_as_if_never_stopped(
    roost: Roost,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_batches: None,
    crash_at: int,
) -> None:
    path = rich_archive().builder.write_zip(tmp_path / "a.zip")
    reference, alice = roost.account("reference"), roost.account("alice")
    clean = run_import(roost, reference, path, include_dms=True, force=True)

    saves = 0
    real_save = phases.Importer._save

    async def dying_save(self: phases.Importer, tx: Any, phase: str) -> None:
        nonlocal saves
        saves += 1
        if saves == crash_at:
            raise Crash(f"killed in the {phase} phase")
        await real_save(self, tx, phase)

    monkeypatch.setattr(phases.Importer, "_save", dying_save)
    with pytest.raises(Crash):
        run_import(roost, alice, path, include_dms=True)
    monkeypatch.setattr(phases.Importer, "_save", real_save)

    resumed = run_import(roost, alice, path, include_dms=True)

    assert _shape(roost, alice) == _shape(roost, reference)
    assert report_of(resumed).counts == report_of(clean).counts
    assert report_of(resumed).skipped == report_of(clean).skipped
    mine = twitter_imports.c.account_id == int(alice.id)
    assert count(roost, twitter_imports, mine) == 1


def test_given_a_failure_while_reading_then_nothing_was_written(
    roost: Roost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = roost.account("alice")
    path = rich_archive().builder.write_zip(tmp_path / "a.zip")

    def dying_scan(*args: Any, **kwargs: Any) -> Any:
        raise Crash("killed while reading")

    from roost.importers.twitter import run as run_module

    monkeypatch.setattr(run_module, "scan", dying_scan)
    with pytest.raises(Crash):
        run_import(roost, alice, path)

    assert count(roost, statuses) == 0 and count(roost, twitter_imports) == 0
