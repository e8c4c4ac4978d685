"""The staff page of appeals (``/admin/appeals``, on ``manage_appeals``): the
appeals awaiting a decision, each with the strike it contests and what both
sides wrote, and the forms to accept (the action is undone) or reject it. Each
form is the domain action ``roost appeals`` runs (roost/domain/strikes), which
appends the audit entry (docs/moderation.md, "Strikes and appeals")."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roost.domain.strikes import actions, queries
from roost.errors import Forbidden, NotFound, RuleBroken
from roost.web.csrf import checked_form
from roost.web.pages.staff import P, acting_staff, back_to, parse_id, staff_page, staff_render
from roost.web.pages.strikes import DONE
from roost.web.viewer import WebViewer, services

router = APIRouter(include_in_schema=False)

NOTICES = {
    "accepted": "The appeal is accepted: the action is undone.",
    "rejected": "The appeal is rejected: the action stands.",
}


async def _list(
    request: Request, web: WebViewer, *, status: int = 200, error: str = ""
) -> Response:
    every = request.query_params.get("all") == "1"
    async with services(request).db.read() as conn:
        found = await queries.appeals_to_decide(conn, web.viewer, every=every)
        names = await queries.usernames(conn, web.viewer, [w.account_id for w in found])
    return staff_render(
        request, web, "staff/appeals.html", "Appeals", "/admin/appeals",
        status=status, error=error, strikes=found, names=names, done_words=DONE, every=every,
        decided=NOTICES.get(request.query_params.get("done", ""), ""),
    )  # fmt: skip


@router.get("/admin/appeals")
async def appeals_page(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_APPEALS))
) -> Response:
    return await _list(request, web)


async def _decide(request: Request, web: WebViewer, raw: str, *, accept: bool) -> Response:
    await checked_form(request, web)
    number = parse_id(raw)
    try:
        async with services(request).db.write() as tx:
            await actions.do_decide_appeal(
                tx, web.viewer, number, accept=accept, actor=acting_staff(web), via="web"
            )
    except Forbidden as error:
        return await _list(request, web, status=403, error=error.message)
    except (RuleBroken, NotFound) as error:
        return await _list(request, web, status=422, error=error.message)
    return back_to("/admin/appeals", "accepted" if accept else "rejected")


@router.post("/admin/appeals/{appeal_id}/accept")
async def accept(
    request: Request, appeal_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_APPEALS))
) -> Response:
    return await _decide(request, web, appeal_id, accept=True)


@router.post("/admin/appeals/{appeal_id}/reject")
async def reject(
    request: Request, appeal_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_APPEALS))
) -> Response:
    return await _decide(request, web, appeal_id, accept=False)
