"""Mastodon.py with scheduled posts: schedule, list, move, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError

from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.clients


def test_given_mastodon_py_when_scheduling_moving_and_cancelling_then_the_server_follows(
    live_server: LiveServer,
) -> None:
    (alice,) = live_server.people("scheduler")
    at = datetime.now(UTC) + timedelta(hours=1)
    kept = alice.api.status_post("in an hour", scheduled_at=at, visibility="unlisted")
    assert kept["params"]["text"] == "in an hour"
    assert abs((kept["scheduled_at"] - at).total_seconds()) < 1
    assert [s["id"] for s in alice.api.scheduled_statuses()] == [kept["id"]]
    assert alice.api.scheduled_status(kept["id"])["params"]["visibility"] == "unlisted"

    later = at + timedelta(days=1)
    moved = alice.api.scheduled_status_update(kept["id"], later)
    assert abs((moved["scheduled_at"] - later).total_seconds()) < 1
    with pytest.raises(MastodonAPIError):
        alice.api.status_post("too soon", scheduled_at=datetime.now(UTC) + timedelta(minutes=1))

    alice.api.scheduled_status_delete(kept["id"])
    assert alice.api.scheduled_statuses() == []
    with pytest.raises(MastodonNotFoundError):
        alice.api.scheduled_status(kept["id"])
    assert alice.api.account_statuses(alice.id) == []
