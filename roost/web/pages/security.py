"""Account security, signed in: two-factor sign-in (set up, recovery codes,
turn off), the browsers signed in (end any), and the apps authorized (take
their access away)."""

from __future__ import annotations

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from roost.domain.accounts import totp, two_factor
from roost.domain.oauth.authorized import authorized_apps, do_revoke_app
from roost.domain.sessions.actions import do_end_session
from roost.domain.sessions.queries import sessions_of
from roost.errors import NotFound, RateLimited, RoostError
from roost.web import signing_in
from roost.web.csrf import checked_form
from roost.web.render import render
from roost.web.viewer import WebViewer, clear_session_cookie, services, signed_in

router = APIRouter(include_in_schema=False)


async def _overview(
    request: Request, web: WebViewer, *, notice: str = "", error: str = "", status: int = 200
) -> Response:
    svc = services(request)
    assert web.owner is not None
    account_id = web.owner.account_id
    async with svc.db.read() as conn:
        state = await two_factor.state(conn, account_id)
        sessions = await sessions_of(conn, account_id)
        apps = await authorized_apps(conn, account_id)
    return render(
        request,
        "settings/security.html",
        viewer=web,
        status=status,
        title="Security",
        two_factor=state,
        sessions=sessions,
        current_session=web.owner.session_id,
        apps=apps,
        notice=notice,
        error=error,
        meta={"robots": "noindex"},
    )


@router.get("/settings/security")
async def security(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    return await _overview(request, web)


def _qr_data_uri(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_data_uri(scale=4, border=2))


async def _setup_page(
    request: Request, web: WebViewer, secret: str, *, error: str = "", status: int = 200
) -> Response:
    svc = services(request)
    uri = totp.provisioning_uri(
        secret, f"{web.username}@{svc.settings.domain}", svc.settings.instance_title
    )
    return render(
        request,
        "settings/two_factor_setup.html",
        viewer=web,
        status=status,
        title="Set up two-factor sign-in",
        secret=secret,
        spaced_secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr=_qr_data_uri(uri),
        error=error,
        meta={"robots": "noindex"},
    )


@router.post("/settings/two_factor/setup")
async def begin_setup(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    await checked_form(request, web)
    assert web.account_id is not None
    try:
        async with services(request).db.write() as tx:
            secret = await two_factor.do_begin(tx, web.account_id)
    except RoostError as error:
        return await _overview(request, web, error=error.message, status=422)
    return await _setup_page(request, web, secret)


@router.post("/settings/two_factor/enable")
async def enable(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    assert web.account_id is not None
    try:
        async with svc.db.write() as tx:
            codes = await two_factor.do_enable(
                tx, web.account_id, str(form.get("code", "")), svc.settings.secret_key
            )
    except RoostError as error:
        async with svc.db.read() as conn:
            state = await two_factor.state(conn, web.account_id)
        if state.pending_secret is None:
            return await _overview(request, web, error=error.message, status=422)
        return await _setup_page(
            request, web, state.pending_secret, error=error.message, status=422
        )
    return _codes_page(request, web, codes, just_enabled=True)


def _codes_page(
    request: Request, web: WebViewer, codes: list[str], *, just_enabled: bool
) -> Response:
    return render(
        request,
        "settings/recovery_codes.html",
        viewer=web,
        title="Your recovery codes",
        codes=codes,
        just_enabled=just_enabled,
        meta={"robots": "noindex"},
    )


async def _with_current_code(request: Request, web: WebViewer, code: str) -> RoostError | None:
    """Turning two-factor off or renewing codes asks for a current code (or a
    recovery code), limited like sign-in codes."""
    assert web.account_id is not None
    try:
        await signing_in.code_step(services(request), request, web.account_id, code)
    except RateLimited:
        raise
    except RoostError as error:
        return error
    return None


@router.post("/settings/two_factor/disable")
async def disable(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    problem = await _with_current_code(request, web, str(form.get("code", "")))
    if problem is not None:
        return await _overview(request, web, error=problem.message, status=422)
    assert web.account_id is not None
    async with services(request).db.write() as tx:
        await two_factor.do_disable(tx, web.account_id)
    return await _overview(request, web, notice="Two-factor sign-in is off.")


@router.post("/settings/two_factor/recovery_codes")
async def new_codes(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    problem = await _with_current_code(request, web, str(form.get("code", "")))
    if problem is not None:
        return await _overview(request, web, error=problem.message, status=422)
    svc = services(request)
    assert web.account_id is not None
    async with svc.db.write() as tx:
        codes = await two_factor.do_new_recovery_codes(tx, web.account_id, svc.settings.secret_key)
    return _codes_page(request, web, codes, just_enabled=False)


def _id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    return int(raw)


@router.post("/settings/sessions/{session_id}/end")
async def end_session(
    request: Request, session_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    await checked_form(request, web)
    assert web.owner is not None
    ending = _id(session_id)
    async with services(request).db.write() as tx:
        await do_end_session(tx, web.owner.account_id, ending)
    if ending == web.owner.session_id:
        response = RedirectResponse("/", status_code=303)
        clear_session_cookie(request, response)
        return response
    return RedirectResponse("/settings/security#sessions", status_code=303)


@router.post("/settings/apps/{application_id}/revoke")
async def revoke_app(
    request: Request, application_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    await checked_form(request, web)
    assert web.account_id is not None
    app_id = None if application_id == "server" else _id(application_id)
    async with services(request).db.write() as tx:
        await do_revoke_app(tx, web.account_id, app_id)
    return RedirectResponse("/settings/security#apps", status_code=303)
