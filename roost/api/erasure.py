"""POST /api/v1/roost/account/erase: a person erases their own account.

The password is asked again (a stolen token alone must not be able to destroy
an account), and the token needs the ``write`` scope. The answer is the
erasure's receipt; every token of the account stops working with it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from roost.api.auth import services, user
from roost.api.responses import JSON
from roost.db.tables import users
from roost.domain.accounts import passwords
from roost.domain.types import Viewer
from roost.erasure.erase import erase_account
from roost.errors import Forbidden, Invalid

router = APIRouter()


@router.post("/api/v1/roost/account/erase")
async def erase_own_account(request: Request, viewer: Viewer = Depends(user("write"))) -> JSON:
    svc = services(request)
    assert viewer.account_id is not None
    body: Any = await request.json() if request.headers.get("content-length") else {}
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(password, str) or not password:
        raise Invalid("Validation failed: password is required to erase the account")
    async with svc.db.read() as conn:
        stored = (
            await conn.execute(
                select(users.c.password_hash).where(users.c.account_id == viewer.account_id)
            )
        ).scalar_one_or_none()
    if stored is None or not await passwords.verify_password(stored, password):
        raise Forbidden("The password is not correct")
    receipt = await erase_account(svc, viewer.account_id)
    return JSON(receipt.as_dict())
