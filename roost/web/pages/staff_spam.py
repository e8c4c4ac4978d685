"""The staff pages of spam waves (``/admin/spam``), on ``manage_reports``:
the open clusters of near-duplicate new posts, each cluster with its posts,
and the one form that acts on a whole cluster (suspend its accounts, which
also needs ``manage_users``; delete its posts; mark it not spam, releasing
its held posts). The form is the domain action ``roost spam act`` runs
(roost/domain/spam/actions.py), which checks the role again in its
transaction and appends the audit entry (docs/abuse.md, "Spam waves")."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roost.domain.spam import actions
from roost.domain.spam.actions import Decision
from roost.errors import Forbidden, Invalid
from roost.web.csrf import checked_form
from roost.web.pages.staff import (
    P,
    acting_staff,
    back_to,
    form_text,
    parse_id,
    staff_page,
    staff_render,
)
from roost.web.viewer import WebViewer, services

router = APIRouter(include_in_schema=False)

NOTICES = {
    "suspend": "The cluster's accounts are suspended.",
    "delete": "The cluster's posts are deleted.",
    "not_spam": "The cluster is marked not spam; its held posts are shown again.",
}


@router.get("/admin/spam")
async def spam_clusters(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    svc = services(request)
    every = request.query_params.get("all") == "1"
    async with svc.db.read() as conn:
        found = await actions.clusters(
            conn,
            acting_staff(web),
            min_size=svc.settings.spam_cluster_min_size,
            new_account_days=svc.settings.spam_new_account_days,
            every_state=every,
        )
    return staff_render(
        request, web, "staff/spam.html", "Spam waves", "/admin/spam",
        clusters=found, every=every, min_size=svc.settings.spam_cluster_min_size,
    )  # fmt: skip


async def _detail(
    request: Request, web: WebViewer, raw: str, *, status: int = 200, error: str = ""
) -> Response:
    svc = services(request)
    async with svc.db.read() as conn:
        found = await actions.cluster(
            conn,
            acting_staff(web),
            parse_id(raw),
            new_account_days=svc.settings.spam_new_account_days,
        )
    return staff_render(
        request, web, "staff/spam_cluster.html", f"Spam cluster {found.summary.id}",
        "/admin/spam", status=status, error=error, item=found,
        done=NOTICES.get(request.query_params.get("done", ""), ""),
        may_suspend=web.viewer.may(P.MANAGE_USERS),
    )  # fmt: skip


@router.get("/admin/spam/{cluster_id}")
async def spam_cluster(
    request: Request, cluster_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    return await _detail(request, web, cluster_id)


@router.post("/admin/spam/{cluster_id}")
async def spam_act(
    request: Request, cluster_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    form = await checked_form(request, web)
    number = parse_id(cluster_id)
    try:
        decision = Decision(form_text(form, "decision"))
    except ValueError:
        return await _detail(
            request, web, cluster_id, status=422, error="Choose what to do with the cluster."
        )
    try:
        async with services(request).db.write() as tx:
            await actions.act(tx, acting_staff(web), number, decision)
    except Forbidden as error:
        return await _detail(request, web, cluster_id, status=403, error=error.message)
    except Invalid as error:
        return await _detail(request, web, cluster_id, status=422, error=error.message)
    return back_to(f"/admin/spam/{number}", decision.value)
