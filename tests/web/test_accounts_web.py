"""Accounts on the web: signing up, confirming by mail, signing in and out,
two-factor sign-in, sessions, apps, password reset, and the CSRF check on
every form. Mail goes through a real SMTP server (aiosmtpd) on a spare port."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from roost.app import create_app
from roost.config import Registrations, Settings
from roost.domain.accounts import totp
from tests.conftest import Roost
from tests.web.support import Browser, Mailbox, csrf, field_value, start_mailbox

PASSWORD = "a long enough password"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box, controller = start_mailbox()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def web(settings: Settings, mailbox: Mailbox, request: pytest.FixtureRequest) -> Iterator[Roost]:
    overrides: dict[str, object] = {"run_jobs_in_process": False, "smtp_url": mailbox.url}
    marker = request.node.get_closest_marker("settings")
    if marker is None or "registrations" not in marker.kwargs:
        overrides["registrations"] = Registrations.OPEN
    app = create_app(settings.model_copy(update=overrides))
    with TestClient(app) as client:
        yield Roost(client, settings.model_copy(update=overrides))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _sign_up(roost: Roost, client: TestClient, name: str = "newbie", **extra: str) -> str:
    form = client.get(extra.pop("page", "/auth/sign_up"))
    assert form.status_code == 200, form.text
    data = {
        "csrf_token": csrf(form.text),
        "username": name,
        "email": f"{name}@example.org",
        "password": PASSWORD,
        "password_confirmation": PASSWORD,
        "agreement": "1",
        **extra,
    }
    return str(client.post("/auth/sign_up", data=data).text)


def _sign_in(client: Any, login: str, password: str = PASSWORD) -> tuple[int, str]:
    form = client.get("/auth/sign_in")
    answer = client.post(
        "/auth/sign_in",
        data={"csrf_token": csrf(form.text), "login": login, "password": password, "next": "/"},
        follow_redirects=False,
    )
    return answer.status_code, answer.text


def _confirm(web: Roost, mailbox: Mailbox, count: int = 1) -> None:
    web.drain_jobs()
    mailbox.wait_for(count)
    page = web.client.get(_path(mailbox.link()))
    main = page.text[page.text.find("<main") :]
    assert page.status_code == 200 and "confirmed" in page.text, (mailbox.link(), main[:600])


def test_given_open_sign_ups_when_someone_signs_up_then_a_mail_confirms_and_they_sign_in(
    web: Roost, mailbox: Mailbox
) -> None:
    done = _sign_up(web, web.client)
    assert "Check your e-mail" in done
    status, page = _sign_in(web.client, "newbie")
    assert status == 422 and "missing a confirmed e-mail address" in page
    web.drain_jobs()
    mail = mailbox.wait_for(1)[0]
    assert mail["To"] == "newbie@example.org" and "Confirm" in mail["Subject"]
    _confirm(web, mailbox)
    status, _ = _sign_in(web.client, "newbie")
    assert status == 303
    cookie = web.client.cookies.get("roost_session")
    assert cookie
    home = web.client.get("/")
    assert "@newbie" in home.text and home.headers["cache-control"] == "private, no-store"
    used_again = web.client.get(_path(mailbox.link()))
    assert used_again.status_code == 422


def test_the_session_cookie_is_httponly_and_lax_and_secure_behind_https(
    settings: Settings,
) -> None:
    secure = settings.model_copy(
        update={"public_url": "https://social.example.org", "run_jobs_in_process": False}
    )
    with TestClient(create_app(secure), base_url="https://social.example.org") as client:
        roost = Roost(client, secure)
        roost.account("alice")
        form = client.get("/auth/sign_in")
        answer = client.post(
            "/auth/sign_in",
            data={
                "csrf_token": csrf(form.text),
                "login": "alice",
                "password": "correct horse battery",
            },
            follow_redirects=False,
        )
        cookie = next(
            v for k, v in answer.headers.multi_items() if k == "set-cookie" and "roost_session" in v
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie


def test_given_a_form_posted_without_its_token_then_403_page_and_nothing_done(
    web: Roost,
) -> None:
    answer = web.client.post(
        "/auth/sign_up",
        data={
            "username": "forged",
            "email": "forged@example.org",
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
            "agreement": "1",
        },
    )
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    assert "did not come from this site" in answer.text
    assert web.client.get("/@forged").status_code == 404
    other = Browser(web.client)
    token = csrf(web.client.get("/auth/sign_in").text)
    stolen = other.post("/auth/sign_in", data={"csrf_token": token, "login": "x", "password": "y"})
    assert stolen.status_code == 403


def test_two_factor_sign_in_with_app_codes_and_single_use_recovery_codes(
    web: Roost, mailbox: Mailbox
) -> None:
    web.account("alice")
    assert _sign_in(web.client, "alice", "correct horse battery")[0] == 303
    overview = web.client.get("/settings/security")
    setup = web.client.post("/settings/two_factor/setup", data={"csrf_token": csrf(overview.text)})
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', setup.text)
    assert secret is not None and 'src="data:image/svg+xml' in setup.text
    seed = secret.group(1).replace(" ", "")
    wrong = web.client.post(
        "/settings/two_factor/enable", data={"csrf_token": csrf(setup.text), "code": "000000"}
    )
    assert wrong.status_code == 422
    codes_page = web.client.post(
        "/settings/two_factor/enable",
        data={"csrf_token": csrf(setup.text), "code": totp.code_at(seed)},
    )
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", codes_page.text)
    assert len(codes) == 10
    web.client.post("/auth/sign_out", data={"csrf_token": csrf(codes_page.text)})
    assert "roost_session" not in web.client.cookies

    status, code_form = _sign_in(web.client, "alice", "correct horse battery")
    assert (
        status == 200
        and 'name="pending"' in code_form
        and "roost_session" not in web.client.cookies
    )
    replay = totp.code_at(seed)  # used to turn it on: refused again
    again = web.client.post(
        "/auth/sign_in/code",
        data={
            "csrf_token": csrf(code_form),
            "pending": field_value(code_form, "pending"),
            "code": replay,
            "next": "/",
        },
        follow_redirects=False,
    )
    assert again.status_code == 422
    used = web.client.post(
        "/auth/sign_in/code",
        data={
            "csrf_token": csrf(code_form),
            "pending": field_value(code_form, "pending"),
            "code": codes[0],
            "next": "/",
        },
        follow_redirects=False,
    )
    assert used.status_code == 303 and web.client.cookies.get("roost_session")
    web.client.post("/auth/sign_out", data={"csrf_token": csrf(web.client.get("/").text)})
    _, code_form = _sign_in(web.client, "alice", "correct horse battery")
    spent = web.client.post(
        "/auth/sign_in/code",
        data={
            "csrf_token": csrf(code_form),
            "pending": field_value(code_form, "pending"),
            "code": codes[0],
            "next": "/",
        },
        follow_redirects=False,
    )
    assert spent.status_code == 422
    forged = web.client.post(
        "/auth/sign_in/code",
        data={
            "csrf_token": csrf(code_form),
            "pending": "1.9999999999.00",
            "code": codes[1],
            "next": "/",
        },
        follow_redirects=False,
    )
    assert forged.status_code == 422 and "roost_session" not in web.client.cookies


def test_given_two_browsers_when_one_ends_the_others_session_then_the_other_is_signed_out(
    web: Roost,
) -> None:
    web.account("alice")
    phone = Browser(web.client)
    assert _sign_in(web.client, "alice", "correct horse battery")[0] == 303
    assert _sign_in(phone, "alice", "correct horse battery")[0] == 303
    overview = web.client.get("/settings/security").text
    ids = re.findall(r'action="/settings/sessions/(\d+)/end"', overview)
    assert len(ids) == 2
    mine = web.client.cookies.get("roost_session")
    assert mine
    other = [
        i
        for i in ids
        if "this browser" not in overview.split(f"/settings/sessions/{i}/end")[0][-400:]
    ]
    ended = web.client.post(
        f"/settings/sessions/{other[0]}/end",
        data={"csrf_token": csrf(overview)},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    assert phone.get("/settings/security", follow_redirects=False).status_code == 303
    assert web.client.get("/settings/security").status_code == 200


def test_given_a_forgotten_password_when_reset_by_mail_then_everything_signed_in_ends(
    web: Roost, mailbox: Mailbox
) -> None:
    alice = web.account("alice")
    assert _sign_in(web.client, "alice", "correct horse battery")[0] == 303
    stranger = Browser(web.client)
    form = stranger.get("/auth/password")
    sent = stranger.post(
        "/auth/password", data={"csrf_token": csrf(form.text), "email": "alice@example.org"}
    )
    nobody = stranger.post(
        "/auth/password", data={"csrf_token": csrf(form.text), "email": "no@example.org"}
    )
    assert sent.text.replace("no@example.org", "") == nobody.text.replace("no@example.org", "")
    web.drain_jobs()
    mailbox.wait_for(1)
    edit = stranger.get(_path(mailbox.link()))
    assert edit.status_code == 200
    changed = stranger.post(
        "/auth/password/edit",
        data={
            "csrf_token": csrf(edit.text),
            "token": field_value(edit.text, "token"),
            "password": "a brand new password",
            "password_confirmation": "a brand new password",
        },
    )
    assert changed.status_code == 200 and "signed out everywhere" in changed.text
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 401
    assert web.client.get("/settings/security", follow_redirects=False).status_code == 303
    assert _sign_in(stranger, "alice", "correct horse battery")[0] == 422
    assert _sign_in(stranger, "alice", "a brand new password")[0] == 303
    reused = stranger.get(_path(mailbox.link()))
    assert reused.status_code == 422


@pytest.mark.settings(registrations="closed")
def test_given_closed_sign_ups_then_only_an_invite_link_lets_someone_in(
    web: Roost, mailbox: Mailbox
) -> None:
    assert web.client.get("/auth/sign_up").status_code == 403

    async def invite() -> str:
        from roost.domain.invites.actions import do_create_invite

        async with web.db.write() as tx:
            return (await do_create_invite(tx, created_by=None, max_uses=1)).code

    code = web.run(invite)
    page = f"/invite/{code}"
    assert "You were invited" in web.client.get(page).text
    done = _sign_up(web, web.client, "guest", page=page, invite_code=code)
    assert "Check your e-mail" in done and "moderator" not in done
    _confirm(web, mailbox)
    assert _sign_in(web.client, "guest")[0] == 303
    late = Browser(web.client)
    assert late.get(page).status_code == 403


@pytest.mark.settings(registrations="approval")
def test_given_approval_sign_ups_then_the_confirmed_account_waits_for_a_moderator(
    web: Roost, mailbox: Mailbox
) -> None:
    done = _sign_up(web, web.client, "hopeful", reason="I like birds")
    assert "moderator" in done
    _confirm(web, mailbox)
    status, page = _sign_in(web.client, "hopeful")
    assert status == 422 and "pending approval" in page


def test_the_api_resends_the_confirmation_mail_until_the_address_is_confirmed(
    web: Roost, mailbox: Mailbox
) -> None:
    app = web.client.post(
        "/api/v1/apps",
        json={
            "client_name": "t",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        },
    ).json()
    token = web.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write",
        },
    ).json()["access_token"]
    signed_up = web.client.post(
        "/api/v1/accounts",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "username": "apper",
            "email": "apper@example.org",
            "password": PASSWORD,
            "agreement": True,
        },
    ).json()
    headers = {"Authorization": f"Bearer {signed_up['access_token']}"}
    again = web.client.post(
        "/api/v1/emails/confirmations", headers=headers, json={"email": "new@example.org"}
    )
    assert again.status_code == 200 and again.json() == {}
    web.drain_jobs()
    mails = mailbox.wait_for(2)
    assert mails[-1]["To"] == "new@example.org"
    web.client.get(_path(mailbox.link(-1)))
    done = web.client.post("/api/v1/emails/confirmations", headers=headers)
    assert done.status_code == 403
    assert web.client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
