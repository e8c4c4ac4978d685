"""What tools outside the client API ask: NodeInfo (``/.well-known/nodeinfo``,
``/nodeinfo/2.0``, ``/nodeinfo/2.1``), Mastodon's ``/health`` and ``HEAD /``.

NodeInfo names the software ``roost`` and says it speaks the Mastodon client
API (``metadata.upstream``, which client libraries such as megalodon read to
pick their Mastodon driver). ``protocols`` is ``["activitypub"]`` while
federation is on (``ROOST_FEDERATION``), else empty: claiming ActivityPub
would send other servers to an inbox that answers 404 (the NodeInfo schema
asks for at least one; an honest empty list is what Roost can say then).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from roost import __version__
from roost.api.auth import services
from roost.api.mastodon import discovery_schema as shapes
from roost.api.mastodon.serializers import MASTODON_VERSION
from roost.api.openapi import answers
from roost.api.responses import JSON
from roost.clock import utcnow
from roost.domain.instance.activity import usage

router = APIRouter()

_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"
_PROFILE = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{}#"'
SOURCE = "https://github.com/roost-social/roost"


@router.get("/.well-known/nodeinfo", responses=answers(shapes.NodeInfoLinks))
async def nodeinfo_links(request: Request) -> JSON:
    """Where the NodeInfo documents are."""
    base = services(request).settings.base_url
    return JSON(
        {
            "links": [
                {"rel": f"{_SCHEMA}{v}", "href": f"{base}/nodeinfo/{v}"} for v in ("2.0", "2.1")
            ]
        }
    )


async def _document(request: Request, schema: str) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        counts = await usage(conn, utcnow())
    software: dict[str, str] = {"name": "roost", "version": __version__}
    if schema == "2.1":
        software |= {"repository": SOURCE, "homepage": SOURCE}
    settings = svc.settings
    body: dict[str, Any] = {
        "version": schema,
        "software": software,
        "protocols": ["activitypub"] if settings.federation else [],
        "services": {"outbound": [], "inbound": []},
        "usage": {
            "users": {
                "total": counts.users,
                "activeMonth": counts.active_month,
                "activeHalfyear": counts.active_halfyear,
            },
            "localPosts": counts.local_posts,
        },
        # As Mastodon: sign-ups that wait for approval still count as open.
        "openRegistrations": settings.registrations != "closed",
        "metadata": {
            "nodeName": settings.instance_title,
            "nodeDescription": settings.instance_description,
            "upstream": {"name": "mastodon", "version": MASTODON_VERSION},
        },
    }
    return JSON(body, media_type=_PROFILE.format(schema))


@router.get("/nodeinfo/2.0", responses=answers(shapes.NodeInfo))
async def nodeinfo_20(request: Request) -> JSON:
    """NodeInfo 2.0: the software, its protocols and its usage."""
    return await _document(request, "2.0")


@router.get("/nodeinfo/2.1", responses=answers(shapes.NodeInfo))
async def nodeinfo_21(request: Request) -> JSON:
    """NodeInfo 2.1: 2.0 with the software's repository and home page."""
    return await _document(request, "2.1")


@router.get(
    "/health",
    response_class=PlainTextResponse,
    responses=answers(description="OK", media_type="text/plain", steady=True),
)
async def health() -> Response:
    """Mastodon's liveness check: the process answers (see /readyz for its
    dependencies)."""
    return PlainTextResponse("OK")


@router.head(
    "/",
    responses=answers(
        description="The home page's headers", media_type="text/html; charset=utf-8", steady=True
    ),
)
async def home_head() -> Response:
    """What uptime checks ask of the home page: that the server answers."""
    return Response(media_type="text/html; charset=utf-8")
