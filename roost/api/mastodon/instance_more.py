"""The rest of what the instance tells apps: its longer texts (extended
description, terms of service, privacy policy), languages, translation
languages, weekly activity, peers and domain blocks."""

from __future__ import annotations

import html
from datetime import date

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import optional, services
from roost.api.mastodon import discovery_schema as shapes
from roost.api.openapi import answers
from roost.api.params import Params, Text, query
from roost.api.responses import JSON, timestamp
from roost.clock import utcnow
from roost.domain.blocks.domains import public_domain_blocks
from roost.domain.instance.activity import weekly_activity
from roost.domain.instance.languages import LANGUAGES
from roost.domain.instance.texts import default_privacy_html, instance_text
from roost.domain.types import Viewer
from roost.errors import NotFound, Unauthorized

router = APIRouter()


@router.get("/api/v1/instance/extended_description", responses=answers(shapes.ExtendedDescription))
async def extended_description(request: Request) -> JSON:
    """The operator's about text ($ROOST_DATA_DIR/instance/about.html), else
    the short description."""
    settings = services(request).settings
    text = instance_text(settings.data_dir, "about")
    if text is None:
        return JSON(
            {"updated_at": None, "content": f"<p>{html.escape(settings.instance_description)}</p>"}
        )
    return JSON({"updated_at": timestamp(text.updated_at), "content": text.html})


def _terms(request: Request) -> tuple[str, str]:
    text = instance_text(services(request).settings.data_dir, "terms")
    if text is None or text.updated_at is None:
        raise NotFound()
    return text.updated_at.date().isoformat(), text.html


class TermsParams(Params):
    date: Text = Field(default="", description="The terms in effect from this day (YYYY-MM-DD)")


@router.get(
    "/api/v1/instance/terms_of_service",
    responses=answers(shapes.TermsOfService, errors=(404,)),
)
async def terms_of_service(
    request: Request, params: TermsParams = Depends(query(TermsParams))
) -> JSON:
    """The operator's terms ($ROOST_DATA_DIR/instance/terms.html), effective
    from the day the file was last changed; 404 while there are none."""
    if params.date:
        return await terms_of_service_on(request, params.date)
    effective, content = _terms(request)
    return JSON(
        {"effective_date": effective, "effective": True, "content": content, "succeeded_by": None}
    )


@router.get(
    "/api/v1/instance/terms_of_service/{day}",
    responses=answers(shapes.TermsOfService, errors=(404,)),
)
async def terms_of_service_on(request: Request, day: str) -> JSON:
    """The terms in effect from ``day`` (YYYY-MM-DD): only the current ones are kept."""
    try:
        asked = date.fromisoformat(day).isoformat()
    except ValueError:
        raise NotFound() from None
    effective, content = _terms(request)
    if asked != effective:
        raise NotFound()
    return JSON(
        {"effective_date": effective, "effective": True, "content": content, "succeeded_by": None}
    )


@router.get("/api/v1/instance/privacy_policy", responses=answers(shapes.PrivacyPolicy))
async def privacy_policy(request: Request) -> JSON:
    """The operator's policy ($ROOST_DATA_DIR/instance/privacy.html), else the
    default that says what Roost keeps (the same as /privacy-policy)."""
    settings = services(request).settings
    text = instance_text(settings.data_dir, "privacy")
    if text is None:
        default = default_privacy_html(settings.instance_title, settings.contact_email)
        return JSON({"updated_at": None, "content": default})
    return JSON({"updated_at": timestamp(text.updated_at), "content": text.html})


@router.get("/api/v1/instance/languages", responses=answers(list[shapes.Language]))
async def languages() -> JSON:
    """Every language a post may be written in (ISO 639-1)."""
    return JSON([{"code": code, "name": name} for code, name in LANGUAGES])


@router.get("/api/v1/instance/translation_languages", responses=answers(dict[str, list[str]]))
async def translation_languages() -> JSON:
    """Which languages can be translated into which: none, as Roost has no
    translation service to offer."""
    return JSON({})


@router.get("/api/v1/instance/activity", responses=answers(list[shapes.Activity]))
async def activity(request: Request) -> JSON:
    """The last twelve weeks, this one first (roost/domain/instance/activity.py)."""
    async with services(request).db.read() as conn:
        weeks = await weekly_activity(conn, utcnow())
    return JSON(
        [
            {
                "week": str(int(w.start.timestamp())),
                "statuses": str(w.statuses),
                "logins": str(w.logins),
                "registrations": str(w.registrations),
            }
            for w in weeks
        ]
    )


@router.get("/api/v1/instance/peers", responses=answers(list[str]))
async def peers() -> JSON:
    """The domains this server federates with: none until federation."""
    return JSON([])


@router.get(
    "/api/v1/instance/domain_blocks", responses=answers(list[shapes.DomainBlock], errors=(404,))
)
async def domain_blocks(request: Request, viewer: Viewer = Depends(optional("read"))) -> JSON:
    """The servers staff limited or refused (roost/domain/blocks/domains.py),
    as ROOST_SHOW_DOMAIN_BLOCKS allows: silenced and suspended ones, the
    harshest first, an obfuscated domain partly starred (its digest lets a
    reader check a domain they know)."""
    svc = services(request)
    shown = svc.settings.show_domain_blocks
    if shown == "disabled":
        raise NotFound()
    if shown == "users" and viewer.account_id is None:
        raise Unauthorized("This method requires an authenticated user")
    async with svc.db.read() as conn:
        blocks = await public_domain_blocks(conn)
    return JSON(
        [
            {
                "domain": b.public_domain,
                "digest": b.digest,
                "severity": b.severity,
                "comment": b.public_comment,
            }
            for b in blocks
        ]
    )
