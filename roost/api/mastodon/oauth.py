"""OAuth 2: the sign-in and consent page, tokens, revocation, discovery.

Grants: authorization_code (PKCE S256 honoured when the client uses it),
client_credentials, and password only when ROOST_OAUTH_PASSWORD_GRANT is on.
The discovery document advertises exactly what is enabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlencode, urlparse, urlunparse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roost.api.auth import services
from roost.api.params import read_params
from roost.api.responses import JSON
from roost.domain.accounts.actions import do_record_sign_in
from roost.domain.accounts.passwords import DUMMY_HASH, verify_password
from roost.domain.accounts.queries import Credentials, credentials_for
from roost.domain.oauth import actions as oauth
from roost.domain.oauth import scopes as scope_rules
from roost.domain.oauth.queries import app_by_client_id
from roost.errors import Forbidden, Invalid, RateLimited, RoostError, Unauthorized
from roost.services import Services
from roost.web.render import page

router = APIRouter()

CSRF_COOKIE = "roost_csrf"


def _oauth_error(status: int, code: str, description: str) -> JSON:
    return JSON({"error": code, "error_description": description}, status_code=status)


def _csrf_token(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


async def _check_sign_in(svc: Services, login: str, password: str, client_ip: str) -> Credentials:
    """Verify a password, rate-limiting failures per address and per login."""
    settings = svc.settings
    limiter = svc.sign_in_limiter
    keys = [f"ip:{client_ip}", f"login:{login.strip().lower()}"]
    for key in keys:
        wait = await limiter.retry_after(key, settings.sign_in_attempts, settings.sign_in_window_s)
        if wait:
            raise RateLimited("Too many failed sign-in attempts; try again later", wait)
    async with svc.db.read() as conn:
        creds = await credentials_for(conn, login)
    ok = await verify_password(creds.password_hash if creds else DUMMY_HASH, password)
    if creds is None or not ok or creds.suspended:
        for key in keys:
            await limiter.hit(key, settings.sign_in_window_s)
        raise Invalid("Invalid username, email or password")
    if not creds.approved:
        raise Forbidden("Your login is currently pending approval")
    await limiter.reset(f"login:{login.strip().lower()}")
    return creds


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _authorize_fields(source: dict[str, Any]) -> dict[str, str]:
    names = (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "force_login",
        "lang",
    )
    return {n: str(source[n]) for n in names if source.get(n) not in (None, "")}


async def _validated_request(
    svc: Services, fields: dict[str, str]
) -> tuple[oauth.RegisteredApp, str, frozenset[str]]:
    if fields.get("response_type", "code") != "code":
        raise Invalid("Only response_type=code is supported")
    async with svc.db.read() as conn:
        app = await app_by_client_id(conn, fields.get("client_id", ""))
    if app is None:
        raise Invalid("Unknown client_id: register the application first (POST /api/v1/apps)")
    redirect_uri = fields.get("redirect_uri") or app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:
        raise Invalid("The redirect_uri is not one this application registered")
    try:
        requested = scope_rules.parse(fields.get("scope"))
    except scope_rules.ScopeError as error:
        raise Invalid(str(error)) from None
    if not scope_rules.within(requested, app.scopes):
        raise Invalid("The requested scopes exceed those the application registered")
    method = fields.get("code_challenge_method")
    if fields.get("code_challenge") and method not in (None, "S256"):
        raise Invalid("Only code_challenge_method=S256 is supported")
    return app, redirect_uri, requested


def _message(svc: Services, title: str, message: str, status: int) -> HTMLResponse:
    return page(
        "message.html",
        status=status,
        title=title,
        message=message,
        instance=svc.settings.instance_title,
    )


def _consent_page(
    svc: Services,
    app: oauth.RegisteredApp,
    requested: frozenset[str],
    fields: dict[str, str],
    nonce: str,
    *,
    error: str = "",
    login: str = "",
    status: int = 200,
) -> HTMLResponse:
    response = page(
        "authorize.html",
        status=status,
        app_name=app.name,
        instance=svc.settings.instance_title,
        scopes=sorted(requested),
        csrf_token=_csrf_token(svc.settings.secret_key, nonce),
        hidden=sorted(fields.items()),
        error=error,
        login=login,
    )
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="lax",
        secure=svc.settings.base_url.startswith("https"),
        path="/oauth",
    )
    return response


@router.get("/oauth/authorize", response_model=None)
async def authorize_page(request: Request) -> Response:
    svc = services(request)
    fields = _authorize_fields(dict(request.query_params))
    try:
        app, _, requested = await _validated_request(svc, fields)
    except RoostError as error:
        return _message(svc, "This sign-in link is not valid", error.message, 400)
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    return _consent_page(svc, app, requested, fields, nonce)


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlparse(uri)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunparse(parts._replace(query=query))


@router.post("/oauth/authorize", response_model=None)
async def authorize_submit(request: Request) -> Response:
    svc = services(request)
    form = await read_params(request)
    nonce = request.cookies.get(CSRF_COOKIE, "")
    expected = _csrf_token(svc.settings.secret_key, nonce) if nonce else ""
    if not nonce or not hmac.compare_digest(expected, str(form.get("csrf_token", ""))):
        return _message(
            svc,
            "Please try again",
            "The sign-in form expired or did not come from this server. "
            "Go back to the application and start the sign-in again.",
            403,
        )
    fields = _authorize_fields(form)
    try:
        app, redirect_uri, requested = await _validated_request(svc, fields)
    except RoostError as error:
        return _message(svc, "This sign-in link is not valid", error.message, 400)
    state = {"state": fields["state"]} if "state" in fields else {}
    if form.get("decision") == "deny":
        if redirect_uri == oauth.OOB:
            return _message(svc, "Access denied", f"{app.name} was not authorized.", 200)
        return RedirectResponse(
            _with_query(redirect_uri, {"error": "access_denied", **state}), status_code=302
        )
    login = str(form.get("login", ""))
    try:
        creds = await _check_sign_in(svc, login, str(form.get("password", "")), _client_ip(request))
    except RoostError as error:
        status = 429 if isinstance(error, RateLimited) else 422
        return _consent_page(
            svc, app, requested, fields, nonce, error=error.message, login=login, status=status
        )
    async with svc.db.write() as tx:
        code = await oauth.do_create_code(
            tx,
            app,
            creds.account_id,
            redirect_uri,
            requested,
            fields.get("code_challenge"),
            fields.get("code_challenge_method"),
        )
        await do_record_sign_in(tx, creds.account_id)
    if redirect_uri == oauth.OOB:
        return page(
            "oob_code.html", code=code, app_name=app.name, instance=svc.settings.instance_title
        )
    return RedirectResponse(_with_query(redirect_uri, {"code": code, **state}), status_code=302)


def _client_credentials(request: Request, form: dict[str, Any]) -> tuple[str, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        import base64

        try:
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        except ValueError:
            pass
    return str(form.get("client_id", "")), (
        str(form["client_secret"]) if form.get("client_secret") is not None else None
    )


@router.post("/oauth/token")
async def token(request: Request) -> JSON:
    svc = services(request)
    try:
        form = await read_params(request)
    except RoostError as error:
        return _oauth_error(400, "invalid_request", error.message)
    grant = str(form.get("grant_type", ""))
    client_id, client_secret = _client_credentials(request, form)
    try:
        async with svc.db.write() as tx:
            app = await oauth.authenticate_client(tx, client_id, client_secret)
            if grant == "authorization_code":
                issued = await oauth.do_redeem_code(
                    tx,
                    app,
                    str(form.get("code", "")),
                    str(form["redirect_uri"]) if form.get("redirect_uri") else None,
                    str(form["code_verifier"]) if form.get("code_verifier") else None,
                )
            elif grant == "client_credentials":
                requested = scope_rules.parse(form.get("scope"))
                if not scope_rules.within(requested, app.scopes):
                    return _oauth_error(
                        400, "invalid_scope", "The requested scope exceeds the application's"
                    )
                issued = await oauth.do_issue_token(tx, None, app.id, requested)
            elif grant == "password" and svc.settings.oauth_password_grant:
                issued = None
            else:
                return _oauth_error(
                    400,
                    "unsupported_grant_type",
                    f"The grant type {grant!r} is not enabled on this server",
                )
    except Unauthorized as error:
        return _oauth_error(401, "invalid_client", error.message)
    except Invalid as error:
        return _oauth_error(400, "invalid_grant", error.message)
    except scope_rules.ScopeError as error:
        return _oauth_error(400, "invalid_scope", str(error))
    if issued is None:
        return await _password_grant(request, svc, app, form)
    return _token_json(issued)


async def _password_grant(
    request: Request, svc: Services, app: oauth.RegisteredApp, form: dict[str, Any]
) -> JSON:
    try:
        requested = scope_rules.parse(form.get("scope"))
    except scope_rules.ScopeError as error:
        return _oauth_error(400, "invalid_scope", str(error))
    if not scope_rules.within(requested, app.scopes):
        return _oauth_error(400, "invalid_scope", "The requested scope exceeds the application's")
    try:
        creds = await _check_sign_in(
            svc, str(form.get("username", "")), str(form.get("password", "")), _client_ip(request)
        )
    except RateLimited as error:
        response = _oauth_error(429, "invalid_grant", error.message)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except Forbidden as error:
        return _oauth_error(403, "invalid_grant", error.message)
    except Invalid as error:
        return _oauth_error(400, "invalid_grant", error.message)
    async with svc.db.write() as tx:
        issued = await oauth.do_issue_token(tx, creds.account_id, app.id, requested)
        await do_record_sign_in(tx, creds.account_id)
    return _token_json(issued)


def _token_json(issued: oauth.IssuedToken) -> JSON:
    return JSON(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "scope": scope_rules.render(issued.scopes),
            "created_at": issued.created_at_epoch,
        }
    )


@router.post("/oauth/revoke")
async def revoke(request: Request) -> JSON:
    svc = services(request)
    form = await read_params(request)
    client_id, client_secret = _client_credentials(request, form)
    try:
        async with svc.db.write() as tx:
            app = await oauth.authenticate_client(tx, client_id, client_secret)
            await oauth.do_revoke_token(tx, app.id, str(form.get("token", "")))
    except Unauthorized as error:
        return _oauth_error(403, "unauthorized_client", error.message)
    return JSON({})


@router.get("/.well-known/oauth-authorization-server")
async def discovery(request: Request) -> JSON:
    svc = services(request)
    base = svc.settings.base_url
    grants = ["authorization_code", "client_credentials"]
    if svc.settings.oauth_password_grant:
        grants.append("password")
    return JSON(
        {
            "issuer": base + "/",
            "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "scopes_supported": sorted(scope_rules.ALL_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": grants,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }
    )
