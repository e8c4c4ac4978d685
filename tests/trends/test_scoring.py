"""The trend score: distinct accounts, each once, decayed by half every HALF_LIFE."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from roost.domain.trends.scoring import HALF_LIFE, MIN_ACCOUNTS, rank

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_each_account_counts_once_at_its_latest_use_halved_every_half_life() -> None:
    events = [
        (1, 10, NOW),  # account 10, just now: 1
        (1, 11, NOW - HALF_LIFE),  # one half-life ago: 0.5
        (1, 11, NOW - 3 * HALF_LIFE),  # the same account earlier: not counted again
        (1, 12, NOW - 2 * HALF_LIFE),  # 0.25
        (2, 10, NOW),
        (2, 10, NOW),
        (2, 10, NOW),  # one account, however often: never trends
        (3, 13, NOW - HALF_LIFE),
        (3, 14, NOW - HALF_LIFE),  # two accounts a half-life ago: 1.0
    ]
    ranked = rank(events, NOW)
    assert [t.subject_id for t in ranked] == [1, 3]
    assert ranked[0].score == pytest.approx(1.75) and ranked[0].accounts == 3
    assert ranked[1].score == pytest.approx(1.0) and ranked[1].accounts == MIN_ACCOUNTS


def test_equal_scores_go_to_the_newer_item() -> None:
    events = [(5, 1, NOW), (5, 2, NOW), (9, 1, NOW), (9, 2, NOW)]
    assert [t.subject_id for t in rank(events, NOW)] == [9, 5]
