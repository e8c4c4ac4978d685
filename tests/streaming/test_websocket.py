"""Live events over the WebSocket stream, each passed through the privacy policy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession

from tests.conftest import Roost, User

pytestmark = pytest.mark.timeout(30)


def _connect(roost: Roost, user: User | None, stream: str, **params: str) -> Any:
    query = "&".join([f"stream={stream}", *(f"{k}={v}" for k, v in params.items())])
    if user is not None:
        query += f"&access_token={user.token}"
    return roost.client.websocket_connect(f"/api/v1/streaming?{query}")


def _next(socket: WebSocketTestSession) -> tuple[list[str], str, Any]:
    message = socket.receive_json()
    payload = message["payload"]
    return (
        message["stream"],
        message["event"],
        (json.loads(payload) if payload.startswith("{") else payload),
    )


def test_given_a_follower_on_the_user_stream_when_the_followed_posts_then_it_arrives(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    with _connect(roost, alice, "user") as socket:
        post = bob.post_status("live from bob")
        stream, event, payload = _next(socket)
    assert (stream, event, payload["id"]) == (["user"], "update", post["id"])
    assert payload["account"]["username"] == "bob"


def test_given_hidden_posts_when_a_stranger_listens_to_public_then_only_public_arrives(
    roost: Roost,
) -> None:
    alice, stranger = roost.account("alice"), roost.account("stranger")
    with _connect(roost, stranger, "public") as socket:
        alice.post_status("followers only canary", visibility="private")
        alice.post_status("@bob direct canary", visibility="direct")
        alice.post_status("unlisted canary", visibility="unlisted")
        marker = alice.post_status("public marker")
        _, event, payload = _next(socket)
    # Events arrive in order: had a hidden post been sent, it would come first.
    assert (event, payload["id"]) == ("update", marker["id"])


def test_given_an_anonymous_socket_when_it_asks_for_the_user_stream_then_refused(
    roost: Roost,
) -> None:
    with _connect(roost, None, "public") as socket:
        socket.send_text(json.dumps({"type": "subscribe", "stream": "user"}))
        assert "error" in socket.receive_json()


def test_given_a_subscription_by_message_when_a_tagged_post_arrives_then_it_is_labelled(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    with _connect(roost, alice, "user") as socket:
        socket.send_text(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "roost"}))
        socket.send_text(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        assert socket.receive_json() == {"error": "Unknown stream type"}
        bob.post_status("untagged")
        tagged = bob.post_status("about #Roost")
        stream, event, payload = _next(socket)
    assert (stream, event, payload["id"]) == (["hashtag", "roost"], "update", tagged["id"])


def test_given_a_mention_when_its_job_runs_then_a_notification_arrives(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    with _connect(roost, alice, "user:notification") as socket:
        bob.post_status("hey @alice")
        roost.drain_jobs()
        _, event, payload = _next(socket)
    assert event == "notification" and payload["type"] == "mention"
    assert payload["account"]["username"] == "bob"


def test_given_an_edit_and_a_delete_then_status_update_and_delete_arrive(roost: Roost) -> None:
    alice = roost.account("alice")
    post = alice.post_status("first")
    with _connect(roost, alice, "user") as socket:
        alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "second"})
        _, event, payload = _next(socket)
        assert event == "status.update" and "second" in payload["content"]
        alice.delete(f"/api/v1/statuses/{post['id']}")
        _, event, payload = _next(socket)
    assert (event, payload) == ("delete", post["id"])


def test_given_a_deleted_direct_post_then_only_its_audience_hears_the_delete(
    roost: Roost,
) -> None:
    alice, bob, stranger = roost.account("alice"), roost.account("bob"), roost.account("s")
    secret = alice.post_status("@bob between us", visibility="direct")
    with _connect(roost, stranger, "public") as outsider, _connect(roost, bob, "user") as insider:
        alice.delete(f"/api/v1/statuses/{secret['id']}")
        marker = alice.post_status("public marker")
        assert _next(insider)[1:] == ("delete", secret["id"])
        _, event, payload = _next(outsider)
    assert (event, payload["id"]) == ("update", marker["id"])


def test_given_a_bad_token_when_connecting_then_the_socket_is_closed(roost: Roost) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect),
        roost.client.websocket_connect("/api/v1/streaming?stream=user&access_token=nope") as socket,
    ):
        socket.receive_json()


def test_given_the_health_endpoint_then_ok(roost: Roost) -> None:
    response = roost.client.get("/api/v1/streaming/health")
    assert response.status_code == 200 and response.text == "OK"


def test_given_a_hide_filter_when_a_matching_post_streams_then_it_is_held_back(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    made = alice.post(
        "/api/v2/filters",
        json={
            "title": "spoilers",
            "context": ["home"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "finale", "whole_word": True}],
        },
    )
    assert made.status_code == 200, made.text
    warned = alice.post(
        "/api/v2/filters",
        json={
            "title": "food",
            "context": ["home"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "soup", "whole_word": True}],
        },
    )
    assert warned.status_code == 200, warned.text
    with _connect(roost, alice, "user") as socket:
        bob.post_status("the finale was something")
        soup = bob.post_status("soup tonight")
        _, event, payload = _next(socket)
    assert (event, payload["id"]) == ("update", soup["id"])
    assert payload["filtered"][0]["filter"]["title"] == "food"


def test_given_a_list_stream_then_only_members_posts_arrive(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    alice.follow(carol)
    made = alice.post("/api/v1/lists", json={"title": "close"}).json()
    added = alice.post(f"/api/v1/lists/{made['id']}/accounts", json={"account_ids": [carol.id]})
    assert added.status_code == 200, added.text
    with _connect(roost, alice, "list", list=made["id"]) as socket:
        bob.post_status("not on the list")
        mine = carol.post_status("on the list")
        stream, event, payload = _next(socket)
    assert (stream, event, payload["id"]) == (["list", made["id"]], "update", mine["id"])


def test_given_a_direct_message_then_the_recipients_direct_stream_gets_the_conversation(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    with _connect(roost, bob, "direct") as socket:
        alice.post_status("public, not a conversation")
        dm = alice.post_status("@bob just us", visibility="direct")
        _, event, payload = _next(socket)
    assert event == "conversation"
    assert payload["last_status"]["id"] == dm["id"] and payload["unread"] is True
    assert [a["username"] for a in payload["accounts"]] == ["alice"]
