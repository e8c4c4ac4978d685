"""OAuth 2: tokens, revocation, discovery. The sign-in and consent page
(``/oauth/authorize``, a browser's page) is roost/web/pages/authorize.py.

Grants: authorization_code (PKCE S256 honoured when the client uses it),
client_credentials, and password only when ROOST_OAUTH_PASSWORD_GRANT is on.
The discovery document advertises exactly what is enabled.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import client_address, services
from roost.api.errors import OAuthProblem, words_for
from roost.api.mastodon import schema
from roost.api.openapi import OAuthError, answers
from roost.api.params import M, Params, Reader
from roost.api.responses import JSON
from roost.domain.accounts import two_factor
from roost.domain.accounts.actions import do_record_sign_in
from roost.domain.accounts.sign_in import sign_in
from roost.domain.oauth import actions as oauth
from roost.domain.oauth import scopes as scope_rules
from roost.errors import Forbidden, Invalid, RateLimited, RoostError, Unauthorized
from roost.services import Services

router = APIRouter()


def _oauth_error(status: int, code: str, description: str) -> JSON:
    return JSON({"error": code, "error_description": description}, status_code=status)


class TokenParams(Params):
    grant_type: str = Field(
        default="", description="authorization_code, client_credentials or password"
    )
    client_id: str = ""
    client_secret: str | None = None
    code: str = ""
    redirect_uri: str | None = None
    code_verifier: str | None = None
    scope: str | None = None
    username: str = ""
    password: str = ""


class RevokeParams(Params):
    client_id: str = ""
    client_secret: str | None = None
    token: str = ""


class _OAuthReader(Reader[M]):
    """Parameters of /oauth/token and /oauth/revoke: a body they cannot read
    is an OAuth ``invalid_request`` (400), as RFC 6749 says."""

    def __init__(self, model: type[M]) -> None:
        super().__init__(model, "body")
        self.failure_status = 400

    async def __call__(self, request: Request) -> M:
        try:
            return await super().__call__(request)
        except RoostError as error:
            raise OAuthProblem(400, "invalid_request", words_for(error)) from None


def _client_credentials(
    request: Request, form: TokenParams | RevokeParams
) -> tuple[str, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        import base64

        try:
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        except ValueError:
            pass
    return form.client_id, form.client_secret


def _oauth_answers(model: Any, *errors: int) -> dict[int | str, dict[str, Any]]:
    found = answers(model)
    for code in errors:
        found[code] = {"description": "Refused (RFC 6749)", "model": OAuthError}
    return found


@router.post("/oauth/token", responses=_oauth_answers(schema.Token, 400, 401, 403, 429))
async def token(request: Request, form: TokenParams = Depends(_OAuthReader(TokenParams))) -> JSON:
    svc = services(request)
    grant = form.grant_type
    client_id, client_secret = _client_credentials(request, form)
    try:
        async with svc.db.write() as tx:
            app = await oauth.authenticate_client(tx, client_id, client_secret)
            if grant == "authorization_code":
                issued = await oauth.do_redeem_code(
                    tx,
                    app,
                    form.code,
                    form.redirect_uri or None,
                    form.code_verifier or None,
                )
            elif grant == "client_credentials":
                requested = scope_rules.parse(form.scope)
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
        return _oauth_error(400, "invalid_grant", words_for(error))
    except scope_rules.ScopeError as error:
        return _oauth_error(400, "invalid_scope", str(error))
    if issued is None:
        return await _password_grant(request, svc, app, form)
    return _token_json(issued)


async def _password_grant(
    request: Request, svc: Services, app: oauth.RegisteredApp, form: TokenParams
) -> JSON:
    try:
        requested = scope_rules.parse(form.scope)
    except scope_rules.ScopeError as error:
        return _oauth_error(400, "invalid_scope", str(error))
    if not scope_rules.within(requested, app.scopes):
        return _oauth_error(400, "invalid_scope", "The requested scope exceeds the application's")
    try:
        creds = await sign_in(
            svc.db,
            svc.password_gate(),
            form.username,
            form.password,
            client_address(request),
        )
    except RateLimited as error:
        response = _oauth_error(429, "invalid_grant", error.message)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except Forbidden as error:
        return _oauth_error(403, "invalid_grant", error.message)
    except Invalid as error:
        return _oauth_error(400, "invalid_grant", words_for(error))
    async with svc.db.read() as conn:
        if await two_factor.is_enabled(conn, creds.account_id):
            # A password alone does not sign in an account with two-factor
            # sign-in: apps must use the authorize page, which asks the code.
            return _oauth_error(
                400, "invalid_grant", "This account uses two-factor sign-in; sign in in a browser"
            )
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


@router.post("/oauth/revoke", responses=_oauth_answers(schema.Empty, 400, 403))
async def revoke(
    request: Request, form: RevokeParams = Depends(_OAuthReader(RevokeParams))
) -> JSON:
    svc = services(request)
    client_id, client_secret = _client_credentials(request, form)
    try:
        async with svc.db.write() as tx:
            app = await oauth.authenticate_client(tx, client_id, client_secret)
            await oauth.do_revoke_token(tx, app.id, form.token)
    except Unauthorized as error:
        return _oauth_error(403, "unauthorized_client", error.message)
    return JSON({})


@router.get(
    "/.well-known/oauth-authorization-server",
    responses=answers(schema.AuthorizationServer, steady=True),
)
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
            "userinfo_endpoint": f"{base}/oauth/userinfo",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "scopes_supported": sorted(scope_rules.ALL_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": grants,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }
    )
