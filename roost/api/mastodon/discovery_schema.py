"""The documented shapes of the discovery answers (directory, suggestions,
featured tags, familiar followers, user domain blocks, the instance's
longer texts and NodeInfo); see schema.py for what these models are for."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from roost.api.mastodon.schema import Account, Entity, IdText, Tag, Timestamp


class FeaturedTag(Entity):
    id: IdText
    name: str
    url: str
    statuses_count: str
    last_status_at: str | None = Field(description="The day (YYYY-MM-DD) of the newest post")


class FeaturingTag(Tag):
    featuring: bool | None = Field(default=None, description="Only to a signed-in viewer")


class SuggestionV1(Account):
    """v1 answers the accounts themselves."""


class Suggestion(Entity):
    source: str = Field(description="Deprecated: staff or past_interactions")
    sources: list[str] = Field(description="featured and/or friends_of_friends")
    account: Account


class FamiliarFollowers(Entity):
    id: IdText
    accounts: list[Account]


class ExtendedDescription(Entity):
    updated_at: Timestamp | None
    content: str


class TermsOfService(Entity):
    effective_date: str
    effective: bool
    content: str
    succeeded_by: str | None


class PrivacyPolicy(Entity):
    updated_at: Timestamp | None
    content: str


class Language(Entity):
    code: str
    name: str


class Activity(Entity):
    week: str
    statuses: str
    logins: str
    registrations: str


class DomainBlock(Entity):
    domain: str
    digest: str
    severity: str
    comment: str | None = None


class NodeInfoLinks(Entity):
    links: list[dict[str, str]]


class NodeInfo(Entity):
    version: str
    software: dict[str, str]
    protocols: list[str]
    services: dict[str, list[str]]
    usage: dict[str, Any]
    openRegistrations: bool
    metadata: dict[str, Any]


class UserInfo(Entity):
    iss: str
    sub: str
    name: str
    preferred_username: str
    profile: str
    picture: str
