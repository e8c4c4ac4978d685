"""OAuth: apps, the sign-in page, grants, revocation, scopes."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import Roost

OOB = "urn:ietf:wg:oauth:2.0:oob"


def _app(
    roost: Roost, redirect_uri: str = OOB, scopes: str = "read write follow push"
) -> dict[str, Any]:
    response = roost.client.post(
        "/api/v1/apps",
        data={
            "client_name": "Test App",
            "redirect_uris": redirect_uri,
            "scopes": scopes,
            "website": "https://app.example",
        },
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _pkce() -> tuple[str, str]:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _authorize(roost: Roost, app: dict[str, Any], redirect_uri: str = OOB, **extra: str) -> Any:
    page = roost.client.get(
        "/oauth/authorize",
        params={
            "client_id": app["client_id"],
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "read write",
            **extra,
        },
    )
    assert page.status_code == 200, page.text
    return page


def test_given_an_app_when_registered_then_it_can_verify_itself(roost: Roost) -> None:
    app = _app(roost)
    assert app["name"] == "Test App" and app["client_secret"]
    token = roost.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read",
        },
    ).json()["access_token"]
    me = roost.client.get(
        "/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.json()["name"] == "Test App" and "client_secret" not in me.json()


def test_given_a_bad_app_registration_then_422(roost: Roost) -> None:
    assert (
        roost.client.post(
            "/api/v1/apps", data={"client_name": "", "redirect_uris": OOB}
        ).status_code
        == 422
    )
    assert (
        roost.client.post(
            "/api/v1/apps",
            data={"client_name": "x", "redirect_uris": OOB, "scopes": "read nonsense"},
        ).status_code
        == 422
    )


def test_given_the_sign_in_page_when_approved_with_pkce_then_the_code_buys_one_token(
    roost: Roost,
) -> None:
    roost.account("alice")
    redirect = "https://app.example/callback"
    app = _app(roost, redirect_uri=redirect)
    verifier, challenge = _pkce()
    page = _authorize(
        roost, app, redirect, state="xyz", code_challenge=challenge, code_challenge_method="S256"
    )
    fields = _form_fields(page.text)
    submitted = roost.client.post(
        "/oauth/authorize",
        data={
            **fields,
            "login": "alice@example.org",
            "password": "correct horse battery",
            "decision": "approve",
        },
        follow_redirects=False,
    )
    assert submitted.status_code == 302
    location = urlparse(submitted.headers["location"])
    query = parse_qs(location.query)
    assert location.netloc == "app.example" and query["state"] == ["xyz"]
    exchange = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "code": query["code"][0],
        "redirect_uri": redirect,
    }
    wrong = roost.client.post("/oauth/token", data={**exchange, "code_verifier": "w" * 50})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    token = roost.client.post("/oauth/token", data={**exchange, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "read write"
    me = roost.client.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert me.json()["username"] == "alice"
    reused = roost.client.post("/oauth/token", data={**exchange, "code_verifier": verifier})
    assert reused.status_code == 400


def _code(roost: Roost, app: dict[str, Any], query: dict[str, str]) -> str:
    page = roost.client.get("/oauth/authorize", params={"response_type": "code", **query})
    assert page.status_code == 200, page.text
    submitted = roost.client.post(
        "/oauth/authorize",
        data={
            **_form_fields(page.text),
            "login": "alice",
            "password": "correct horse battery",
            "decision": "approve",
        },
        follow_redirects=False,
    )
    assert submitted.status_code == 302, submitted.text
    return parse_qs(urlparse(submitted.headers["location"]).query)["code"][0]


def test_given_a_code_asked_for_with_a_redirect_uri_when_exchanged_without_it_then_invalid_grant(
    roost: Roost,
) -> None:
    """RFC 6749 4.1.3: the token request must repeat the authorize request's redirect_uri."""
    roost.account("alice")
    redirect, other = "https://app.example/callback", "https://app.example/other"
    app = _app(roost, redirect_uri=f"{redirect} {other}")
    client = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    code = _code(roost, app, {"client_id": app["client_id"], "redirect_uri": redirect})
    exchange = {**client, "grant_type": "authorization_code", "code": code}
    for attempt in ({}, {"redirect_uri": other}, {"redirect_uri": redirect + "/"}):
        refused = roost.client.post("/oauth/token", data={**exchange, **attempt})
        assert refused.status_code == 400, attempt
        assert refused.json()["error"] == "invalid_grant"
        assert "redirection URI" in refused.json()["error_description"]
    # The refusals did not use the code up: the identical redirect_uri still works.
    token = roost.client.post("/oauth/token", data={**exchange, "redirect_uri": redirect})
    assert token.status_code == 200, token.text


def test_given_a_code_asked_for_without_a_redirect_uri_when_exchanged_without_it_then_a_token(
    roost: Roost,
) -> None:
    roost.account("alice")
    app = _app(roost, redirect_uri="https://app.example/callback")
    client = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    code = _code(roost, app, {"client_id": app["client_id"]})
    exchange = {**client, "grant_type": "authorization_code", "code": code}
    foreign = roost.client.post(
        "/oauth/token", data={**exchange, "redirect_uri": "https://evil.example/cb"}
    )
    assert foreign.status_code == 400 and foreign.json()["error"] == "invalid_grant"
    assert roost.client.post("/oauth/token", data=exchange).status_code == 200


