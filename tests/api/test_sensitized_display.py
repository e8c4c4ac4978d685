"""A sensitized account's posts, old ones too, are shown sensitive to everyone
but their author, on every face: the API's timelines, a post, its context,
search, the streams and the web pages; lifting it shows each post's own flag
again. The reads before the action fill every cache on the way, so a stale
flag would show."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.test_admin import staff
from tests.conftest import Roost, User
from tests.media import samples

pytestmark = pytest.mark.timeout(60)


def _with_image(author: User, text: str) -> dict[str, Any]:
    media = author.post("/api/v2/media", files={"file": ("a.png", samples.png(), "image/png")})
    assert media.status_code in (200, 202), media.text
    return author.post_status(text, media_ids=[media.json()["id"]])


def _flag(items: list[dict[str, Any]], status_id: str) -> bool:
    """The ``sensitive`` shown for ``status_id`` in a list (as itself or boosted)."""
    for item in items:
        if item["id"] == status_id:
            return bool(item["sensitive"])
        if item.get("reblog") and item["reblog"]["id"] == status_id:
            return bool(item["reblog"]["sensitive"])
    raise AssertionError(f"{status_id} not in the list")


def _get(user: User | None, roost: Roost, path: str, **params: Any) -> Any:
    answer = (user.get if user is not None else roost.client.get)(path, params=params)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def _faces(roost: Roost, user: User | None, author: User, post: str, reply: str) -> dict[str, bool]:
    """``post``'s flag as ``user`` sees it in each place it shows."""
    seen = {
        "public": _flag(_get(user, roost, "/api/v1/timelines/public"), post),
        "account": _flag(_get(user, roost, f"/api/v1/accounts/{author.id}/statuses"), post),
        "status": bool(_get(user, roost, f"/api/v1/statuses/{post}")["sensitive"]),
        "context": _flag(_get(user, roost, f"/api/v1/statuses/{reply}/context")["ancestors"], post),
        "search": _flag(
            _get(user, roost, "/api/v2/search", q="lighthouse", type="statuses")["statuses"], post
        ),
    }
    if user is not None:
        seen["home"] = _flag(_get(user, roost, "/api/v1/timelines/home"), post)
    return seen


def _sensitize(admin: User, target: User, on: bool) -> None:
    if on:
        answer = admin.post(
            f"/api/v1/admin/accounts/{target.id}/action", data={"type": "sensitive"}
        )
    else:
        answer = admin.post(f"/api/v1/admin/accounts/{target.id}/unsensitive")
    assert answer.status_code == 200, answer.text


def test_given_posts_with_media_when_staff_sensitize_the_account_then_others_see_them_sensitive(
    roost: Roost,
) -> None:
    alice, bob, carol, admin = (
        roost.account("alice"),
        roost.account("bob"),
        roost.account("carol"),
        staff(roost),
    )
    assert alice.patch("/api/v1/accounts/update_credentials", json={"indexable": True}).is_success
    bob.follow(alice)
    carol.follow(bob)
    post = _with_image(alice, "The lighthouse at dawn")["id"]
    reply = carol.post_status("What a lighthouse", in_reply_to_id=post)["id"]
    boost = bob.post(f"/api/v1/statuses/{post}/reblog")
    assert boost.status_code == 200, boost.text
    roost.drain_jobs()
    everything_false = {"public", "account", "status", "context", "search", "home"}

    # Read first by everyone: every cache on the way holds the post.
    for user in (alice, bob, carol):
        assert _faces(roost, user, alice, post, reply) == dict.fromkeys(everything_false, False)
    assert set(_faces(roost, None, alice, post, reply).values()) == {False}

    _sensitize(admin, alice, True)

    for user in (bob, carol):
        assert _faces(roost, user, alice, post, reply) == dict.fromkeys(everything_false, True)
    assert set(_faces(roost, None, alice, post, reply).values()) == {True}
    # carol sees it through bob's boost in her home timeline.
    assert _flag(_get(carol, roost, "/api/v1/timelines/home"), post) is True
    # The author sees the flag the post carries.
    assert _faces(roost, alice, alice, post, reply) == dict.fromkeys(everything_false, False)
    # The post's own flag is unchanged: it is a way of showing, not an edit.
    source = alice.get(f"/api/v1/statuses/{post}/history").json()
    assert [version["sensitive"] for version in source] == [False]

    _sensitize(admin, alice, False)

    for user in (alice, bob, carol):
        assert _faces(roost, user, alice, post, reply) == dict.fromkeys(everything_false, False)
    assert set(_faces(roost, None, alice, post, reply).values()) == {False}


def test_given_a_post_already_sensitive_when_the_account_is_unsensitized_then_it_stays(
    roost: Roost,
) -> None:
    alice, bob, admin = roost.account("alice"), roost.account("bob"), staff(roost)
    marked = alice.post_status("The lighthouse, marked", sensitive=True)["id"]
    _sensitize(admin, alice, True)
    _sensitize(admin, alice, False)
    assert bob.get(f"/api/v1/statuses/{marked}").json()["sensitive"] is True
    assert alice.get(f"/api/v1/statuses/{marked}").json()["sensitive"] is True


def _stream(roost: Roost, user: User) -> Any:
    return roost.client.websocket_connect(
        f"/api/v1/streaming?stream=user&access_token={user.token}"
    )


def test_given_a_sensitized_account_when_it_posts_then_the_stream_shows_it_sensitive_to_others(
    roost: Roost,
) -> None:
    alice, bob, admin = roost.account("alice"), roost.account("bob"), staff(roost)
    bob.follow(alice)
    _sensitize(admin, alice, True)
    with _stream(roost, bob) as socket:
        post = alice.post_status("Words only, from the lighthouse")
        message = socket.receive_json()
    payload = json.loads(message["payload"])
    assert (message["event"], payload["id"]) == ("update", post["id"])
    assert payload["sensitive"] is True
    assert post["sensitive"] is False  # as its author sees it

    _sensitize(admin, alice, False)
    with _stream(roost, bob) as socket:
        later = alice.post_status("More words")
        message = socket.receive_json()
    payload = json.loads(message["payload"])
    assert (payload["id"], payload["sensitive"]) == (later["id"], False)


def test_given_a_sensitized_account_then_its_web_pages_and_notes_show_it_sensitive(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)
    post = _with_image(alice, "The lighthouse at dusk")["id"]
    page = f"/@alice/{post}"

    def shown() -> str:
        answer = roost.client.get(page)
        assert answer.status_code == 200, answer.text
        return str(answer.text)

    def note() -> bool:
        answer = roost.client.get(
            f"/users/alice/statuses/{post}", headers={"Accept": "application/activity+json"}
        )
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["sensitive"])

    assert "sensitive-media" not in shown()  # and now the page is cached
    assert note() is False
    _sensitize(admin, alice, True)
    assert "Sensitive media: show" in shown()
    assert "Sensitive media: show" in roost.client.get("/@alice").text
    assert note() is True  # as Mastodon's Note: the account's mark applies
    _sensitize(admin, alice, False)
    assert "sensitive-media" not in shown()
    assert note() is False
