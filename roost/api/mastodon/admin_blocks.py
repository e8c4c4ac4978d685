"""/api/v1/admin/email_domain_blocks, /api/v1/admin/ip_blocks and
/api/v1/admin/canonical_email_blocks: who may sign up, and from where
(roost/domain/accounts/email_domains.py, roost/domain/blocks/ip.py and
canonical_emails.py, which say how each is enforced). Each route needs
``manage_blocks``; each change is in the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services
from roost.api.mastodon import admin_schema as shapes
from roost.api.mastodon._common import PageParams
from roost.api.mastodon.admin import staff
from roost.api.mastodon.schema import Empty
from roost.api.openapi import answers
from roost.api.params import Count, Id, Params, body, query
from roost.api.responses import JSON, paged_json
from roost.domain.accounts import email_domains
from roost.domain.audit.chain import Staff
from roost.domain.blocks import canonical_emails
from roost.domain.blocks import ip as ip_blocks
from roost.domain.roles.permissions import Permission
from roost.domain.types import Viewer
from roost.errors import RuleBroken

router = APIRouter()

BLOCKS = Permission.MANAGE_BLOCKS
READ_EMAIL, WRITE_EMAIL = "admin:read:email_domain_blocks", "admin:write:email_domain_blocks"
READ_IP, WRITE_IP = "admin:read:ip_blocks", "admin:write:ip_blocks"
READ_CANON = "admin:read:canonical_email_blocks"
WRITE_CANON = "admin:write:canonical_email_blocks"


def _by(viewer: Viewer) -> Staff:
    return Staff(viewer.account_id, "api")


# -- e-mail domain blocks ---------------------------------------------------------


class EmailDomainParams(Params):
    domain: str | None = Field(default=None, description="The e-mail domain to refuse")


@router.get(
    "/api/v1/admin/email_domain_blocks", responses=answers(list[shapes.AdminEmailDomainBlock])
)
async def list_email_domain_blocks(
    request: Request,
    viewer: Viewer = Depends(staff(READ_EMAIL, BLOCKS)),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    async with services(request).db.read() as conn:
        found, newest, oldest = await email_domains.email_domain_block_page(
            conn, params.page(max_limit=200, default_limit=100)
        )
    return paged_json(request, [shapes.email_domain_block(b) for b in found], newest, oldest)


@router.get(
    "/api/v1/admin/email_domain_blocks/{block_id}",
    responses=answers(shapes.AdminEmailDomainBlock, errors=(404,)),
)
async def get_email_domain_block(
    request: Request, block_id: Id, viewer: Viewer = Depends(staff(READ_EMAIL, BLOCKS))
) -> JSON:
    async with services(request).db.read() as conn:
        return JSON(
            shapes.email_domain_block(await email_domains.email_domain_block(conn, block_id))
        )


@router.post(
    "/api/v1/admin/email_domain_blocks",
    responses=answers(shapes.AdminEmailDomainBlock, errors=(422,)),
)
async def create_email_domain_block(
    request: Request,
    viewer: Viewer = Depends(staff(WRITE_EMAIL, BLOCKS)),
    params: EmailDomainParams = Depends(body(EmailDomainParams)),
) -> JSON:
    if not params.domain:
        raise RuleBroken("Domain can't be blank")
    async with services(request).db.write() as tx:
        block, new = await email_domains.do_block_email_domain(tx, params.domain, _by(viewer))
    if not new:
        raise RuleBroken("Domain has already been taken")
    return JSON(shapes.email_domain_block(block))


@router.delete(
    "/api/v1/admin/email_domain_blocks/{block_id}", responses=answers(Empty, errors=(404,))
)
async def delete_email_domain_block(
    request: Request, block_id: Id, viewer: Viewer = Depends(staff(WRITE_EMAIL, BLOCKS))
) -> JSON:
    async with services(request).db.write() as tx:
        block = await email_domains.email_domain_block(tx.conn, block_id)
        await email_domains.do_unblock_email_domain(tx, block.domain, _by(viewer))
    return JSON({})


# -- IP blocks --------------------------------------------------------------------


class IpBlockParams(Params):
    ip: str | None = Field(default=None, description="An address or a CIDR range")
    severity: str | None = Field(
        default=None, description="sign_up_requires_approval, sign_up_block or no_access"
    )
    comment: str | None = Field(default=None, description="Why, for staff")
    expires_in: Count | None = Field(default=None, description="Seconds until it lapses")

    def change(self) -> ip_blocks.IpBlockChange:
        return ip_blocks.IpBlockChange(
            ip=self.ip or None,
            severity=self.severity or None,
            comment=self.comment,
            expires_in=self.expires_in,
        )


def _changed(request: Request) -> None:
    """A change committed: the ``no_access`` ranges are read again at once."""
    request.app.state.ip_access.forget()


@router.get("/api/v1/admin/ip_blocks", responses=answers(list[shapes.AdminIpBlock]))
async def list_ip_blocks(
    request: Request,
    viewer: Viewer = Depends(staff(READ_IP, BLOCKS)),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    async with services(request).db.read() as conn:
        found, newest, oldest = await ip_blocks.ip_block_list(
            conn, params.page(max_limit=200, default_limit=100)
        )
    return paged_json(request, [shapes.ip_block(b) for b in found], newest, oldest)


@router.get(
    "/api/v1/admin/ip_blocks/{block_id}", responses=answers(shapes.AdminIpBlock, errors=(404,))
)
async def get_ip_block(
    request: Request, block_id: Id, viewer: Viewer = Depends(staff(READ_IP, BLOCKS))
) -> JSON:
    async with services(request).db.read() as conn:
        return JSON(shapes.ip_block(await ip_blocks.ip_block(conn, block_id)))


@router.post("/api/v1/admin/ip_blocks", responses=answers(shapes.AdminIpBlock, errors=(422,)))
async def create_ip_block(
    request: Request,
    viewer: Viewer = Depends(staff(WRITE_IP, BLOCKS)),
    params: IpBlockParams = Depends(body(IpBlockParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        block = await ip_blocks.do_block_ip(tx, params.change(), _by(viewer))
    _changed(request)
    return JSON(shapes.ip_block(block))


@router.put(
    "/api/v1/admin/ip_blocks/{block_id}",
    responses=answers(shapes.AdminIpBlock, errors=(404, 422)),
)
async def update_ip_block(
    request: Request,
    block_id: Id,
    viewer: Viewer = Depends(staff(WRITE_IP, BLOCKS)),
    params: IpBlockParams = Depends(body(IpBlockParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        block = await ip_blocks.do_change_ip_block(tx, block_id, params.change(), _by(viewer))
    _changed(request)
    return JSON(shapes.ip_block(block))


@router.delete("/api/v1/admin/ip_blocks/{block_id}", responses=answers(Empty, errors=(404,)))
async def delete_ip_block(
    request: Request, block_id: Id, viewer: Viewer = Depends(staff(WRITE_IP, BLOCKS))
) -> JSON:
    async with services(request).db.write() as tx:
        await ip_blocks.do_unblock_ip(tx, block_id, _by(viewer))
    _changed(request)
    return JSON({})


# -- canonical e-mail blocks --------------------------------------------------------


class CanonicalEmailParams(Params):
    email: str | None = Field(default=None, description="An address, in any spelling")
    canonical_email_hash: str | None = Field(
        default=None, description="Or the SHA-256 of its canonical form"
    )


class EmailParams(Params):
    email: str | None = Field(default=None, description="The address to test")


@router.get(
    "/api/v1/admin/canonical_email_blocks",
    responses=answers(list[shapes.AdminCanonicalEmailBlock]),
)
async def list_canonical_email_blocks(
    request: Request,
    viewer: Viewer = Depends(staff(READ_CANON, BLOCKS)),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    async with services(request).db.read() as conn:
        found, newest, oldest = await canonical_emails.canonical_email_block_list(
            conn, params.page(max_limit=200, default_limit=100)
        )
    return paged_json(request, [shapes.canonical_email_block(b) for b in found], newest, oldest)


@router.get(
    "/api/v1/admin/canonical_email_blocks/{block_id}",
    responses=answers(shapes.AdminCanonicalEmailBlock, errors=(404,)),
)
async def get_canonical_email_block(
    request: Request, block_id: Id, viewer: Viewer = Depends(staff(READ_CANON, BLOCKS))
) -> JSON:
    async with services(request).db.read() as conn:
        block = await canonical_emails.canonical_email_block(conn, block_id)
    return JSON(shapes.canonical_email_block(block))


@router.post(
    "/api/v1/admin/canonical_email_blocks/test",
    responses=answers(list[shapes.AdminCanonicalEmailBlock]),
)
async def test_canonical_email(
    request: Request,
    viewer: Viewer = Depends(staff(READ_CANON, BLOCKS)),
    params: EmailParams = Depends(body(EmailParams)),
) -> JSON:
    """The blocks that would refuse ``email`` (an empty list: none)."""
    async with services(request).db.read() as conn:
        found = await canonical_emails.matching(conn, params.email or "")
    return JSON([shapes.canonical_email_block(b) for b in found])


@router.post(
    "/api/v1/admin/canonical_email_blocks",
    responses=answers(shapes.AdminCanonicalEmailBlock, errors=(422,)),
)
async def create_canonical_email_block(
    request: Request,
    viewer: Viewer = Depends(staff(WRITE_CANON, BLOCKS)),
    params: CanonicalEmailParams = Depends(body(CanonicalEmailParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        block = await canonical_emails.do_block_canonical_email(
            tx, email=params.email, digest=params.canonical_email_hash, by=_by(viewer)
        )
    return JSON(shapes.canonical_email_block(block))


@router.delete(
    "/api/v1/admin/canonical_email_blocks/{block_id}", responses=answers(Empty, errors=(404,))
)
async def delete_canonical_email_block(
    request: Request, block_id: Id, viewer: Viewer = Depends(staff(WRITE_CANON, BLOCKS))
) -> JSON:
    async with services(request).db.write() as tx:
        await canonical_emails.do_unblock_canonical_email(tx, block_id, _by(viewer))
    return JSON({})
