"""Your strikes, signed in (``/settings/strikes``): what the moderators did to
your account and wrote to you, and the one appeal you may make against each
within 20 days (roost/domain/strikes). Only your own strikes are shown; any
other id answers 404."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from roost.clock import utcnow
from roost.domain.strikes import actions, queries
from roost.domain.strikes.model import MAX_APPEAL, Warning
from roost.errors import NotFound, RateLimited, RoostError, Unavailable
from roost.web.csrf import checked_form
from roost.web.pages.people import noindex
from roost.web.render import render
from roost.web.viewer import WebViewer, services, signed_in

router = APIRouter(include_in_schema=False)

# What each action did, as the pages say it to the account.
DONE = {
    "none": "A warning",
    "sensitive": "Your media is marked sensitive",
    "disable": "Your login was disabled",
    "silence": "Your account is limited: only your followers see your posts",
    "suspend": "Your account was suspended",
}


def _id(text: str) -> int:
    if not text.isdigit() or len(text) > 19:
        raise NotFound()
    return int(text)


@router.get("/settings/strikes")
async def strikes_page(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    async with services(request).db.read() as conn:
        found = await queries.own_warnings(conn, web.viewer)
    return render(
        request,
        "settings/strikes.html",
        viewer=web,
        title="Moderation decisions",
        strikes=found,
        done=DONE,
        meta=noindex(),
    )


async def _strike_page(
    request: Request, web: WebViewer, found: Warning, *, error: str = "", status: int = 200
) -> Response:
    return render(
        request,
        "settings/strike.html",
        viewer=web,
        status=status,
        title="Moderation decision",
        strike=found,
        done=DONE,
        appealable=found.appealable(utcnow()),
        max_appeal=MAX_APPEAL,
        error=error,
        notice=request.query_params.get("appealed") == "1",
        meta=noindex(),
    )


async def _own(request: Request, web: WebViewer, strike_id: str) -> Warning:
    async with services(request).db.read() as conn:
        found = await queries.warning(conn, web.viewer, _id(strike_id))
    if found.account_id != web.account_id:
        raise NotFound()
    return found


@router.get("/settings/strikes/{strike_id}")
async def strike_page(
    request: Request, strike_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _strike_page(request, web, await _own(request, web, strike_id))


@router.post("/settings/strikes/{strike_id}/appeal")
async def appeal(request: Request, strike_id: str, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    found = await _own(request, web, strike_id)
    text = form.get("text", "")
    try:
        async with services(request).db.write() as tx:
            await actions.do_appeal(tx, web.viewer, found.id, text if isinstance(text, str) else "")
    except RoostError as error:
        if isinstance(error, (Unavailable, RateLimited)):
            raise
        return await _strike_page(request, web, found, error=error.message, status=422)
    return RedirectResponse(f"/settings/strikes/{found.id}?appealed=1", status_code=303)
