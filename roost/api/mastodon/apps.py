"""/api/v1/apps: client registration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import app_or_user, services
from roost.api.mastodon import schema
from roost.api.openapi import answers
from roost.api.params import Params, body
from roost.api.responses import JSON
from roost.domain.oauth.actions import OOB, RegisteredApp, do_register_app
from roost.domain.oauth.queries import app_by_id
from roost.domain.oauth.scopes import render
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.keys import vapid

router = APIRouter()


class AppParams(Params):
    client_name: str = ""
    redirect_uris: str | list[str] = Field(
        default=OOB, description="One URI per line, or a list of URIs"
    )
    scopes: str | None = Field(default=None, description="Space-separated scopes")
    website: str | None = Field(default=None, max_length=2000)


def app_json(app: RegisteredApp, *, with_secret: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": sorted(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": app.redirect_uris,
        "vapid_key": vapid.public_key(),
    }
    if with_secret:
        data["client_id"] = app.client_id
        data["client_secret"] = app.client_secret
        data["client_secret_expires_at"] = 0
    return data


@router.post("/api/v1/apps", responses=answers(schema.RegisteredApp))
async def create_app(request: Request, params: AppParams = Depends(body(AppParams))) -> JSON:
    uris = params.redirect_uris
    if isinstance(uris, list):
        uris = "\n".join(uris)
    async with services(request).db.write() as tx:
        app = await do_register_app(tx, params.client_name, uris, params.scopes, params.website)
    return JSON(app_json(app, with_secret=True))


@router.get("/api/v1/apps/verify_credentials", responses=answers(schema.App, errors=(404,)))
async def verify_app(request: Request, viewer: Viewer = Depends(app_or_user(None))) -> JSON:
    if viewer.application_id is None:
        raise NotFound()
    async with services(request).db.read() as conn:
        app = await app_by_id(conn, viewer.application_id)
    if app is None:
        raise NotFound()
    data = app_json(app, with_secret=False)
    data["scopes"] = render(app.scopes).split()
    return JSON(data)
