"""One sign-in path for every face: limits counted before the password is
checked, two-factor asked on the OAuth authorize page too, a browser that
is signed in is not asked for the password again, and an app authorized
there is listed on the security page and revoked from it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi.testclient import TestClient

from roost.domain.accounts import totp, two_factor
from roost.domain.accounts.sign_in import PasswordGate, sign_in
from roost.errors import Invalid, RateLimited
from roost.ratelimit import MemoryRateLimiter
from tests.conftest import Roost
from tests.web.support import csrf, field_value
from tests.web.support_app import signed_in_browser, token_of


def test_given_a_burst_of_wrong_passwords_at_once_then_no_more_than_the_limit_are_checked(
    roost: Roost,
) -> None:
    roost.account("alice")
    # Guesses from ten addresses: the per-account limit is the one they meet.
    settings = roost.settings.model_copy(update={"sign_in_account_attempts": 3})
    limits = PasswordGate(MemoryRateLimiter(), settings)

    async def burst() -> list[BaseException | Any]:
        tries = [sign_in(roost.db, limits, "alice", f"wrong {n}", f"10.0.0.{n}") for n in range(10)]
        return await asyncio.gather(*tries, return_exceptions=True)

    outcomes = roost.run(burst)
    assert sum(isinstance(o, Invalid) for o in outcomes) == 3
    assert sum(isinstance(o, RateLimited) for o in outcomes) == 7


def _app(roost: Roost) -> dict[str, str]:
    data: dict[str, str] = roost.client.post(
        "/api/v1/apps",
        json={
            "client_name": "Tusky",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        },
    ).json()
    return data


def _authorize_page(client: TestClient, app: dict[str, str]) -> str:
    page = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "scope": "read",
        },
    )
    assert page.status_code == 200, page.text
    return str(page.text)


def _fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def test_given_a_browser_signed_in_then_the_authorize_page_asks_no_password(roost: Roost) -> None:
    roost.account("alice")
    form = roost.client.get("/auth/sign_in")
    roost.client.post(
        "/auth/sign_in",
        data={"csrf_token": csrf(form.text), "login": "alice", "password": "correct horse battery"},
    )
    app = _app(roost)
    page = _authorize_page(roost.client, app)
    assert "signed in as <strong>@alice</strong>" in page and 'name="password"' not in page
    shown = roost.client.post("/oauth/authorize", data={**_fields(page), "decision": "approve"})
    assert re.search(r'<code id="code">([^<]+)</code>', shown.text)


def test_given_two_factor_on_then_the_authorize_page_asks_the_code_after_the_password(
    roost: Roost,
) -> None:
    alice = roost.account("alice")

    async def enable() -> str:
        async with roost.db.write() as tx:
            secret = await two_factor.do_begin(tx, int(alice.id))
            await two_factor.do_enable(
                tx, int(alice.id), totp.code_at(secret, _earlier()), roost.settings.secret_key
            )
        return secret

    secret = roost.run(enable)
    app = _app(roost)
    page = _authorize_page(roost.client, app)
    asked = roost.client.post(
        "/oauth/authorize",
        data={
            **_fields(page),
            "login": "alice",
            "password": "correct horse battery",
            "decision": "approve",
        },
    )
    assert asked.status_code == 200 and 'name="otp_code"' in asked.text
    assert '<code id="code">' not in asked.text
    wrong = roost.client.post(
        "/oauth/authorize",
        data={**_fields(asked.text), "otp_code": "123456", "decision": "approve"},
    )
    assert wrong.status_code == 422 and '<code id="code">' not in wrong.text
    right = roost.client.post(
        "/oauth/authorize",
        data={**_fields(asked.text), "otp_code": totp.code_at(secret), "decision": "approve"},
    )
    assert re.search(r'<code id="code">([^<]+)</code>', right.text), right.text
    assert field_value(asked.text, "pending")


def _earlier() -> float:
    import time

    return time.time() - 30  # the step before now: the code used to turn it on


def test_given_an_app_authorized_on_the_web_when_revoked_on_the_security_page_then_its_token_ends(
    roost: Roost,
) -> None:
    """The authorize page's code becomes a token; the security page lists the
    app, and revoking it there ends the token (another browser of someone
    else cannot revoke it)."""
    roost.account("alice")
    form = roost.client.get("/auth/sign_in")
    roost.client.post(
        "/auth/sign_in",
        data={"csrf_token": csrf(form.text), "login": "alice", "password": "correct horse battery"},
    )
    app = _app(roost)
    page = _authorize_page(roost.client, app)
    shown = roost.client.post("/oauth/authorize", data={**_fields(page), "decision": "approve"})
    code = re.search(r'<code id="code">([^<]+)</code>', shown.text)
    assert code is not None
    token = roost.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code.group(1),
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
        },
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}

    def answer() -> int:
        checked = roost.client.get("/api/v1/accounts/verify_credentials", headers=bearer)
        return int(checked.status_code)

    assert answer() == 200
    security = roost.client.get("/settings/security").text
    revoke = re.search(
        r'action="(/settings/apps/[^"]+/revoke)">[^<]*<input[^>]*>'
        r'<button[^>]*aria-label="Revoke Tusky"',
        security,
    )
    assert revoke is not None, security
    # Someone else's browser posting the same form revokes nothing of alice's.
    bob = roost.account("bob")
    other = signed_in_browser(roost, bob)
    other.post(revoke.group(1), data={"csrf_token": token_of(other)})
    assert answer() == 200
    done = roost.client.post(
        revoke.group(1), data={"csrf_token": csrf(security)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert answer() == 401
    assert 'aria-label="Revoke Tusky"' not in roost.client.get("/settings/security").text
