"""The signed-in web app: timelines, composing with media, the buttons on a
post and on a profile, and the live timeline. Each route refuses a visitor
(sent to sign in) and a form without its CSRF token (403, nothing done)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Roost
from tests.media import samples
from tests.web.support import csrf, field_value
from tests.web.support_app import post_form, signed_in_browser, token_of


def test_given_a_signed_in_person_when_they_post_with_an_image_then_their_home_shows_it(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser)
    answer = browser.post(
        "/web/statuses",
        data={
            "csrf_token": token,
            "status": "Hello from the web #roostweb",
            "spoiler_text": "",
            "visibility": "public",
            "alt_1": "A grey test photo",
        },
        files={"media_1": ("photo.png", samples.png(), "image/png")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:600]
    assert answer.headers["location"].startswith("/home?posted=")
    home = browser.get(answer.headers["location"])
    assert "Hello from the web" in home.text
    assert 'alt="A grey test photo"' in home.text
    mine = alice.get(f"/api/v1/accounts/{alice.id}/statuses").json()
    assert mine[0]["media_attachments"][0]["description"] == "A grey test photo"


def test_given_a_post_when_its_reader_favourites_boosts_and_bookmarks_it_then_the_card_says_so(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("something worth keeping")
    browser = signed_in_browser(roost, bob)
    token = token_of(browser)
    for action, pressed in (("favourite", "Favourited"), ("bookmark", "Bookmarked")):
        answer = browser.post(
            f"/web/statuses/{post['id']}/{action}",
            data={"csrf_token": token},
            headers={"HX-Request": "true"},
        )
        assert answer.status_code == 200, answer.text[:400]
        assert f'id="post-{post["id"]}"' in answer.text
        assert pressed in answer.text
    answer = post_form(browser, f"/web/statuses/{post['id']}/reblog", token)
    assert answer.status_code == 303
    seen = bob.get(f"/api/v1/statuses/{post['id']}").json()
    assert seen["favourited"] and seen["bookmarked"] and seen["reblogged"]
    answer = post_form(browser, f"/web/statuses/{post['id']}/unfavourite", token)
    assert answer.status_code == 303
    assert not bob.get(f"/api/v1/statuses/{post['id']}").json()["favourited"]


def test_given_a_profile_when_a_person_follows_from_it_then_they_follow(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    browser = signed_in_browser(roost, bob)
    profile = browser.get("/@alice")
    assert profile.status_code == 200
    assert f'action="/web/accounts/{alice.id}/follow"' in profile.text
    token = token_of(browser, "/@alice")
    answer = browser.post(
        f"/web/accounts/{alice.id}/follow",
        data={"csrf_token": token},
        headers={"Referer": "http://testserver/@alice"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/@alice"
    relation = bob.get(f"/api/v1/accounts/relationships?id[]={alice.id}").json()[0]
    assert relation["following"]
    assert "Unfollow" in browser.get("/@alice").text
    alice.post_status("for my followers", visibility="private")
    roost.drain_jobs()  # the fan-out job, in scaled mode
    assert "for my followers" in browser.get("/home").text


def test_given_a_reply_page_when_sent_then_the_reply_is_in_the_thread(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("a question")
    browser = signed_in_browser(roost, bob)
    page = browser.get(f"/web/statuses/{post['id']}/reply")
    assert page.status_code == 200 and "@alice" in page.text
    token = token_of(browser, f"/web/statuses/{post['id']}/reply")
    answer = post_form(
        browser,
        "/web/statuses",
        token,
        status="@alice an answer",
        in_reply_to_id=post["id"],
        visibility="public",
    )
    assert answer.status_code == 303, answer.text[:400]
    context = alice.get(f"/api/v1/statuses/{post['id']}/context").json()
    assert context["descendants"][0]["content"].endswith("an answer</p>")


def test_given_a_followers_only_post_when_a_stranger_tries_to_reply_or_favourite_then_not_found(
    roost: Roost,
) -> None:
    alice, eve = roost.account("alice"), roost.account("eve")
    hidden = alice.post_status("only for followers", visibility="private")
    browser = signed_in_browser(roost, eve)
    token = token_of(browser)
    assert browser.get(f"/web/statuses/{hidden['id']}/reply").status_code == 404
    answer = post_form(browser, f"/web/statuses/{hidden['id']}/favourite", token)
    assert answer.status_code == 404 and "only for followers" not in answer.text
    answer = post_form(
        browser, "/web/statuses", token, status="sneaky", in_reply_to_id=hidden["id"]
    )
    assert answer.status_code == 404 and "only for followers" not in answer.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/home"),
        ("get", "/web/timelines/local"),
        ("get", "/web/statuses/1/reply"),
        ("get", "/web/stream/home"),
        ("post", "/web/statuses"),
        ("post", "/web/statuses/1/favourite"),
        ("post", "/web/accounts/1/follow"),
    ],
)
def test_given_a_visitor_when_they_open_an_app_page_then_they_are_sent_to_sign_in(
    roost: Roost, method: str, path: str
) -> None:
    answer = getattr(roost.client, method)(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/auth/sign_in?next=")


def test_given_no_csrf_token_when_a_form_is_posted_then_nothing_is_done(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("leave me be")
    browser = signed_in_browser(roost, bob)
    token_of(browser)  # the nonce cookie is set, but the token is not sent
    for path, data in (
        ("/web/statuses", {"status": "forged"}),
        (f"/web/statuses/{post['id']}/favourite", {}),
        (f"/web/accounts/{alice.id}/follow", {}),
        (f"/web/statuses/{post['id']}/delete", {}),
    ):
        answer = browser.post(path, data=data, follow_redirects=False)
        assert answer.status_code == 403, path
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["favourites_count"] == 0
    assert bob.get(f"/api/v1/accounts/{bob.id}/statuses").json() == []
    relation = bob.get(f"/api/v1/accounts/relationships?id[]={alice.id}").json()[0]
    assert not relation["following"]
    # Another person's post cannot be deleted even with a valid token.
    answer = post_form(browser, f"/web/statuses/{post['id']}/delete", token_of(browser))
    assert answer.status_code in (403, 404)
    assert alice.get(f"/api/v1/statuses/{post['id']}").status_code == 200


async def _read_stream(app: Any, path: str, cookie: str, until: str, start: Any) -> str:
    """GET ``path`` through the ASGI app with the session cookie; calls
    ``start`` once the stream has begun, and returns what it sent by the time
    ``until`` appeared (the browser then leaves)."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"cookie", f"roost_session={cookie}".encode()), (b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    gone = asyncio.Event()
    seen = asyncio.Event()
    began = asyncio.Event()
    chunks: list[bytes] = []
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            began.set()
            if until.encode() in b"".join(chunks) or not message.get("more_body", False):
                seen.set()  # what was awaited came, or the stream ended

    task = asyncio.ensure_future(app(scope, receive, send))
    try:
        await asyncio.wait_for(began.wait(), 10)
        assert status == 200
        await start()
        await asyncio.wait_for(seen.wait(), 10)
    finally:
        gone.set()
        try:
            await asyncio.wait_for(task, 5)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
    return b"".join(chunks).decode()


