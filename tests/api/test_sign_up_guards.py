"""Sign-up guards: blocked e-mail domains (API and web alike) and the
per-address sign-up limit the web form shares with the API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from roost.db.tables import accounts
from roost.domain.accounts import email_domains
from roost.errors import Invalid, NotFound
from tests.conftest import Roost
from tests.web.support import csrf

PASSWORD = "a long enough password"


def _app_token(roost: Roost) -> dict[str, str]:
    app = roost.client.post(
        "/api/v1/apps",
        json={"client_name": "s", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "write"},
    ).json()
    token = roost.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "write",
        },
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def _api_sign_up(roost: Roost, username: str, email: str) -> Any:
    return roost.client.post(
        "/api/v1/accounts",
        headers=_app_token(roost),
        data={"username": username, "email": email, "password": PASSWORD, "agreement": "true"},
    )


def _web_sign_up(roost: Roost, username: str, email: str) -> Any:
    form = roost.client.get("/auth/sign_up")
    return roost.client.post(
        "/auth/sign_up",
        data={
            "csrf_token": csrf(form.text),
            "username": username,
            "email": email,
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
            "agreement": "1",
        },
    )


def _accounts(roost: Roost) -> int:
    async def body() -> int:
        async with roost.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(accounts))).scalar())

    return roost.run(body)


def _block(roost: Roost, domain: str) -> None:
    async def body() -> None:
        async with roost.db.write() as tx:
            await email_domains.do_block_email_domain(tx, domain)

    roost.run(body)


@pytest.mark.settings(registrations="open")
def test_given_a_blocked_email_domain_then_api_and_web_sign_ups_there_are_refused(
    roost: Roost,
) -> None:
    _block(roost, "Spam.Example")
    refused = _api_sign_up(roost, "spammer", "x@mx.spam.example")
    assert refused.status_code == 422
    assert refused.json()["details"]["email"][0]["error"] == "ERR_BLOCKED"
    page = _web_sign_up(roost, "spammer2", "y@SPAM.example")
    assert page.status_code == 422
    assert "is not allowed" in page.text
    assert _accounts(roost) == 0
    # A domain that merely ends the same way is not a subdomain.
    assert _api_sign_up(roost, "honest", "h@notspam.example").status_code == 200
    assert _accounts(roost) == 1


@pytest.mark.settings(registrations="open")
def test_given_a_lifted_block_then_sign_ups_there_work_again(roost: Roost) -> None:
    _block(roost, "spam.example")

    async def lift() -> list[str]:
        async with roost.db.write() as tx:
            await email_domains.do_unblock_email_domain(tx, "SPAM.example")
        async with roost.db.read() as conn:
            return [b.domain for b in await email_domains.email_domain_block_list(conn)]

    assert roost.run(lift) == []
    assert _api_sign_up(roost, "back", "b@spam.example").status_code == 200

    async def unblock_again() -> None:
        async with roost.db.write() as tx:
            await email_domains.do_unblock_email_domain(tx, "spam.example")

    with pytest.raises(NotFound):
        roost.run(unblock_again)


def test_given_something_that_is_no_domain_then_it_cannot_be_blocked() -> None:
    for text in ("localhost", "spam example", "-", "a..b", "x" * 64 + ".example"):
        with pytest.raises(Invalid):
            email_domains.normalise(text)
    assert email_domains.normalise("*.Bücher.example.") == "xn--bcher-kva.example"


@pytest.mark.settings(registrations="open", rate_limit_sign_ups=1)
def test_given_the_sign_up_limit_then_web_and_api_share_it_per_address(roost: Roost) -> None:
    first = _web_sign_up(roost, "first", "first@example.org")
    assert first.status_code == 200, first.text
    # A failed sign-up on the web does not count; the API counts each request.
    assert _api_sign_up(roost, "second", "second@example.org").status_code == 429
    again = _web_sign_up(roost, "third", "third@example.org")
    assert again.status_code == 429
    assert _accounts(roost) == 1


@pytest.mark.settings(registrations="closed")
def test_given_closed_sign_ups_when_an_app_signs_up_with_an_invite_then_only_the_invite_lets_in(
    roost: Roost,
) -> None:
    # Given closed registrations and a one-use invite
    async def invite() -> str:
        from roost.domain.invites.actions import do_create_invite

        async with roost.db.write() as tx:
            return (await do_create_invite(tx, created_by=None, max_uses=1)).code

    code = roost.run(invite)
    before = _accounts(roost)

    def sign_up(username: str, invite_code: str | None) -> Any:
        data = {"username": username, "email": f"{username}@example.com"}
        data |= {"password": PASSWORD, "agreement": "true"}
        if invite_code is not None:
            data["invite_code"] = invite_code
        return roost.client.post("/api/v1/accounts", headers=_app_token(roost), data=data)

    # When an app signs up without a code, then with it, then with it again
    refused = sign_up("nocode", None)
    invited = sign_up("guest", code)
    spent = sign_up("second", code)
    # Then only the invited sign-up made an account and got a token
    assert refused.status_code == 403, refused.text
    assert invited.status_code == 200, invited.text
    assert invited.json()["access_token"]
    assert spent.status_code in (403, 422), spent.text
    assert "error" in spent.json()
    assert _accounts(roost) == before + 1
