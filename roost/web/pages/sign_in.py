"""Signing in and out in a browser.

The password goes through the one sign-in path
(roost/domain/accounts/sign_in.py: limits, confirmation, approval); an account
with two-factor sign-in is then asked for a code on a second form, which
carries the pending token (roost/web/signing_in.py). Success starts a session
and goes back to where the person was going (``next``, a path on this site).
"""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from roost.domain.accounts.sign_in import UNCONFIRMED
from roost.domain.sessions.actions import do_end_session
from roost.errors import RateLimited, RoostError
from roost.web import signing_in
from roost.web.csrf import checked_form
from roost.web.render import render
from roost.web.viewer import WebViewer, clear_session_cookie, current_viewer, services

router = APIRouter(include_in_schema=False)


def safe_next(raw: object) -> str:
    """Only a path on this site: never ``//other.example`` or a full URL."""
    target = str(raw or "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:2000]


def _sign_in_form(
    request: Request,
    web: WebViewer,
    *,
    next_url: str,
    login: str = "",
    error: str = "",
    unconfirmed: bool = False,
    status: int = 200,
) -> Response:
    return render(
        request,
        "auth/sign_in.html",
        viewer=web,
        status=status,
        title="Sign in",
        next_url=next_url,
        login=login,
        error=error,
        unconfirmed=unconfirmed,
        meta={"robots": "noindex"},
    )


def _code_form(
    request: Request,
    web: WebViewer,
    *,
    pending: str,
    next_url: str,
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "auth/code.html",
        viewer=web,
        status=status,
        title="Two-factor sign-in",
        pending=pending,
        next_url=next_url,
        error=error,
        meta={"robots": "noindex"},
    )


@router.get("/auth/sign_in")
async def sign_in_page(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if web.signed_in:
        return RedirectResponse(next_url, status_code=303)
    return _sign_in_form(request, web, next_url=next_url)


async def _signed_in(request: Request, account_id: int, next_url: str) -> Response:
    response = RedirectResponse(next_url, status_code=303)
    await signing_in.start_browser_session(request, response, account_id)
    return response


@router.post("/auth/sign_in")
async def sign_in(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    next_url = safe_next(form.get("next"))
    login = str(form.get("login", ""))[:320]
    try:
        step = await signing_in.password_step(svc, request, login, str(form.get("password", "")))
    except RoostError as error:
        status = 429 if isinstance(error, RateLimited) else 422
        return _sign_in_form(
            request,
            web,
            next_url=next_url,
            login=login,
            error=error.message,
            unconfirmed=error.message == UNCONFIRMED,
            status=status,
        )
    account_id = step.credentials.account_id
    if step.needs_code:
        pending = signing_in.pending_token(svc, account_id)
        return _code_form(request, web, pending=pending, next_url=next_url)
    return await _signed_in(request, account_id, next_url)


@router.post("/auth/sign_in/code")
async def sign_in_code(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    next_url = safe_next(form.get("next"))
    pending = str(form.get("pending", ""))
    try:
        account_id = signing_in.pending_account(svc, pending)
    except RoostError as error:
        return _sign_in_form(request, web, next_url=next_url, error=error.message, status=422)
    try:
        await signing_in.code_step(svc, request, account_id, str(form.get("code", "")))
    except RoostError as error:
        status = 429 if isinstance(error, RateLimited) else 422
        return _code_form(
            request, web, pending=pending, next_url=next_url, error=error.message, status=status
        )
    return await _signed_in(request, account_id, next_url)


@router.post("/auth/sign_out")
async def sign_out(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    await checked_form(request, web)
    if web.owner is not None:
        async with services(request).db.write() as tx:
            # Ended meanwhile (from another browser): signed out all the same.
            with contextlib.suppress(RoostError):
                await do_end_session(tx, web.owner.account_id, web.owner.session_id)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(request, response)
    return response
