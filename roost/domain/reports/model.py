"""A report as the domain knows it, with the snapshot of its posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

CATEGORIES = ("spam", "legal", "violation", "other")
MAX_COMMENT = 1000
MAX_STATUSES = 50


@dataclass(frozen=True)
class ReportedPost:
    """A reported post as it was when reported (kept after the post is deleted)."""

    status_id: int
    account_id: int
    content: str
    spoiler_text: str
    media: list[dict[str, Any]]
    visibility: int
    posted_at: datetime


@dataclass(frozen=True)
class Report:
    id: int
    account_id: int  # the reporter
    target_account_id: int
    comment: str
    category: str
    forward: bool
    assigned_account_id: int | None
    action_taken_at: datetime | None
    action_taken_by_account_id: int | None
    created_at: datetime
    updated_at: datetime
    status_ids: list[int]
    rule_ids: list[int]
    posts: list[ReportedPost]

    @property
    def action_taken(self) -> bool:
        return self.action_taken_at is not None
