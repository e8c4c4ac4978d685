"""/api/v1/admin/measures, /dimensions and /retention: the admin
dashboard's numbers (roost/domain/instance/dashboard.py says which keys
Roost computes and how). Each route needs ``view_dashboard``; keys Roost
does not compute are left out of the answer, as Mastodon leaves out those it
does not know."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services
from roost.api.mastodon import admin_schema as shapes
from roost.api.mastodon.admin import staff
from roost.api.openapi import answers
from roost.api.params import BadRequest, Count, Many, OptionalId, Params, body
from roost.api.responses import JSON
from roost.domain.instance import dashboard
from roost.domain.instance.dashboard_instances import INSTANCE_MEASURES
from roost.domain.roles.permissions import Permission
from roost.domain.types import Viewer

router = APIRouter()

DASHBOARD = Permission.VIEW_DASHBOARD
READ = "admin:read"


class PeriodParams(Params):
    start_at: str | None = Field(default=None, description="The first day (YYYY-MM-DD)")
    end_at: str | None = Field(default=None, description="The last day, included")

    def period(self) -> dashboard.Period:
        return dashboard.Period.of(_day(self.start_at, "start_at"), _day(self.end_at, "end_at"))


class KeyedParams(PeriodParams):
    keys: Many[str] = Field(default=[], description="Which measures or dimensions")


class TagParam(Params):
    id: OptionalId = Field(default=None, description="The hashtag's id")


class DomainParam(Params):
    domain: str | None = Field(default=None, max_length=253, description="The server's domain")


class MeasureParams(KeyedParams):
    # Mastodon's ``tag_accounts[id]=…``: the hashtag a tag_* measure is about.
    tag_accounts: TagParam | None = Field(default=None, description="For tag_accounts")
    tag_uses: TagParam | None = Field(default=None, description="For tag_uses")
    tag_servers: TagParam | None = Field(default=None, description="For tag_servers")

    # Mastodon's ``instance_accounts[domain]=…``: the server an instance_*
    # measure is about.
    instance_accounts: DomainParam | None = Field(default=None, description="For instance_accounts")
    instance_statuses: DomainParam | None = Field(default=None, description="For instance_statuses")
    instance_media_attachments: DomainParam | None = Field(
        default=None, description="For instance_media_attachments"
    )
    instance_follows: DomainParam | None = Field(default=None, description="For instance_follows")
    instance_followers: DomainParam | None = Field(
        default=None, description="For instance_followers"
    )
    instance_reports: DomainParam | None = Field(default=None, description="For instance_reports")

    def domains(self) -> dict[str, str]:
        """The domain of each instance_* key that names one."""
        found = {}
        for name in INSTANCE_MEASURES:
            chosen: DomainParam | None = getattr(self, name)
            if chosen is not None and chosen.domain and chosen.domain.strip():
                found[name] = chosen.domain
        return found

    def tag_ids(self) -> dict[str, int | None]:
        return {
            name: chosen.id
            for name, chosen in (
                ("tag_accounts", self.tag_accounts),
                ("tag_uses", self.tag_uses),
                ("tag_servers", self.tag_servers),
            )
            if chosen is not None
        }


class DimensionParams(KeyedParams):
    limit: Count | None = Field(default=None, description="How many items per dimension")


class RetentionParams(PeriodParams):
    frequency: str | None = Field(default=None, description="day or month")


def _day(text: str | None, name: str) -> date:
    """``2024-05-01``, or a full ISO time (its UTC day), as Mastodon.py sends."""
    if not text:
        raise BadRequest(f"param is missing or the value is empty: {name}")
    try:
        if len(text) > 10:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment.date() if moment.tzinfo is None else moment.astimezone(UTC).date()
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} is not a date such as 2024-05-01") from None


def _midnight(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


@router.post("/api/v1/admin/measures", responses=answers(list[shapes.AdminMeasure]))
async def measures(
    request: Request,
    viewer: Viewer = Depends(staff(READ, DASHBOARD)),
    params: MeasureParams = Depends(body(MeasureParams)),
) -> JSON:
    """Per UTC day and in total: active_users, new_users, interactions,
    opened_reports, resolved_reports; tag_accounts, tag_uses and tag_servers
    for the hashtag each one's [id] names (a tag_* key without a known
    hashtag answers 404); instance_accounts, instance_statuses,
    instance_media_attachments (bytes), instance_follows, instance_followers
    and instance_reports for the server each one's [domain] names (left
    out without one). Other keys are left out."""
    period = params.period()
    async with services(request).db.read() as conn:
        found = await dashboard.measures(
            conn, params.keys, period, params.tag_ids(), params.domains()
        )
    return JSON(
        [
            {
                "key": m.key,
                "unit": m.unit,
                "total": str(m.total),
                "human_value": None,
                "previous_total": str(m.previous_total),
                "data": [{"date": _midnight(d), "value": str(v)} for d, v in m.data],
            }
            for m in found
        ]
    )


def _item(item: dashboard.DimensionItem) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "key": item.key,
        "human_key": item.human_key,
        "value": str(item.value),
    }
    if item.unit is not None:
        shown["unit"] = item.unit
    if item.human_value is not None:
        shown["human_value"] = item.human_value
    return shown


@router.post("/api/v1/admin/dimensions", responses=answers(list[shapes.AdminDimension]))
async def dimensions(
    request: Request,
    viewer: Viewer = Depends(staff(READ, DASHBOARD)),
    params: DimensionParams = Depends(body(DimensionParams)),
) -> JSON:
    """languages, sources, software_versions, space_usage (other keys left out)."""
    period = params.period()
    limit = max(1, min(params.limit or 10, 100))
    async with services(request).db.read() as conn:
        found = await dashboard.dimensions(conn, params.keys, period, limit)
    return JSON([{"key": d.key, "data": [_item(i) for i in d.data]} for d in found])


@router.post("/api/v1/admin/retention", responses=answers(list[shapes.AdminCohort]))
async def retention(
    request: Request,
    viewer: Viewer = Depends(staff(READ, DASHBOARD)),
    params: RetentionParams = Depends(body(RetentionParams)),
) -> JSON:
    """Cohorts of sign-ups per day (at most 62) or month, and the share of
    each active in every later one."""
    period = params.period()
    async with services(request).db.read() as conn:
        cohorts = await dashboard.retention(conn, period, params.frequency or "day")
    return JSON(
        [
            {
                "period": _midnight(c.period),
                "frequency": c.frequency,
                "data": [
                    {"date": _midnight(d), "rate": rate, "value": str(value)}
                    for d, rate, value in c.data
                ],
            }
            for c in cohorts
        ]
    )
