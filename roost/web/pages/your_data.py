"""Your data, signed in: importing a Twitter archive (streamed to the data
directory as it arrives, a progress bar through the import's phases, the
report at the end), downloading an archive of the account (and, for moving
to another server, its files in Mastodon's formats), its aliases and its
move to another account (roost/domain/federation/moves.py, as
/api/v1/roost/aliases and /api/v1/roost/account/move, the password asked
again), and deleting the account with its erasure receipt.

Each is the API's own path: the upload is ``receive_archive``
(roost/ops/import_upload.py, as /api/v1/roost/imports) and its background
job, the archive is roost/export/requests.py as /api/v1/roost/export, and
deletion asks for the password under the sign-in limits
(``confirm_password``) before roost/erasure/erase.py, as
/api/v1/roost/account/erase does.

The upload is a plain form; its CSRF token travels in the form's address
(``?csrf_token=``) so that it is checked before a byte of the archive is
read, and never written to disk for a forged request.
"""

from __future__ import annotations

import asyncio
import base64
import json
import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from roost.domain.accounts.sign_in import confirm_password
from roost.domain.federation import moves
from roost.erasure.erase import erase_account
from roost.errors import (
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    RoostError,
    StorageFull,
    Unavailable,
)
from roost.export.requests import exports_directory, find_export, request_export
from roost.importers.twitter.report import Report
from roost.importers.twitter.runs import DONE, FAILED, ImportRun, get_run, runs_of
from roost.ops.import_upload import receive_archive
from roost.web.csrf import FIELD, HEADER, check, checked_form
from roost.web.render import render
from roost.web.viewer import WebViewer, clear_session_cookie, client_ip, services, signed_in

router = APIRouter(include_in_schema=False)

# The files of an archive that another Mastodon server's import page takes.
MASTODON_FILES = {
    "following_accounts.csv": "Accounts you follow",
    "blocked_accounts.csv": "Accounts you block",
    "muted_accounts.csv": "Accounts you mute",
    "lists.csv": "Your lists and who is on them",
    "bookmarks.csv": "Your bookmarks",
    "outbox.json": "Your posts (ActivityPub outbox)",
}
PHASES = {
    "waiting": "Waiting to start",
    "posts": "Importing posts",
    "threads": "Threading replies",
    "likes": "Importing likes",
    "followers": "Importing followers",
    "following": "Importing who you follow",
    "blocks": "Importing blocks",
    "mutes": "Importing mutes",
    "direct_messages": "Importing direct messages",
    "done": "Finished",
}
VISIBILITIES = (
    ("public", "Public"),
    ("unlisted", "Unlisted"),
    ("private", "Followers only"),
)


def _id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    return int(raw)


