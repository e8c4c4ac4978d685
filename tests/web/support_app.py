"""Signed-in browsers for the web app's TestClient tests: a session cookie
started through the real action, and the page's CSRF token read from it."""

from __future__ import annotations

from typing import Any

from tests.conftest import Roost, User
from tests.web.support import Browser, csrf


def signed_in_browser(roost: Roost, user: User) -> Browser:
    from roost.domain.sessions.actions import do_start_session
    from roost.web.viewer import SESSION_COOKIE

    async def start() -> str:
        async with roost.db.write() as tx:
            started = await do_start_session(tx, int(user.id), ip="127.0.0.1", user_agent="test")
        return started.token

    browser = Browser(roost.client)
    browser.cookies.set(SESSION_COOKIE, roost.run(start))
    return browser


def token_of(browser: Browser, page: str = "/home") -> str:
    answer = browser.get(page)
    assert answer.status_code == 200, answer.text[:400]
    return csrf(answer.text)


def post_form(browser: Browser, path: str, token: str, **fields: Any) -> Any:
    return browser.post(path, data={"csrf_token": token, **fields}, follow_redirects=False)
