"""A person in a browser: signs up, confirms by mail, turns on two-factor
sign-in, signs in with a recovery code and with an app code, ends another
browser's session and resets the password by mail; a visitor opens every
address the API handed out; a stranger's browser sees no private post.
Screenshots of the main pages are taken on the way."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from roost.domain.accounts import totp
from tests.media import samples
from tests.web.browser.conftest import (
    DESKTOP,
    PHONE,
    Server,
    check_accessibility,
    wait_for_mail,
)

NAME = "wren"
PASSWORD = "a long and careful password"
NEW_PASSWORD = "a new and even longer password"


def _get(server: Server, path: str) -> httpx.Response:
    url = path if path.startswith("http") else server.url + path
    return httpx.get(url, timeout=10)


def _visit(page: Any, url: str, *, status: int = 200) -> Any:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    check_accessibility(page)
    return response


def _shoot(page: Any, directory: Path, name: str) -> None:
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(directory / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _link(server: Server, index: int = -1) -> str:
    found = re.search(r"https?://\S+token=\S+", server.mailbox.link(index))
    assert found is not None
    return found.group(0)


def _sign_in(page: Any, server: Server, login: str, password: str) -> None:
    _visit(page, server.url + "/auth/sign_in")
    page.get_by_label("User name or e-mail address").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _enter_code(page: Any, code: str) -> None:
    check_accessibility(page)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign in").click()


def _fresh_code(secret: str, used_step: int) -> str:
    """A code of a later step than ``used_step`` (a code works once)."""
    while totp.step_at() <= used_step:
        time.sleep(0.5)
    return totp.code_at(secret)


def test_a_person_signs_up_secures_their_account_and_visitors_see_only_what_they_may(
    server: Server, browser: Any, screenshots: Path
) -> None:
    base = server.url
    person = browser.new_context(viewport=DESKTOP)
    page = person.new_page()

    # A visitor's first look.
    _visit(page, base + "/")
    _shoot(page, screenshots, "home")
    _visit(page, base + "/about")
    _shoot(page, screenshots, "about")

    # Sign up, confirm by mail, sign in.
    _visit(page, base + "/auth/sign_up")
    _shoot(page, screenshots, "sign-up")
    page.get_by_label("User name").fill(NAME)
    page.get_by_label("E-mail address").fill(f"{NAME}@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("I accept").check()
    page.get_by_role("button", name="Create the account").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    check_accessibility(page)
    wait_for_mail(server.mailbox, 1)
    assert server.mailbox.messages[0]["To"] == f"{NAME}@example.org"
    _visit(page, _link(server))
    assert "confirmed" in page.content()
    _sign_in(page, server, NAME, PASSWORD)
    page.get_by_role("link", name=f"@{NAME}").wait_for()

    # What they post (through the API, as an app would), for visitors to open.
    token = server.roost("tokens", "create", NAME).stdout.strip()
    api = server.api(token)
    media = api.post(
        "/api/v2/media",
        files={"file": ("square.png", samples.png(), "image/png")},
        data={"description": "a small red square"},
    ).json()
    first = api.post(
        "/api/v1/statuses", json={"status": "Hello from #RoostWeb", "media_ids": [media["id"]]}
    ).json()
    reply = api.post(
        "/api/v1/statuses", json={"status": "and a thread", "in_reply_to_id": first["id"]}
    ).json()
    secret_text = f"private canary {int(time.time())}"
    hidden = api.post(
        "/api/v1/statuses", json={"status": f"{secret_text} #RoostWeb", "visibility": "private"}
    ).json()
    me = api.get("/api/v1/accounts/verify_credentials").json()

    # A visitor opens every address the API handed out: a page each, never a 404.
    visitor = browser.new_context(viewport=DESKTOP)
    look = visitor.new_page()
    urls = {first["url"], reply["url"], first["uri"], me["url"], me["uri"]}
    urls |= {tag["url"] for tag in first["tags"]}
    for url in sorted(urls):
        _visit(look, url)
    _visit(look, me["url"])
    _shoot(look, screenshots, "profile")
    for tab in ("/with_replies", "/media"):
        _visit(look, me["url"] + tab)
    _visit(look, first["url"])
    assert "and a thread" in look.content()
    assert look.get_by_alt_text("a small red square").count() == 1
    _shoot(look, screenshots, "thread")
    _visit(look, first["tags"][0]["url"])
    _shoot(look, screenshots, "tag")
    feed = _get(server, f"/@{NAME}.rss")
    assert feed.status_code == 200 and first["url"] in feed.text
    oembed = _get(server, f"/api/oembed?url={quote(first['url'], safe='')}")
    assert oembed.status_code == 200 and "/embed" in oembed.json()["html"]
    media_file = _get(server, media["url"])
    assert media_file.status_code == 200

    # A stranger, signed in, sees the private post nowhere.
    created = server.roost(
        "accounts", "create", "stranger", "--email", "s@example.org", "--password", PASSWORD
    )
    assert created.returncode == 0, created.stderr
    stranger = browser.new_context(viewport=DESKTOP)
    theirs = stranger.new_page()
    _sign_in(theirs, server, "stranger", PASSWORD)
    theirs.get_by_role("link", name="@stranger").wait_for()
    for viewer in (theirs, look):
        _visit(viewer, hidden["url"], status=404)
        for path in ("/", f"/@{NAME}", f"/@{NAME}/with_replies", "/tags/roostweb"):
            _visit(viewer, base + path)
            assert secret_text not in viewer.content(), path
    assert secret_text not in _get(server, f"/@{NAME}.rss").text
    # A public poll: the stranger votes from its card; both states pass axe.
    poll = {"options": ["Tea", "Coffee"], "expires_in": 900}
    poll_post = api.post("/api/v1/statuses", json={"status": "Tea or coffee?", "poll": poll}).json()
    _visit(theirs, poll_post["url"])
    theirs.get_by_label("Coffee").check()
    theirs.get_by_role("button", name="Vote").click()
    theirs.get_by_text("(your choice)").wait_for()
    check_accessibility(theirs)
    _shoot(theirs, screenshots, "poll")
    assert api.get(f"/api/v1/polls/{poll_post['poll']['id']}").json()["votes_count"] == 1
    stranger.close()

    # Two-factor sign-in.
    _visit(page, base + "/settings/security")
    _shoot(page, screenshots, "security")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    page.get_by_label("Code from the app").wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "two-factor-setup")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    enabled_step = totp.step_at()
    page.get_by_label("Code from the app").fill(totp.code_at(secret))
    page.get_by_role("button", name="Turn it on").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    check_accessibility(page)
    codes = [c.strip() for c in page.locator("#codes li").all_inner_texts()]
    assert len(codes) == 10
    page.get_by_role("button", name="Sign out").first.click()

    # Back in with a recovery code (once), then with the app's code.
    _sign_in(page, server, NAME, PASSWORD)
    page.get_by_role("heading", name="Two-factor sign-in").wait_for()
    _shoot(page, screenshots, "two-factor-code")
    _enter_code(page, codes[0])
    page.get_by_role("link", name=f"@{NAME}").wait_for()
    page.get_by_role("button", name="Sign out").first.click()
    _sign_in(page, server, NAME, PASSWORD)
    _enter_code(page, codes[0])
    assert "not right" in page.content()
    _enter_code(page, _fresh_code(secret, enabled_step))
    page.get_by_role("link", name=f"@{NAME}").wait_for()

    # A second browser signs in; the first ends its session.
    laptop = browser.new_context(viewport=DESKTOP)
    other = laptop.new_page()
    _sign_in(other, server, NAME, PASSWORD)
    _enter_code(other, codes[1])
    other.get_by_role("link", name=f"@{NAME}").wait_for()
    _visit(page, base + "/settings/security")
    page.locator("table button[aria-label^='Sign out the browser']").first.click()
    page.get_by_role("heading", name="Security").wait_for()
    assert page.locator("table button[aria-label^='Sign out the browser']").count() == 0
    other.goto(base + "/settings/security")
    assert "/auth/sign_in" in other.url
    laptop.close()

    # The password forgotten: reset by mail, which ends every session.
    forgetful = browser.new_context(viewport=PHONE)
    again = forgetful.new_page()
    _visit(again, base + "/auth/password")
    again.get_by_label("E-mail address").fill(f"{NAME}@example.org")
    again.get_by_role("button", name="Send me a link").click()
    again.get_by_role("status").wait_for()
    wait_for_mail(server.mailbox, 2)
    _visit(again, _link(server))
    again.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    again.get_by_label("New password again").fill(NEW_PASSWORD)
    again.get_by_role("button", name="Set the password").click()
    again.get_by_role("heading", name="Your password is changed").wait_for()
    page.goto(base + "/settings/security")
    assert "/auth/sign_in" in page.url
    assert api.get("/api/v1/accounts/verify_credentials").status_code == 401
    _sign_in(again, server, NAME, PASSWORD)
    assert "Invalid" in again.content()
    _sign_in(again, server, NAME, NEW_PASSWORD)
    _enter_code(again, codes[2])
    again.get_by_role("link", name=f"@{NAME}").wait_for()
    forgetful.close()
    visitor.close()
    person.close()
    api.close()
