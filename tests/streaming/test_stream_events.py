"""The user stream's other events, as Mastodon's streaming server sends them:
filters_changed, notifications_merged and the announcement events."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession

from roost.clock import utcnow
from roost.domain.announcements.actions import (
    NewAnnouncement,
    do_add_announcement,
    do_remove_announcement,
)
from tests.conftest import Roost, User

pytestmark = pytest.mark.timeout(30)


def _connect(roost: Roost, user: User, stream: str) -> Any:
    return roost.client.websocket_connect(
        f"/api/v1/streaming?stream={stream}&access_token={user.token}"
    )


def _next(socket: WebSocketTestSession) -> tuple[list[str], str, Any]:
    """The next event: its stream, name and payload (parsed when JSON; the
    key absent when the event has none)."""
    message = socket.receive_json()
    payload = message.get("payload", "absent")
    if isinstance(payload, str) and payload.startswith("{"):
        payload = json.loads(payload)
    return message["stream"], message["event"], payload


def _announce(roost: Roost, new: NewAnnouncement) -> str:
    async def add() -> int:
        async with roost.db.write() as tx:
            return await do_add_announcement(tx, new, base_url=roost.settings.base_url)

    return str(roost.run(add))


def _remove(roost: Roost, announcement_id: str) -> None:
    async def remove() -> None:
        async with roost.db.write() as tx:
            await do_remove_announcement(tx, int(announcement_id))

    roost.run(remove)


def test_given_a_filter_change_then_only_its_owner_hears_filters_changed(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    with _connect(roost, alice, "user") as mine, _connect(roost, bob, "user") as theirs:
        made = alice.post(
            "/api/v2/filters",
            json={
                "title": "spoilers",
                "context": ["home"],
                "keywords_attributes": [{"keyword": "x"}],
            },
        ).json()
        assert _next(mine) == (["user"], "filters_changed", "absent")
        alice.delete(f"/api/v2/filters/{made['id']}")
        assert _next(mine)[1] == "filters_changed"
        marker = bob.post_status("after the filters")
        _, event, payload = _next(theirs)
        assert (event, payload["id"]) == ("update", marker["id"])
        _, event, payload = _next(mine)
        assert (event, payload["id"]) == ("update", marker["id"])


def test_given_filters_changed_over_sse_then_the_data_is_undefined_as_mastodon_sends_it(
    roost: Roost,
) -> None:
    from roost.api.mastodon.streams import Message
    from roost.domain.streams import Stream

    message = Message(Stream("user"), "filters_changed", None)
    assert message.sse() == "event: filters_changed\ndata: undefined\n\n"
    assert json.loads(message.websocket_json()) == {"stream": ["user"], "event": "filters_changed"}


def test_given_an_accepted_notification_request_then_notifications_merged_arrives(
    roost: Roost,
) -> None:
    alice, stranger = roost.account("alice"), roost.account("stranger")
    alice.patch("/api/v2/notifications/policy", json={"for_not_following": "filter"})
    stranger.post_status("@alice hello there")
    roost.drain_jobs()
    (request,) = alice.get("/api/v1/notifications/requests").json()
    with _connect(roost, alice, "user:notification") as socket:
        assert alice.post(f"/api/v1/notifications/requests/{request['id']}/accept").is_success
        assert _next(socket) == (["user:notification"], "notifications_merged", "1")


def test_given_announcements_then_signed_in_user_streams_hear_them_with_their_own_state(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    with _connect(roost, alice, "user") as mine, _connect(roost, bob, "user") as theirs:
        later = NewAnnouncement("not yet", starts_at=utcnow() + timedelta(days=1))
        _announce(roost, later)
        running = _announce(roost, NewAnnouncement("the server moves on friday"))
        for socket in (mine, theirs):
            _, event, payload = _next(socket)
            assert (event, payload["id"]) == ("announcement", running)
            assert "friday" in payload["content"] and payload["read"] is False
        assert alice.put(f"/api/v1/announcements/{running}/reactions/👍").is_success
        for socket in (mine, theirs):
            assert _next(socket)[1:] == (
                "announcement.reaction",
                {"name": "👍", "count": 1, "announcement_id": running},
            )
        assert bob.put(f"/api/v1/announcements/{running}/reactions/👍").is_success
        assert _next(mine)[2]["count"] == 2
        assert bob.delete(f"/api/v1/announcements/{running}/reactions/👍").is_success
        assert _next(theirs)[2]["count"] == 2
        assert _next(theirs)[2]["count"] == 1
        assert _next(mine)[2]["count"] == 1
        _remove(roost, running)
        assert _next(mine)[1:] == ("announcement.delete", running)


def test_given_a_notification_stream_then_announcements_and_filters_stay_off_it(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    with _connect(roost, alice, "user:notification") as socket:
        _announce(roost, NewAnnouncement("not for this stream"))
        alice.post("/api/v2/filters", json={"title": "t", "context": ["home"]})
        bob.post_status("@alice the marker")
        roost.drain_jobs()
        _, event, payload = _next(socket)
    assert (event, payload["type"]) == ("notification", "mention")
