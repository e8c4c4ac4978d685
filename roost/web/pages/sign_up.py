"""Signing up on the web, invite links, and confirming the address.

The form calls the same action as ``POST /api/v1/accounts``
(roost/domain/accounts/sign_up.py): registration mode, invites, the rules to
accept, and the confirmation mail all follow one set of rules.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from roost.config import Registrations
from roost.domain.accounts import recovery
from roost.domain.accounts import sign_up as sign_up_rules
from roost.domain.accounts.queries import credentials_for
from roost.domain.instance.rules import rules as instance_rules
from roost.domain.invites.actions import UNUSABLE, usable_invite
from roost.errors import Forbidden, RateLimited, RoostError
from roost.ratelimit import Limit, hold
from roost.web.csrf import checked_form
from roost.web.render import render
from roost.web.viewer import WebViewer, client_ip, current_viewer, services

router = APIRouter(include_in_schema=False)


async def _form(
    request: Request,
    web: WebViewer,
    *,
    invite: str = "",
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    svc = services(request)
    async with svc.db.read() as conn:
        rules = await instance_rules(conn)
    return render(
        request,
        "auth/sign_up.html",
        viewer=web,
        status=status,
        title="Create an account",
        rules=rules,
        invite=invite,
        values=values or {},
        error=error,
        mode=str(svc.settings.registrations),
        meta={"robots": "noindex"},
    )


@router.get("/auth/sign_up")
async def sign_up_page(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    if web.signed_in:
        return RedirectResponse("/", status_code=303)
    if services(request).settings.registrations == Registrations.CLOSED:
        raise Forbidden(
            "Sign-ups are closed on this server. Someone with an account here can send you an "
            "invite link."
        )
    return await _form(request, web)


@router.get("/invite/{code}")
async def invite_page(
    request: Request, code: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    async with services(request).db.read() as conn:
        invite = await usable_invite(conn, code)
    if invite is None:
        raise Forbidden(UNUSABLE)
    return await _form(request, web, invite=code)


@router.post("/auth/sign_up")
async def sign_up(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    values = {k: str(form.get(k, "")) for k in ("username", "email", "reason")}
    invite = str(form.get("invite_code", ""))[:32]
    password = str(form.get("password", ""))
    # Counted with the API's sign-ups from the same address (a script filling
    # the form); only sign-ups that made an account count here.
    limit = sign_up_rules.sign_up_limit(svc.settings, client_ip(request))
    reservation = None
    try:
        if password != str(form.get("password_confirmation", "")):
            raise RoostError("The two passwords differ")
        if limit.attempts:
            reservation = await hold(
                svc.api_limiter, [limit], "Too many sign-ups from your address; try again later"
            )
        async with svc.db.write() as tx:
            signed_up = await sign_up_rules.do_sign_up(
                tx,
                svc.settings.registrations,
                sign_up_rules.SignUp(
                    username=values["username"].strip(),
                    email=values["email"].strip(),
                    password=password,
                    agreement=bool(form.get("agreement")),
                    reason=values["reason"],
                    invite_code=invite or None,
                    address=client_ip(request),
                ),
            )
    except RoostError as error:
        if reservation is not None:
            # Only sign-ups that made an account count against the address.
            await svc.api_limiter.refund(reservation)
        status = (
            429 if isinstance(error, RateLimited) else 403 if isinstance(error, Forbidden) else 422
        )
        return await _form(
            request, web, invite=invite, values=values, error=error.message, status=status
        )
    return render(
        request,
        "auth/check_mail.html",
        viewer=web,
        title="Check your e-mail",
        email=values["email"].strip(),
        approved=signed_up.approved,
        meta={"robots": "noindex"},
    )


@router.get("/auth/confirmation")
async def confirm(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    svc = services(request)
    try:
        async with svc.db.write() as tx:
            await recovery.do_confirm_with_link(
                tx, svc.settings.secret_key, request.query_params.get("token", "")
            )
    except RoostError as error:
        return render(
            request,
            "message.html",
            viewer=web,
            status=422,
            title="This link does not work",
            message=error.message,
            link=("/auth/confirmation/new", "Send a new confirmation link"),
        )
    return render(
        request,
        "message.html",
        viewer=web,
        title="Your address is confirmed",
        message="Thank you. You can sign in now.",
        link=("/auth/sign_in", "Sign in"),
    )


@router.get("/auth/confirmation/new")
async def resend_page(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    return render(
        request,
        "auth/resend.html",
        viewer=web,
        title="Send the confirmation link again",
        sent=False,
        meta={"robots": "noindex"},
    )


@router.post("/auth/confirmation/new")
async def resend(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    await hold(
        svc.sign_in_limiter,
        [
            Limit(
                f"resend:{client_ip(request)}",
                svc.settings.sign_in_attempts,
                svc.settings.sign_in_window_s,
            )
        ],
        "Too many requests from your address; try again later",
    )
    async with svc.db.write() as tx:
        creds = await credentials_for(tx.conn, str(form.get("email", ""))[:320])
        if creds is not None and not creds.confirmed and not creds.suspended:
            await recovery.do_resend_confirmation(tx, creds.account_id)
    # The same answer whether or not such an account exists.
    return render(
        request,
        "auth/resend.html",
        viewer=web,
        title="Send the confirmation link again",
        sent=True,
        meta={"robots": "noindex"},
    )
