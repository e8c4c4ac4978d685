"""Forgotten passwords: ask for a link by mail, then set a new password with
it (roost/domain/accounts/recovery.py: every session and token ends)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roost.domain.accounts import email_tokens, recovery
from roost.errors import RoostError
from roost.ratelimit import Limit, hold
from roost.web.csrf import checked_form
from roost.web.render import render
from roost.web.viewer import (
    NOBODY,
    WebViewer,
    clear_session_cookie,
    client_ip,
    current_viewer,
    services,
)

router = APIRouter(include_in_schema=False)


@router.get("/auth/password")
async def request_page(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    return render(
        request,
        "auth/password_request.html",
        viewer=web,
        title="Reset your password",
        sent=False,
        meta={"robots": "noindex"},
    )


@router.post("/auth/password")
async def request_reset(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    await hold(
        svc.sign_in_limiter,
        [
            Limit(
                f"reset:{client_ip(request)}",
                svc.settings.sign_in_attempts,
                svc.settings.sign_in_window_s,
            )
        ],
        "Too many requests from your address; try again later",
    )
    async with svc.db.write() as tx:
        await recovery.do_request_reset(tx, str(form.get("email", "")).strip()[:320])
    # The same answer whether or not the address has an account here.
    return render(
        request,
        "auth/password_request.html",
        viewer=web,
        title="Reset your password",
        sent=True,
        meta={"robots": "noindex"},
    )


def _edit_form(
    request: Request, web: WebViewer, token: str, *, error: str = "", status: int = 200
) -> Response:
    return render(
        request,
        "auth/password_edit.html",
        viewer=web,
        status=status,
        title="Choose a new password",
        token=token,
        error=error,
        meta={"robots": "noindex"},
    )


@router.get("/auth/password/edit")
async def edit_page(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    svc = services(request)
    token = request.query_params.get("token", "")[:200]
    async with svc.db.write() as tx:
        valid = await email_tokens.check_valid(
            tx, svc.settings.secret_key, token, email_tokens.RESET
        )
    if not valid:
        return render(
            request,
            "message.html",
            viewer=web,
            status=422,
            title="This link does not work",
            message=email_tokens.EXPIRED,
            link=("/auth/password", "Ask for a new link"),
        )
    return _edit_form(request, web, token)


@router.post("/auth/password/edit")
async def edit(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    token = str(form.get("token", ""))[:200]
    password = str(form.get("password", ""))
    if password != str(form.get("password_confirmation", "")):
        return _edit_form(request, web, token, error="The two passwords differ", status=422)
    try:
        async with svc.db.write() as tx:
            await recovery.do_reset_password(tx, svc.settings.secret_key, token, password)
    except RoostError as error:
        return _edit_form(request, web, token, error=error.message, status=422)
    response = render(
        request,
        "message.html",
        viewer=NOBODY,
        title="Your password is changed",
        message="You are signed out everywhere. Sign in with your new password.",
        link=("/auth/sign_in", "Sign in"),
    )
    clear_session_cookie(request, response)
    return response