def test_given_a_live_home_when_a_followed_account_posts_then_its_card_arrives(
    roost: Roost,
) -> None:
    from roost.web.viewer import SESSION_COOKIE

    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    browser = signed_in_browser(roost, bob)
    cookie = str(browser.cookies.get(SESSION_COOKIE))

    async def post() -> None:
        await asyncio.to_thread(alice.post_status, "this arrives live")

    body = roost.run(
        lambda: _read_stream(roost.client.app, "/web/stream/home", cookie, "arrives live", post)
    )
    assert "event: update" in body
    assert "this arrives live" in body and 'class="controls"' in body


@pytest.mark.settings(max_in_flight=1, max_streams=1)
def test_given_a_live_timeline_open_then_it_counts_as_a_stream_not_a_request_in_flight(
    roost: Roost,
) -> None:
    from roost.web.viewer import SESSION_COOKIE

    bob = roost.account("bob")
    browser = signed_in_browser(roost, bob)
    cookie = str(browser.cookies.get(SESSION_COOKIE))
    seen: dict[str, int] = {}

    async def meanwhile() -> None:
        def others() -> None:
            seen["page"] = browser.get("/home").status_code
            seen["second stream"] = browser.get("/web/stream/home").status_code
            seen["api"] = roost.client.get("/api/v1/instance").status_code

        await asyncio.to_thread(others)

    roost.run(lambda: _read_stream(roost.client.app, "/web/stream/home", cookie, "live", meanwhile))
    # The open stream holds no request's place; a second stream finds none free.
    assert seen == {"page": 200, "second stream": 503, "api": 200}


