"""The inboxes: ``POST /users/NAME/inbox`` and the shared ``POST /inbox``."""

from __future__ import annotations

import logging

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from roost.domain.federation import departed
from roost.domain.federation.inbox import MAX_ACTIVITY_BYTES, check_activity, do_receive
from roost.domain.federation.verification import KeyGone, NotFederated, verify_request
from roost.domain.types import ANONYMOUS
from roost.errors import RuleBroken
from roost.federation.common import (
    Refused,
    answer,
    enabled,
    local_account,
    services,
    target,
)
from roost.net.signatures import SignatureRefused

log = logging.getLogger("roost.federation")
router = APIRouter(include_in_schema=False)


# --- Inboxes ----------------------------------------------------------------------


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ACTIVITY_BYTES:
        raise Refused(413, "The activity is too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_ACTIVITY_BYTES:
            raise Refused(413, "The activity is too large")
    return bytes(body)


async def _receive(request: Request, username: str | None) -> Response:
    """Verify the signature, then store the activity and queue its job;
    nothing is stored for a request that does not verify."""

    async def make() -> Response:
        settings = enabled(request)
        svc = services(request)
        recipient: int | None = None
        if username is not None:
            async with svc.db.read() as conn:
                recipient = (await local_account(conn, ANONYMOUS, username)).value.id
        body = await _body(request)
        try:
            signed = await verify_request(
                svc.db,
                settings,
                method="POST",
                target=target(request),
                headers=request.headers,
                body=body,
            )
        except KeyGone as gone:
            # A Delete of an actor whose server says it is gone is taken
            # without its key (departed.py checks with that server).
            if await departed.delete_of_gone_actor(svc.db, settings, gone.key_id, body):
                return Response(status_code=202)
            log.info("inbox delivery refused: %s", gone)
            raise Refused(401, "Verification failed") from None
        except NotFederated as refused:
            log.info("inbox delivery refused: %s", refused)
            raise Refused(403, "This server does not federate with yours") from None
        except SignatureRefused as refused:
            log.info("inbox delivery refused: %s", refused)
            raise Refused(401, "Verification failed") from None
        try:
            activity = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Refused(400, "The body is not JSON") from None
        try:
            check_activity(activity, signed)
        except RuleBroken as broken:
            raise Refused(400, broken.message) from None
        except SignatureRefused:
            raise Refused(401, "Verification failed") from None
        async with svc.db.write() as tx:
            await do_receive(
                tx,
                recipient_account_id=recipient,
                signed_by=signed,
                activity=activity,
                body=body,
                base_url=svc.settings.base_url,
            )
        return Response(status_code=202)

    return await answer(make)


@router.post("/users/{username}/inbox")
async def account_inbox(request: Request, username: str) -> Response:
    return await _receive(request, username)


@router.post("/inbox")
async def shared_inbox(request: Request) -> Response:
    return await _receive(request, None)
