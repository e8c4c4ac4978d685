"""The shapes of the viewer's own profile (Profile API) and annual reports,
for the OpenAPI document only (as schema.py; kept apart to keep that file's
catalogue from growing)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from roost.api.mastodon.discovery_schema import FeaturedTag
from roost.api.mastodon.schema import Account, Entity, IdText, ProfileField, Status


class Profile(Entity):
    """The viewer's own profile as its editor reads it (Mastodon 4.6)."""

    id: IdText
    display_name: str
    note: str = Field(description="The bio as typed")
    fields: list[ProfileField]
    avatar: str | None
    avatar_static: str | None
    avatar_description: str
    header: str | None
    header_static: str | None
    header_description: str
    locked: bool
    bot: bool
    hide_collections: bool | None
    discoverable: bool | None
    indexable: bool
    show_media: bool
    show_media_replies: bool
    show_featured: bool
    attribution_domains: list[str]
    featured_tags: list[FeaturedTag]


class AnnualReport(Entity):
    year: int
    data: dict[str, Any] = Field(
        description="archetype, time_series, top_hashtags, top_statuses (schema version 2)"
    )
    schema_version: int
    share_url: str | None
    account_id: IdText


class WrappedAnnualReports(Entity):
    annual_reports: list[AnnualReport]
    accounts: list[Account]
    statuses: list[Status]


class AnnualReportState(Entity):
    state: str = Field(description="available, generating, eligible or ineligible")


class AsyncRefresh(Entity):
    id: str
    status: str = Field(description="running or finished")


class AsyncRefreshWrapper(Entity):
    async_refresh: AsyncRefresh
