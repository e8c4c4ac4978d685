"""/api/v1/admin/domain_blocks and /api/v1/admin/domain_allows: what staff
decide about other servers (roost/domain/blocks/domains.py), kept for
federation to ask. Each route needs ``manage_federation``; each change is in
the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services
from roost.api.mastodon import admin_schema as shapes
from roost.api.mastodon._common import PageParams, flag
from roost.api.mastodon.admin import staff
from roost.api.mastodon.schema import Empty
from roost.api.openapi import answers
from roost.api.params import Id, Params, body, query
from roost.api.responses import JSON, paged_json
from roost.domain.audit.chain import Staff
from roost.domain.blocks import domains
from roost.domain.roles.permissions import Permission
from roost.domain.types import Viewer
from roost.errors import RuleBroken

router = APIRouter()

FEDERATION = Permission.MANAGE_FEDERATION
READ_BLOCKS, WRITE_BLOCKS = "admin:read:domain_blocks", "admin:write:domain_blocks"
READ_ALLOWS, WRITE_ALLOWS = "admin:read:domain_allows", "admin:write:domain_allows"


def _by(viewer: Viewer) -> Staff:
    return Staff(viewer.account_id, "api")


def _opt(value: shapes.Flag) -> bool | None:
    return None if value is None or value == "" else flag(value)


class DomainBlockParams(Params):
    domain: str | None = Field(default=None, description="The server to block (on create)")
    severity: str | None = Field(default=None, description="silence (default), suspend or noop")
    reject_media: shapes.Flag = Field(default=None, description="Refuse its media files")
    reject_reports: shapes.Flag = Field(default=None, description="Ignore its reports")
    private_comment: str | None = Field(default=None, description="For staff")
    public_comment: str | None = Field(default=None, description="Shown in the public list")
    obfuscate: shapes.Flag = Field(default=None, description="Partly hide the domain in public")

    def change(self) -> domains.BlockChange:
        return domains.BlockChange(
            severity=self.severity or None,
            reject_media=_opt(self.reject_media),
            reject_reports=_opt(self.reject_reports),
            private_comment=self.private_comment,
            public_comment=self.public_comment,
            obfuscate=_opt(self.obfuscate),
        )


@router.get("/api/v1/admin/domain_blocks", responses=answers(list[shapes.AdminDomainBlock]))
async def list_domain_blocks(
    request: Request,
    viewer: Viewer = Depends(staff(READ_BLOCKS, FEDERATION)),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    async with services(request).db.read() as conn:
        found, newest, oldest = await domains.domain_blocks(
            conn, params.page(max_limit=200, default_limit=100)
        )
    return paged_json(request, [shapes.domain_block(b) for b in found], newest, oldest)


@router.get(
    "/api/v1/admin/domain_blocks/{block_id}",
    responses=answers(shapes.AdminDomainBlock, errors=(404,)),
)
async def get_domain_block(
    request: Request, block_id: Id, viewer: Viewer = Depends(staff(READ_BLOCKS, FEDERATION))
) -> JSON:
    async with services(request).db.read() as conn:
        return JSON(shapes.domain_block(await domains.domain_block(conn, block_id)))


@router.post(
    "/api/v1/admin/domain_blocks", responses=answers(shapes.AdminDomainBlock, errors=(422,))
)
async def create_domain_block(
    request: Request,
    viewer: Viewer = Depends(staff(WRITE_BLOCKS, FEDERATION)),
    params: DomainBlockParams = Depends(body(DomainBlockParams)),
) -> JSON:
    if not params.domain:
        raise RuleBroken("Domain can't be blank")
    async with services(request).db.write() as tx:
        block = await domains.do_block_domain(tx, params.domain, params.change(), _by(viewer))
    return JSON(shapes.domain_block(block))


@router.put(
    "/api/v1/admin/domain_blocks/{block_id}",
    responses=answers(shapes.AdminDomainBlock, errors=(404, 422)),
)
async def update_domain_block(
    request: Request,
    block_id: Id,
    viewer: Viewer = Depends(staff(WRITE_BLOCKS, FEDERATION)),
    params: DomainBlockParams = Depends(body(DomainBlockParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        block = await domains.do_change_domain_block(tx, block_id, params.change(), _by(viewer))
    return JSON(shapes.domain_block(block))


@router.delete("/api/v1/admin/domain_blocks/{block_id}", responses=answers(Empty, errors=(404,)))
async def delete_domain_block(
    request: Request, block_id: Id, viewer: Viewer = Depends(staff(WRITE_BLOCKS, FEDERATION))
) -> JSON:
    async with services(request).db.write() as tx:
        await domains.do_unblock_domain(tx, block_id, _by(viewer))
    return JSON({})


class DomainAllowParams(Params):
    domain: str | None = Field(default=None, description="The server to allow")


@router.get("/api/v1/admin/domain_allows", responses=answers(list[shapes.AdminDomainAllow]))
async def list_domain_allows(
    request: Request,
    viewer: Viewer = Depends(staff(READ_ALLOWS, FEDERATION)),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    async with services(request).db.read() as conn:
        found, newest, oldest = await domains.domain_allows(
            conn, params.page(max_limit=200, default_limit=100)
        )
    return paged_json(request, [shapes.domain_allow(a) for a in found], newest, oldest)


@router.get(
    "/api/v1/admin/domain_allows/{allow_id}",
    responses=answers(shapes.AdminDomainAllow, errors=(404,)),
)
async def get_domain_allow(
    request: Request, allow_id: Id, viewer: Viewer = Depends(staff(READ_ALLOWS, FEDERATION))
) -> JSON:
    async with services(request).db.read() as conn:
        return JSON(shapes.domain_allow(await domains.domain_allow(conn, allow_id)))


@router.post(
    "/api/v1/admin/domain_allows", responses=answers(shapes.AdminDomainAllow, errors=(422,))
)
async def create_domain_allow(
    request: Request,
    viewer: Viewer = Depends(staff(WRITE_ALLOWS, FEDERATION)),
    params: DomainAllowParams = Depends(body(DomainAllowParams)),
) -> JSON:
    if not params.domain:
        raise RuleBroken("Domain can't be blank")
    async with services(request).db.write() as tx:
        allow = await domains.do_allow_domain(tx, params.domain, _by(viewer))
    return JSON(shapes.domain_allow(allow))


@router.delete("/api/v1/admin/domain_allows/{allow_id}", responses=answers(Empty, errors=(404,)))
async def delete_domain_allow(
    request: Request, allow_id: Id, viewer: Viewer = Depends(staff(WRITE_ALLOWS, FEDERATION))
) -> JSON:
    async with services(request).db.write() as tx:
        await domains.do_disallow_domain(tx, allow_id, _by(viewer))
    return JSON({})
