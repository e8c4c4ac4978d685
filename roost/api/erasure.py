"""POST /api/v1/roost/account/erase: a person erases their own account.

The password is asked again (a stolen token alone must not be able to destroy
an account), under the same attempt limits as signing in, and the token needs
the ``write`` scope. The answer is the erasure's receipt; every token of the
account stops working with it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from roost.api.auth import client_address, services, user
from roost.api.openapi import answers
from roost.api.params import Params, body
from roost.api.responses import JSON
from roost.domain.accounts.sign_in import confirm_password
from roost.domain.audit.chain import Staff
from roost.domain.types import Viewer
from roost.erasure.erase import erase_account
from roost.errors import RuleBroken

router = APIRouter()


class EraseParams(Params):
    password: str = Field(default="", description="The account's password, asked again")


class Receipt(BaseModel):
    account_id: str
    username: str
    tables: dict[str, int]
    stores: dict[str, Any]
    scan: dict[str, Any]
    clean: bool


@router.post("/api/v1/roost/account/erase", responses=answers(Receipt))
async def erase_own_account(
    request: Request,
    viewer: Viewer = Depends(user("write")),
    params: EraseParams = Depends(body(EraseParams)),
) -> JSON:
    svc = services(request)
    assert viewer.account_id is not None
    password = params.password
    if not password:
        raise RuleBroken("password is required to erase the account")
    # Limited like a sign-in: a stolen token must not make this a password oracle.
    await confirm_password(
        svc.db, svc.password_gate(), viewer.account_id, password, client_address(request)
    )
    receipt = await erase_account(svc, viewer.account_id, by=Staff(None, "api"))
    return JSON(receipt.as_dict())
