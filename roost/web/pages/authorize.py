"""The OAuth 2 sign-in and consent page: ``GET|POST /oauth/authorize``.

An application sends the person here (``response_type=code``); the page
shows what it asks for, signs the person in (their password, and a
two-factor code when the account has one; someone signed in on the web is
not asked again) and, on approval, sends them back to the application's
``redirect_uri`` with a code (roost/domain/oauth/actions.py
``do_create_code``), which the application exchanges at ``/oauth/token``
(roost/api/mastodon/oauth.py). The form is CSRF-checked: an HMAC of a nonce
cookie scoped to ``/oauth``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode, urlparse, urlunparse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from roost.domain.accounts.actions import do_record_sign_in
from roost.domain.oauth import actions as oauth
from roost.domain.oauth import scopes as scope_rules
from roost.domain.oauth.queries import app_by_client_id
from roost.errors import Invalid, RateLimited, RoostError
from roost.request_params import Params, nest, read_params, validate
from roost.services import Services
from roost.web import signing_in as web_sign_in
from roost.web.render import csp, page
from roost.web.viewer import current_viewer, services

router = APIRouter(include_in_schema=False)

CSRF_COOKIE = "roost_csrf"


def _csrf_token(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


class AuthorizeParams(Params):
    response_type: str | None = Field(default=None, description="code")
    client_id: str | None = None
    redirect_uri: str | None = None
    scope: str | None = Field(default=None, description="Space-separated scopes")
    state: str | None = None
    code_challenge: str | None = Field(default=None, description="PKCE")
    code_challenge_method: str | None = Field(default=None, description="S256")
    force_login: str | None = None
    lang: str | None = None


class SignInParams(AuthorizeParams):
    csrf_token: str = ""
    decision: str | None = Field(default=None, description="deny refuses the application")
    login: str = Field(default="", description="Username or email")
    password: str = ""
    use_session: str | None = Field(
        default=None, description="Authorize as the browser's signed-in account"
    )
    pending: str | None = Field(
        default=None, description="The pending sign-in a two-factor code completes"
    )
    otp_code: str = Field(default="", description="A two-factor or recovery code")


def _authorize_fields(params: AuthorizeParams) -> dict[str, str]:
    fields = params.model_dump(include=set(AuthorizeParams.model_fields))
    return {name: value for name, value in fields.items() if value not in (None, "")}


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
    signed_in_as: str = "",
    second_factor: str = "",
) -> HTMLResponse:
    response = page(
        "authorize.html",
        status=status,
        # The form ends in a redirect to the app: no form-action limit.
        headers={"Content-Security-Policy": csp(form_action=None)},
        signed_in_as=signed_in_as,
        second_factor=second_factor,
        title=f"Authorize {app.name}",
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
    params = validate(AuthorizeParams, nest(request.query_params.multi_items()))
    svc = services(request)
    fields = _authorize_fields(params)
    try:
        app, _, requested = await _validated_request(svc, fields)
    except RoostError as error:
        return _message(svc, "This sign-in link is not valid", error.message, 400)
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    # Someone signed in on the web is not asked for their password again.
    web = await current_viewer(request)
    return _consent_page(svc, app, requested, fields, nonce, signed_in_as=web.username)


async def _authorizing_account(
    request: Request, svc: Services, form: SignInParams, login: str
) -> tuple[int, str]:
    """Who authorizes: the browser's web session, or a password (and, for an
    account with two-factor sign-in, a code: the first answer is then a
    pending token to send back with it). Raises what signing in raises."""
    if form.use_session:
        web = await current_viewer(request)
        if web.account_id is None:
            raise Invalid("Your session has ended; sign in again")
        return web.account_id, ""
    if form.pending:
        account_id = web_sign_in.pending_account(svc, form.pending)
        await web_sign_in.code_step(svc, request, account_id, form.otp_code)
        return account_id, ""
    step = await web_sign_in.password_step(svc, request, login, form.password)
    if step.needs_code:
        return step.credentials.account_id, web_sign_in.pending_token(
            svc, step.credentials.account_id
        )
    return step.credentials.account_id, ""


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlparse(uri)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunparse(parts._replace(query=query))


@router.post("/oauth/authorize", response_model=None)
async def authorize_submit(request: Request) -> Response:
    form = validate(SignInParams, await read_params(request))
    svc = services(request)
    nonce = request.cookies.get(CSRF_COOKIE, "")
    expected = _csrf_token(svc.settings.secret_key, nonce) if nonce else ""
    if not nonce or not hmac.compare_digest(expected.encode(), form.csrf_token.encode()):
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
    if form.decision == "deny":
        if redirect_uri == oauth.OOB:
            return _message(svc, "Access denied", f"{app.name} was not authorized.", 200)
        return RedirectResponse(
            _with_query(redirect_uri, {"error": "access_denied", **state}), status_code=302
        )
    login = form.login
    try:
        account_id, pending = await _authorizing_account(request, svc, form, login)
    except RoostError as error:
        status = 429 if isinstance(error, RateLimited) else 422
        response = _consent_page(
            svc, app, requested, fields, nonce, error=error.message, login=login, status=status
        )
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    if pending:
        return _consent_page(svc, app, requested, fields, nonce, login=login, second_factor=pending)
    async with svc.db.write() as tx:
        code = await oauth.do_create_code(
            tx,
            app,
            account_id,
            fields.get("redirect_uri"),
            requested,
            fields.get("code_challenge"),
            fields.get("code_challenge_method"),
        )
        await do_record_sign_in(tx, account_id)
    if redirect_uri == oauth.OOB:
        return page(
            "oob_code.html", code=code, app_name=app.name, instance=svc.settings.instance_title
        )
    return RedirectResponse(_with_query(redirect_uri, {"code": code, **state}), status_code=302)