def test_given_a_live_tag_page_when_someone_posts_with_the_tag_then_only_that_arrives(
    roost: Roost,
) -> None:
    from roost.web.viewer import SESSION_COOKIE

    alice, bob = roost.account("alice"), roost.account("bob")
    browser = signed_in_browser(roost, bob)
    page = browser.get("/tags/birds")
    assert 'data-live="/web/stream/tag?tag=birds"' in page.text
    assert "data-live" not in roost.client.get("/tags/birds").text  # visitors: no stream
    cookie = str(browser.cookies.get(SESSION_COOKIE))

    async def post() -> None:
        await asyncio.to_thread(alice.post_status, "no tag here")
        await asyncio.to_thread(alice.post_status, "followers see #birds", visibility="private")
        await asyncio.to_thread(alice.post_status, "a heron today #Birds")

    body = roost.run(
        lambda: _read_stream(
            roost.client.app, "/web/stream/tag?tag=birds", cookie, "a heron today", post
        )
    )
    assert "no tag here" not in body and "followers see" not in body
    assert browser.get("/web/stream/tag?tag=").status_code == 404


def test_given_the_compose_form_sent_twice_then_it_makes_one_post(roost: Roost) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    page = browser.get("/home")
    key = field_value(page.text, "idempotency_key")
    token = csrf(page.text)
    for _ in range(2):
        answer = post_form(browser, "/web/statuses", token, status="only once", idempotency_key=key)
        assert answer.status_code == 303
    assert [s["content"] for s in alice.get(f"/api/v1/accounts/{alice.id}/statuses").json()] == [
        "<p>only once</p>"
    ]
    assert field_value(browser.get("/home").text, "idempotency_key") != key


@pytest.mark.settings(max_post_chars=20)
def test_given_a_post_too_long_then_the_page_says_so_and_keeps_the_text(roost: Roost) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    answer = post_form(
        browser, "/web/statuses", token_of(browser), status="far more than twenty characters"
    )
    assert answer.status_code == 422
    assert 'class="notice error"' in answer.text
    assert ">far more than twenty characters</textarea>" in answer.text
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []


def test_given_a_referer_naming_another_host_then_a_button_goes_back_home(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("hello")
    browser = signed_in_browser(roost, bob)
    token = token_of(browser)
    for referer in (
        "https://elsewhere.example/@alice",
        "http://testserver//elsewhere.example/x",
        "http://testserver/\\elsewhere.example",
    ):
        answer = browser.post(
            f"/web/statuses/{post['id']}/bookmark",
            data={"csrf_token": token},
            headers={"Referer": referer},
            follow_redirects=False,
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/home", referer


@pytest.mark.settings(streaming_heartbeat_s=0.1)
def test_given_a_live_timeline_when_its_session_ends_then_the_stream_ends(roost: Roost) -> None:
    from roost.domain.sessions.actions import do_end_session
    from roost.domain.sessions.queries import sessions_of
    from roost.web.viewer import SESSION_COOKIE

    bob = roost.account("bob")
    browser = signed_in_browser(roost, bob)
    cookie = str(browser.cookies.get(SESSION_COOKIE))

    async def sign_out_elsewhere() -> None:
        async with roost.db.read() as conn:
            sessions = await sessions_of(conn, int(bob.id))
        async with roost.db.write() as tx:
            await do_end_session(tx, int(bob.id), sessions[0].id)

    async def scenario() -> str:
        return await asyncio.wait_for(
            _read_stream(
                roost.client.app, "/web/stream/local", cookie, "never sent", sign_out_elsewhere
            ),
            5,
        )

    # The stream ends by itself within a heartbeat or two of the sign-out.
    body = roost.run(scenario)
    assert body.startswith(": live")
