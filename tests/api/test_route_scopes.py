"""Every route that changes something demands a write scope (threat 53).

Every HTTP route is read from the app's own router (a new route is checked
without editing this file). Each POST, PUT, PATCH and DELETE is called with a
token holding every read-only scope Mastodon defines (``read``,
``admin:read``, ``profile``) of an administrator; each must answer 403
"outside the authorized scopes" before doing anything. The few routes that
take no access token at all (OAuth's own endpoints, app registration) are
named below with the credential they take instead.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from roost.web.errors import is_browser_path
from tests.conftest import Roost

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
READ_ONLY = "read admin:read profile"
SCOPE_ERROR = {"error": "This action is outside the authorized scopes"}
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")

# Routes that take no access token, and what they take instead.
NO_TOKEN = {
    ("POST", "/api/v1/apps"): "anyone may register an application",
    ("POST", "/oauth/token"): "the client's credentials, and a code or password",
    ("POST", "/oauth/revoke"): "the client's credentials",
    ("POST", "/oauth/authorize"): "the person's password on the sign-in form",
    ("POST", "/users/{username}/inbox"): "another server's HTTP signature (roost/federation)",
    ("POST", "/inbox"): "another server's HTTP signature (roost/federation)",
}
# Routes Mastodon reaches with POST that change nothing: they take a read scope
# (admin:read, read:statuses), as on Mastodon (apps call them with read-only tokens).
READS_BY_POST = {
    ("POST", "/api/v1/admin/measures"): "the dashboard's numbers",
    ("POST", "/api/v1/admin/dimensions"): "the dashboard's breakdowns",
    ("POST", "/api/v1/admin/retention"): "the dashboard's cohorts",
    ("POST", "/api/v1/admin/canonical_email_blocks/test"): "which blocks match an address",
    ("POST", "/api/v1/statuses/{status_id}/translate"): "a translation, read:statuses on Mastodon",
}


def mutating_routes(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in routes:
        if hasattr(route, "original_router"):
            # FastAPI keeps an included router whole and matches into it lazily.
            context = getattr(route, "include_context", None)
            inner = prefix + (getattr(context, "prefix", "") or "")
            found += mutating_routes(list(route.original_router.routes), inner)
        elif isinstance(route, Mount):
            found += mutating_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, (APIRoute, Route)):
            found += [
                (m, prefix + route.path) for m in sorted(route.methods or ()) if m in MUTATING
            ]
    return found


def test_given_a_read_only_token_when_every_mutating_route_is_called_then_each_refuses(
    roost: Roost,
) -> None:
    reader = roost.account("reader", admin=True, scopes=READ_ONLY)
    target = roost.account("target")
    post = target.post_status("something to act on")
    routes = mutating_routes(list(roost.client.app.routes))  # type: ignore[attr-defined]
    assert len(routes) > 60, "the walk should see the whole API"
    assert set(NO_TOKEN) <= set(routes), "a route named in NO_TOKEN is gone: update the list"
    accepted: list[str] = []
    for method, path in routes:
        if (method, path) in NO_TOKEN or (method, path) in READS_BY_POST:
            continue
        url = _PARAM.sub(lambda m: _value(m.group(1), post["id"], target.id), path)
        if is_browser_path(path):
            # Web pages take no access token: a form acts only with the browser
            # session and its CSRF token, so a token alone meets the CSRF check
            # (403) or is sent to sign in (303).
            response = roost.client.request(
                method, url, headers=reader.headers, data={}, follow_redirects=False
            )
            signing_in = response.status_code == 303 and response.headers["location"].startswith(
                "/auth/sign_in"
            )
            if response.status_code != 403 and not signing_in:
                accepted.append(f"{method} {path} -> {response.status_code} (web)")
            continue
        response = roost.client.request(method, url, headers=reader.headers, json={})
        body: Any = response.json() if "json" in response.headers.get("content-type", "") else None
        if response.status_code != 403 or body != SCOPE_ERROR:
            accepted.append(f"{method} {path} -> {response.status_code} {response.text[:120]}")
    assert not accepted, "mutating routes a read-only token got past:\n" + "\n".join(accepted)


def _value(name: str, post_id: str, account_id: str) -> str:
    if "status" in name:
        return post_id
    if "account" in name or name == "id":
        return account_id
    return "1"
