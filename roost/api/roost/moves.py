"""/api/v1/roost/aliases and /api/v1/roost/account/move: account moves.

    GET    /api/v1/roost/aliases        the signed-in account's aliases
    POST   /api/v1/roost/aliases        name an old account (acct: @name@domain,
                                        name, or its actor's address); it must
                                        resolve
    DELETE /api/v1/roost/aliases/{id}   forget one
    POST   /api/v1/roost/account/move   move to a new account (acct, and the
                                        password asked again), which must name
                                        this one among its aliases

Each reads and changes the signed-in account's own aliases only; the rules
are roost/domain/federation/moves.py's. The move asks the password again, as
the erasure does: a stolen token alone must not send an account's followers
elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from roost.api.auth import client_address, services, user
from roost.api.openapi import answers
from roost.api.params import Id, Params, body
from roost.api.responses import JSON
from roost.domain.accounts.sign_in import confirm_password
from roost.domain.federation import moves
from roost.domain.types import Viewer
from roost.errors import RuleBroken

router = APIRouter()


class AliasEntity(BaseModel):
    id: str
    acct: str = Field(description="name for an account here, name@domain for another server's")
    uri: str = Field(description="The account's actor id (alsoKnownAs)")


class AliasParams(Params):
    acct: str = Field(default="", description="@name@domain, name, or the actor's address")


class MoveParams(Params):
    acct: str = Field(default="", description="The new account: @name@domain, name, or address")
    password: str = Field(default="", description="The account's password, asked again")


class MovedEntity(BaseModel):
    moved_to: AliasEntity = Field(description="The new account (its id here, acct and uri)")


def _alias_json(alias: moves.Alias) -> dict[str, str]:
    return {"id": str(alias.id), "acct": alias.acct, "uri": alias.uri}


@router.get("/api/v1/roost/aliases", responses=answers(list[AliasEntity]))
async def list_aliases(request: Request, viewer: Viewer = Depends(user("read:accounts"))) -> JSON:
    assert viewer.account_id is not None
    async with services(request).db.read() as conn:
        found = await moves.aliases_of(conn, viewer.account_id)
    return JSON([_alias_json(a) for a in found])


@router.post("/api/v1/roost/aliases", responses=answers(AliasEntity, errors=(404, 422)))
async def add_alias(
    request: Request,
    viewer: Viewer = Depends(user("write:accounts")),
    params: AliasParams = Depends(body(AliasParams)),
) -> JSON:
    svc = services(request)
    assert viewer.account_id is not None
    alias = await moves.add_alias(svc.db, svc.settings, viewer.account_id, params.acct)
    return JSON(_alias_json(alias))


@router.delete("/api/v1/roost/aliases/{alias_id}", responses=answers(dict, errors=(404,)))
async def remove_alias(
    request: Request, alias_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    assert viewer.account_id is not None
    await moves.remove_alias(services(request).db, viewer.account_id, alias_id)
    return JSON({})


@router.post("/api/v1/roost/account/move", responses=answers(MovedEntity, errors=(404, 422)))
async def move_account(
    request: Request,
    viewer: Viewer = Depends(user("write:accounts")),
    params: MoveParams = Depends(body(MoveParams)),
) -> JSON:
    svc = services(request)
    assert viewer.account_id is not None
    if not params.password:
        raise RuleBroken("password is required to move the account")
    await confirm_password(
        svc.db, svc.password_gate(), viewer.account_id, params.password, client_address(request)
    )
    target = await moves.move_out(svc.db, svc.settings, viewer.account_id, params.acct)
    shown = {"id": str(target.account_id), "acct": target.acct, "uri": target.uri}
    return JSON({"moved_to": shown})