def test_given_the_out_of_band_flow_when_approved_then_the_code_is_shown(roost: Roost) -> None:
    roost.account("alice")
    app = _app(roost)
    fields = _form_fields(_authorize(roost, app).text)
    shown = roost.client.post(
        "/oauth/authorize",
        data={
            **fields,
            "login": "alice",
            "password": "correct horse battery",
            "decision": "approve",
        },
    )
    code = re.search(r'<code id="code">([^<]+)</code>', shown.text)
    assert code is not None
    token = roost.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "code": code.group(1),
            "redirect_uri": OOB,
        },
    )
    assert token.status_code == 200


def test_given_a_forged_form_when_submitted_then_refused_without_a_code(roost: Roost) -> None:
    roost.account("alice")
    app = _app(roost)
    fields = _form_fields(_authorize(roost, app).text)
    fields["csrf_token"] = "forged"
    response = roost.client.post(
        "/oauth/authorize",
        data={
            **fields,
            "login": "alice",
            "password": "correct horse battery",
            "decision": "approve",
        },
    )
    assert response.status_code == 403
    assert "code" not in response.text.lower().split("<title>")[0]


def test_given_a_denial_when_submitted_then_the_app_gets_access_denied(roost: Roost) -> None:
    redirect = "https://app.example/cb"
    app = _app(roost, redirect_uri=redirect)
    fields = _form_fields(_authorize(roost, app, redirect).text)
    response = roost.client.post(
        "/oauth/authorize", data={**fields, "decision": "deny"}, follow_redirects=False
    )
    assert response.status_code == 302
    assert "error=access_denied" in response.headers["location"]


def test_given_an_unregistered_redirect_when_authorizing_then_no_page(roost: Roost) -> None:
    app = _app(roost, redirect_uri="https://app.example/cb")
    page = roost.client.get(
        "/oauth/authorize",
        params={
            "client_id": app["client_id"],
            "redirect_uri": "https://evil.example/cb",
            "response_type": "code",
        },
    )
    assert page.status_code == 400


def test_given_the_password_grant_is_off_then_it_is_refused_and_not_advertised(
    roost: Roost,
) -> None:
    roost.account("alice")
    app = _app(roost)
    response = roost.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "alice",
            "password": "correct horse battery",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    meta = roost.client.get("/.well-known/oauth-authorization-server").json()
    assert "password" not in meta["grant_types_supported"]
    assert meta["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.settings(oauth_password_grant=True, sign_in_attempts=3)
def test_given_the_password_grant_is_on_then_email_or_username_sign_in_and_failures_slow(
    roost: Roost,
) -> None:
    roost.account("alice")
    app = _app(roost)
    assert (
        "password"
        in roost.client.get("/.well-known/oauth-authorization-server").json()[
            "grant_types_supported"
        ]
    )

    def grant(username: str, password: str) -> Any:
        return roost.client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": username,
                "password": password,
                "scope": "read",
            },
        )

    assert grant("alice", "correct horse battery").status_code == 200
    assert grant("ALICE@example.org", "correct horse battery").status_code == 200
    for _ in range(3):
        assert grant("alice", "wrong").status_code == 400
    limited = grant("alice", "correct horse battery")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


def test_given_a_revoked_token_when_used_then_401(roost: Roost) -> None:
    app = _app(roost)
    token = roost.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert roost.client.get("/api/v1/apps/verify_credentials", headers=headers).status_code == 200
    revoked = roost.client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert revoked.status_code == 200
    after = roost.client.get("/api/v1/apps/verify_credentials", headers=headers)
    assert after.status_code == 401 and "error" in after.json()


def test_given_a_bad_token_then_401_and_a_missing_token_then_401(roost: Roost) -> None:
    bad = roost.client.get("/api/v1/timelines/home", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"]
    assert roost.client.get("/api/v1/timelines/home").status_code == 401


@pytest.mark.parametrize(
    ("scopes", "method", "path", "allowed"),
    [
        ("read", "post", "/api/v1/statuses", False),
        ("write:statuses", "post", "/api/v1/statuses", True),
        ("write", "post", "/api/v1/statuses", True),
        ("read:accounts", "get", "/api/v1/timelines/home", False),
        ("read:statuses", "get", "/api/v1/timelines/home", True),
        ("write:statuses", "post", "/api/v1/statuses/{post}/favourite", False),
        ("write:favourites", "post", "/api/v1/statuses/{post}/favourite", True),
        ("follow", "post", "/api/v1/accounts/{other}/follow", True),
        ("write:statuses", "post", "/api/v1/accounts/{other}/follow", False),
        ("profile", "get", "/api/v1/accounts/verify_credentials", True),
        ("profile", "get", "/api/v1/notifications", False),
        ("read:bookmarks", "get", "/api/v1/bookmarks", True),
        ("read:favourites", "get", "/api/v1/bookmarks", False),
    ],
)
def test_given_a_token_with_some_scopes_then_routes_outside_them_answer_403(
    roost: Roost, scopes: str, method: str, path: str, allowed: bool
) -> None:
    other = roost.account("other")
    post = other.post_status("a post")
    me = roost.account("me", scopes=scopes)
    url = path.format(post=post["id"], other=other.id)
    kwargs: dict[str, Any] = {"json": {"status": "hi"}} if method == "post" else {}
    response = getattr(me, method)(url, **kwargs)
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert response.json() == {"error": "This action is outside the authorized scopes"}