def _latest_export(request: Request, account_id: int) -> dict[str, Any] | None:
    directory = exports_directory(services(request).settings, account_id)
    found = sorted(directory.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in found:
        if path.stem.isdigit():
            return {"id": path.stem, "size": path.stat().st_size}
    return None


async def _overview(
    request: Request, web: WebViewer, *, error: str = "", notice: str = "", status: int = 200
) -> Response:
    assert web.account_id is not None
    svc = services(request)
    async with svc.db.read() as conn:
        runs = await runs_of(conn, web.account_id)
        aliases = await moves.aliases_of(conn, web.account_id)
        moved = await moves.moved_target(conn, svc.settings.base_url, web.account_id)
    latest = await asyncio.to_thread(_latest_export, request, web.account_id)
    return render(
        request,
        "app/data.html",
        viewer=web,
        status=status,
        title="Your data",
        runs=[_run_view(r) for r in runs],
        export=latest,
        mastodon_files=MASTODON_FILES,
        visibilities=VISIBILITIES,
        max_upload=svc.settings.import_max_upload_bytes,
        aliases=aliases,
        moved=moved,
        error=error,
        notice=notice,
        meta={"robots": "noindex"},
    )


@router.get("/settings/data")
async def data(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    return await _overview(request, web)


# Importing ------------------------------------------------------------------


def _run_view(run: ImportRun) -> dict[str, Any]:
    progress = run.progress
    phase = str(progress.get("phase", "waiting"))
    total = int(progress.get("total", 0))
    done = int(progress.get("done", 0))
    finished = run.state in (DONE, FAILED)
    report = Report.from_json(run.report) if run.report else None
    return {
        "id": run.id,
        "state": run.state,
        "finished": finished,
        "failed": run.state == FAILED,
        "phase": PHASES.get(phase, phase.replace("_", " ").capitalize()),
        "done": done,
        "total": total,
        "percent": 100 if run.state == DONE else (int(done * 100 / total) if total else 0),
        "username": run.twitter_username,
        "error": run.error,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "report": report,
    }


async def _own_run(request: Request, web: WebViewer, raw: str) -> ImportRun:
    async with services(request).db.read() as conn:
        run = await get_run(conn, _id(raw))
    if run is None or run.account_id != web.account_id:
        raise NotFound()
    return run


@router.post("/settings/import")
async def upload(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    # Checked before the body is read: a forged upload writes nothing.
    check(request, web, request.headers.get(HEADER) or request.query_params.get(FIELD, ""))
    assert web.account_id is not None
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        return await _overview(
            request, web, error="Choose the archive's zip file to upload.", status=422
        )
    try:
        run = await receive_archive(request, services(request), web.account_id)
    except RateLimited:
        raise
    except RoostError as error:
        if isinstance(error, Unavailable) and not isinstance(error, StorageFull):
            raise
        status = 507 if isinstance(error, StorageFull) else 422
        return await _overview(request, web, error=error.message, status=status)
    return RedirectResponse(f"/settings/import/{run.id}", status_code=303)


@router.get("/settings/import/{import_id}")
async def import_page(
    request: Request, import_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    run = await _own_run(request, web, import_id)
    return render(
        request,
        "app/import.html",
        viewer=web,
        title="Twitter archive import",
        run=_run_view(run),
        meta={"robots": "noindex"},
    )


@router.get("/settings/import/{import_id}/progress")
async def import_progress(
    request: Request, import_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    """The progress fragment, which asks for itself again until the import ends."""
    run = await _own_run(request, web, import_id)
    return render(request, "app/import_progress.html", viewer=web, run=_run_view(run))


# Exporting ------------------------------------------------------------------


@router.post("/settings/export")
async def export(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    await checked_form(request, web)
    svc = services(request)
    assert web.account_id is not None
    await request_export(svc.db, svc.settings, web.account_id)
    return RedirectResponse("/settings/data#export", status_code=303)


def _export_path(request: Request, web: WebViewer, raw: str) -> Path:
    assert web.account_id is not None
    path = find_export(services(request).settings, web.account_id, _id(raw))
    if path is None:
        raise NotFound()
    return path


@router.get("/settings/export/{export_id}")
async def download(
    request: Request, export_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    path = _export_path(request, web, export_id)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"archive-{export_id}.zip",
        headers={"Cache-Control": "private, no-store"},
    )


def _member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        try:
            return archive.read(name)
        except KeyError:
            raise NotFound() from None


@router.get("/settings/export/{export_id}/{name}")
async def download_file(
    request: Request, export_id: str, name: str, web: WebViewer = Depends(signed_in)
) -> Response:
    """One file of the archive, in the format another Mastodon server imports."""
    if name not in MASTODON_FILES:
        raise NotFound()
    path = _export_path(request, web, export_id)
    body = await asyncio.to_thread(_member, path, name)
    kind = "text/csv" if name.endswith(".csv") else "application/activity+json"
    return Response(
        body,
        media_type=kind,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# Moving the account (roost/domain/federation/moves.py) ----------------------------


def _form_text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


@router.post("/settings/aliases")
async def add_alias(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    assert web.account_id is not None
    try:
        alias = await moves.add_alias(
            svc.db, svc.settings, web.account_id, _form_text(form, "acct")
        )
    except (NotFound, Invalid) as error:
        return await _overview(request, web, error=error.message, status=422)
    return await _overview(request, web, notice=f"{alias.acct} is now one of your aliases.")


@router.post("/settings/aliases/{alias_id}/remove")
async def remove_alias(
    request: Request, alias_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    await checked_form(request, web)
    assert web.account_id is not None
    await moves.remove_alias(services(request).db, web.account_id, _id(alias_id))
    return await _overview(request, web, notice="The alias was removed.")


@router.post("/settings/move")
async def move(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    assert web.account_id is not None
    password = _form_text(form, "password")
    if not password:
        return await _overview(request, web, error="Enter your password.", status=422)
    try:
        await confirm_password(
            svc.db, svc.password_gate(), web.account_id, password, client_ip(request)
        )
    except Forbidden:
        return await _overview(request, web, error="That is not your password.", status=422)
    try:
        target = await moves.move_out(
            svc.db, svc.settings, web.account_id, _form_text(form, "acct")
        )
    except (NotFound, Invalid) as error:
        return await _overview(request, web, error=error.message, status=422)
    return await _overview(request, web, notice=f"Your account moved to {target.acct}.")


# Deleting the account -----------------------------------------------------------


def _delete_page(
    request: Request, web: WebViewer, *, error: str = "", status: int = 200
) -> Response:
    return render(
        request,
        "app/delete.html",
        viewer=web,
        status=status,
        title="Delete your account",
        error=error,
        meta={"robots": "noindex"},
    )


@router.get("/settings/delete")
async def delete_form(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    return _delete_page(request, web)


@router.post("/settings/delete")
async def delete(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    assert web.account_id is not None
    password = form.get("password", "")
    if not isinstance(password, str) or not password:
        return _delete_page(request, web, error="Enter your password.", status=422)
    if form.get("confirm") != "1":
        return _delete_page(request, web, error="Tick the box to say you understand.", status=422)
    try:
        await confirm_password(
            svc.db, svc.password_gate(), web.account_id, password, client_ip(request)
        )
    except Forbidden:
        return _delete_page(request, web, error="That is not your password.", status=422)
    receipt = (await erase_account(svc, web.account_id)).as_dict()
    text = json.dumps(receipt, indent=2, sort_keys=True)
    response = render(
        request,
        "app/deleted.html",
        viewer=None,
        title="Your account is deleted",
        receipt=receipt,
        receipt_text=text,
        receipt_href="data:application/json;base64," + base64.b64encode(text.encode()).decode(),
        meta={"robots": "noindex"},
    )
    clear_session_cookie(request, response)
    return response
