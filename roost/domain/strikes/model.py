"""What a strike and an appeal are, as the faces show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Mastodon's AccountWarning actions that Roost takes.
ACTIONS = ("none", "sensitive", "disable", "silence", "suspend")
# An appeal is accepted only this long after the strike (Mastodon's 20 days).
APPEAL_WINDOW = timedelta(days=20)
MAX_APPEAL = 2000
MAX_TEXT = 5000


@dataclass(frozen=True)
class Appeal:
    id: int
    account_id: int
    warning_id: int
    text: str
    created_at: datetime
    approved_at: datetime | None
    rejected_at: datetime | None

    @property
    def state(self) -> str:
        if self.approved_at is not None:
            return "approved"
        return "rejected" if self.rejected_at is not None else "pending"


@dataclass(frozen=True)
class Warning:
    id: int
    account_id: int
    action: str
    text: str
    report_id: int | None
    created_at: datetime
    overruled_at: datetime | None
    appeal: Appeal | None

    def appealable(self, now: datetime) -> bool:
        return (
            self.action != "none"
            and self.appeal is None
            and self.overruled_at is None
            and now - self.created_at < APPEAL_WINDOW
        )
