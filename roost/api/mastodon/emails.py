"""POST /api/v1/emails/confirmations: mail the confirmation link again.

As in Mastodon: for the token an app got at sign-up while the address is not
confirmed yet (403 once it is), optionally changing the address first.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import awaiting_confirmation, services
from roost.api.mastodon import schema
from roost.api.openapi import answers
from roost.api.params import Params, body
from roost.api.responses import JSON
from roost.domain.accounts.recovery import do_resend_confirmation
from roost.domain.types import Viewer
from roost.errors import Forbidden, Invalid

router = APIRouter()


class ResendParams(Params):
    email: str | None = Field(
        default=None, max_length=320, description="Change the address to this one first"
    )


@router.post("/api/v1/emails/confirmations", responses=answers(schema.Empty))
async def resend_confirmation(
    request: Request,
    viewer: Viewer = Depends(awaiting_confirmation("write:accounts")),
    params: ResendParams = Depends(body(ResendParams)),
) -> JSON:
    assert viewer.account_id is not None
    try:
        async with services(request).db.write() as tx:
            await do_resend_confirmation(tx, viewer.account_id, params.email or None)
    except Invalid as error:
        if "only available" in error.message:
            raise Forbidden(error.message) from None
        raise
    return JSON({})
