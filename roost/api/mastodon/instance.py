"""What apps ask at start-up: the instance, and empty-but-correct answers for
features this server does not have yet."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from roost.api.auth import optional, services, user
from roost.api.mastodon import instance_entity, schema
from roost.api.openapi import answers
from roost.api.responses import JSON
from roost.clock import utcnow
from roost.domain.accounts.queries import user_settings
from roost.domain.instance.activity import usage
from roost.domain.instance.rules import rules as instance_rules
from roost.domain.instance.statistics import statistics
from roost.domain.types import Viewer

router = APIRouter()


@router.get("/api/v1/instance/rules", responses=answers(list[schema.Rule]))
async def rules(request: Request, viewer: Viewer = Depends(optional("read"))) -> JSON:
    async with services(request).db.read() as conn:
        found = await instance_rules(conn)
    return JSON([instance_entity.rule(r) for r in found])


async def _rules_json(request: Request) -> list[dict[str, str]]:
    async with services(request).db.read() as conn:
        return [instance_entity.rule(r) for r in await instance_rules(conn)]


async def _stats(request: Request) -> tuple[int, int, object]:
    async with services(request).db.read() as conn:
        found = await statistics(conn)
    return found.users, found.statuses, found.contact


@router.get("/api/v2/instance", responses=answers(schema.InstanceV2))
async def instance_v2(request: Request) -> JSON:
    _, _, contact = await _stats(request)
    async with services(request).db.read() as conn:
        # Accounts active in the last 30 days (roost/domain/instance/activity.py).
        active = (await usage(conn, utcnow())).active_month
    data = instance_entity.instance_v2(services(request).settings, active, contact)  # type: ignore[arg-type]
    data["rules"] = await _rules_json(request)
    return JSON(data)


@router.get("/api/v1/instance", responses=answers(schema.InstanceV1))
async def instance_v1(request: Request) -> JSON:
    users_n, statuses_n, contact = await _stats(request)
    data = instance_entity.instance_v1(services(request).settings, users_n, statuses_n, contact)  # type: ignore[arg-type]
    data["rules"] = await _rules_json(request)
    return JSON(data)


@router.get("/api/v1/preferences", responses=answers(schema.Preferences))
async def preferences(request: Request, viewer: Viewer = Depends(user("read:accounts"))) -> JSON:
    assert viewer.account_id is not None
    async with services(request).db.read() as conn:
        prefs = await user_settings(conn, viewer.account_id)
    assert prefs is not None
    return JSON(
        {
            "posting:default:visibility": prefs.default_visibility,
            "posting:default:sensitive": prefs.default_sensitive,
            "posting:default:language": prefs.default_language,
            "posting:default:quote_policy": prefs.default_quote_policy,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )
