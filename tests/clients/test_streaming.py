"""Mastodon.py's streaming client receives posts and notifications live."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from mastodon import StreamListener

from tests.clients.conftest import LiveServer

pytestmark = [pytest.mark.clients, pytest.mark.timeout(60)]


class _Collector(StreamListener):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.updates: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.arrived = threading.Event()

    def on_update(self, status: dict[str, Any]) -> None:
        self.updates.append(status)
        self.arrived.set()

    def on_notification(self, notification: dict[str, Any]) -> None:
        self.notifications.append(notification)
        self.arrived.set()


def _wait_for(collector: _Collector, probe: Any, seconds: float = 10.0) -> None:
    deadline = threading.Event()
    timer = threading.Timer(seconds, deadline.set)
    timer.start()
    try:
        while not probe():
            assert not deadline.is_set(), "nothing arrived on the stream in time"
            collector.arrived.wait(0.2)
            collector.arrived.clear()
    finally:
        timer.cancel()


def test_given_a_follower_streaming_when_the_followed_posts_then_it_arrives_within_seconds(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("streamer", "poster")
    alice.api.account_follow(bob.id)
    collector = _Collector()
    handle = alice.api.stream_user(collector, run_async=True, reconnect_async=False)
    try:
        # The stream is live once the server has answered; give it a moment.
        threading.Event().wait(1.0)
        post = bob.api.status_post("live over the stream")
        mention = bob.api.status_post(f"@{alice.username} hello")
        _wait_for(
            collector,
            lambda: (
                {post["id"], mention["id"]} <= {s["id"] for s in collector.updates}
                and collector.notifications
            ),
        )
    finally:
        handle.close()
    assert any(n["type"] == "mention" for n in collector.notifications)


class _Changes(_Collector):
    def __init__(self) -> None:
        super().__init__()
        self.filters_changed = 0
        self.unknown: list[str] = []

    def on_filters_changed(self) -> None:
        self.filters_changed += 1
        self.arrived.set()

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        self.unknown.append(name)


def test_given_mastodon_py_streaming_when_filters_change_then_it_hears_filters_changed(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("filterer", "filter_poster")
    alice.api.account_follow(bob.id)
    collector = _Changes()
    handle = alice.api.stream_user(collector, run_async=True, reconnect_async=False)
    try:
        threading.Event().wait(1.0)
        alice.api.create_filter_v2(
            "spoilers", ["home"], "warn", keywords_attributes=[{"keyword": "x"}]
        )
        marker = bob.api.status_post("after the filter")
        _wait_for(
            collector,
            lambda: (
                collector.filters_changed and marker["id"] in {s["id"] for s in collector.updates}
            ),
        )
    finally:
        handle.close()
    assert collector.filters_changed == 1 and collector.unknown == []
