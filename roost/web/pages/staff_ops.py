"""The staff pages that look after the server itself: the job queue
(``/admin/jobs``: counts by kind and state, parked jobs, retry and discard)
and the ``roost doctor`` report (``/admin/doctor``); both need ``devops``.
The staff area's permission checks are roost/web/pages/staff.py's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roost.clock import utcnow
from roost.domain.audit.chain import record
from roost.domain.roles.permissions import key
from roost.errors import NotFound
from roost.jobs import queue
from roost.ops.doctor import FAIL, OK, SKIP, WARN, run_checks
from roost.web.csrf import checked_form
from roost.web.pages.staff import P, acting_staff, back_to, parse_id, staff_page, staff_render
from roost.web.render import render
from roost.web.viewer import WebViewer, services

router = APIRouter(include_in_schema=False)


PARKED_SHOWN = 200


@router.get("/admin/jobs")
async def jobs_page(request: Request, web: WebViewer = Depends(staff_page(P.DEVOPS))) -> Response:
    async with services(request).db.read() as conn:
        counts = await queue.queue_counts(conn)
        parked = await queue.parked_jobs(conn, limit=PARKED_SHOWN)
    return staff_render(
        request, web, "staff/jobs.html", "Jobs", "/admin/jobs",
        counts=counts, parked=parked, parked_shown=PARKED_SHOWN, counted_at=utcnow(),
    )  # fmt: skip


@router.get("/admin/jobs/queue")
async def jobs_queue(request: Request, web: WebViewer = Depends(staff_page(P.DEVOPS))) -> Response:
    """The queue's table alone, which the jobs page asks for again every 10 seconds."""
    async with services(request).db.read() as conn:
        counts = await queue.queue_counts(conn)
    return render(request, "staff/_queue.html", viewer=web, counts=counts, counted_at=utcnow())


async def _job_action(request: Request, web: WebViewer, action: str, job_id: int | None) -> int:
    async with services(request).db.write() as tx:
        if action == "job.discard":
            assert job_id is not None
            changed = await queue.do_discard_parked(tx, job_id)
        else:
            changed = await queue.do_requeue_parked(tx, job_id)
        if job_id is not None and changed == 0:
            raise NotFound("There is no parked job with this id.")
        await record(
            tx,
            action=action,
            permission=key(P.DEVOPS),
            by=acting_staff(web),
            subject_type="job",
            subject_id=job_id,
            details={"jobs": changed},
        )
    return changed


@router.post("/admin/jobs/{job_id}/retry")
async def retry_job(
    request: Request, job_id: str, web: WebViewer = Depends(staff_page(P.DEVOPS))
) -> Response:
    await checked_form(request, web)
    await _job_action(request, web, "job.retry", parse_id(job_id))
    return back_to("/admin/jobs", "job-retried")


@router.post("/admin/jobs/retry_all")
async def retry_all_jobs(
    request: Request, web: WebViewer = Depends(staff_page(P.DEVOPS))
) -> Response:
    await checked_form(request, web)
    await _job_action(request, web, "job.retry", None)
    return back_to("/admin/jobs", "jobs-retried")


@router.post("/admin/jobs/{job_id}/discard")
async def discard_job(
    request: Request, job_id: str, web: WebViewer = Depends(staff_page(P.DEVOPS))
) -> Response:
    await checked_form(request, web)
    await _job_action(request, web, "job.discard", parse_id(job_id))
    return back_to("/admin/jobs", "job-discarded")


# Doctor ----------------------------------------------------------------------

_STATUS_LABELS = {OK: "OK", WARN: "Warning", FAIL: "Failed", SKIP: "Skipped"}


@router.get("/admin/doctor")
async def doctor_page(request: Request, web: WebViewer = Depends(staff_page(P.DEVOPS))) -> Response:
    checks = await run_checks(services(request))
    failed = [c.name for c in checks if c.status == FAIL]
    return staff_render(
        request, web, "staff/doctor.html", "Doctor", "/admin/doctor",
        checks=checks, failed=failed, labels=_STATUS_LABELS,
    )  # fmt: skip
