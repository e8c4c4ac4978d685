"""Mastodon's JSON for notifications v2: GroupedNotificationsResults,
NotificationGroup, NotificationPolicy and NotificationRequest (entity
rendering, and their shapes for the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from roost.api.mastodon import schema, serializers
from roost.api.responses import timestamp
from roost.domain.notifications.grouped import GroupedPage, NotificationGroup
from roost.domain.notifications.policy import FIELDS, NotificationPolicy
from roost.domain.notifications.requests import RequestView
from roost.domain.privacy import Visible


class NotificationGroupEntity(schema.Entity):
    group_key: str
    notifications_count: int
    type: str
    most_recent_notification_id: schema.IdText
    page_min_id: schema.IdText | None = None
    page_max_id: schema.IdText | None = None
    latest_page_notification_at: schema.Timestamp | None = None
    sample_account_ids: list[schema.IdText]
    status_id: schema.IdText | None = None


class PartialAccount(schema.Entity):
    id: schema.IdText
    acct: str
    url: str
    avatar: str
    avatar_static: str
    locked: bool
    bot: bool


class GroupedNotificationsResults(schema.Entity):
    accounts: list[schema.Account]
    partial_accounts: list[PartialAccount] | None = None
    statuses: list[schema.Status]
    notification_groups: list[NotificationGroupEntity]


class PolicySummary(schema.Entity):
    pending_requests_count: int
    pending_notifications_count: int


class NotificationPolicyEntity(schema.Entity):
    for_not_following: str
    for_not_followers: str
    for_new_accounts: str
    for_private_mentions: str
    for_limited_accounts: str
    summary: PolicySummary


class NotificationRequest(schema.Entity):
    id: schema.IdText
    created_at: schema.Timestamp
    updated_at: schema.Timestamp
    account: schema.Account
    notifications_count: str
    last_status: schema.Status | None


class Merged(schema.Entity):
    merged: bool


def group(found: NotificationGroup, *, paged: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "group_key": found.group_key,
        "notifications_count": found.notifications_count,
        "type": found.type,
        "most_recent_notification_id": str(found.most_recent_notification_id),
        "sample_account_ids": [str(a) for a in found.sample_account_ids],
    }
    if paged and found.page_min_id is not None and found.page_max_id is not None:
        data["page_min_id"] = str(found.page_min_id)
        data["page_max_id"] = str(found.page_max_id)
        data["latest_page_notification_at"] = timestamp(found.latest_at)
    if found.status_id is not None:
        data["status_id"] = str(found.status_id)
    return data


def _partial(full: dict[str, Any]) -> dict[str, Any]:
    return {
        name: full[name]
        for name in ("id", "acct", "url", "avatar", "avatar_static", "locked", "bot")
    }


def results(
    page: GroupedPage, base: str, *, paged: bool, partial_avatars: bool = False
) -> dict[str, Any]:
    """GroupedNotificationsResults. With ``partial_avatars``, only each group's
    most recent account is rendered in full; the others in ``partial_accounts``."""
    rendered = {cleared.value.id: serializers.account(cleared, base) for cleared in page.accounts}
    data: dict[str, Any] = {
        "accounts": list(rendered.values()),
        "statuses": [serializers.status(cleared, base) for cleared in page.statuses],
        "notification_groups": [group(g, paged=paged) for g in page.groups],
    }
    if partial_avatars:
        full = {g.sample_account_ids[0] for g in page.groups if g.sample_account_ids}
        data["accounts"] = [a for i, a in rendered.items() if i in full]
        data["partial_accounts"] = [_partial(a) for i, a in rendered.items() if i not in full]
    return data


def policy(found: NotificationPolicy, pending: tuple[int, int]) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(found, name) for name in FIELDS}
    data["summary"] = {
        "pending_requests_count": pending[0],
        "pending_notifications_count": pending[1],
    }
    return data


def request(cleared: Visible[RequestView], base: str) -> dict[str, Any]:
    view = cleared.value
    last = view.last_status
    return {
        "id": str(view.id),
        "created_at": timestamp(view.created_at),
        "updated_at": timestamp(view.updated_at),
        "account": serializers.account(cleared.derive(lambda v: v.account), base),
        # A string, as Mastodon sends it.
        "notifications_count": str(view.notifications_count),
        "last_status": (
            serializers.status(cleared.derive(lambda _v: last), base) if last is not None else None
        ),
    }
