"""Filters, as the domain sees them: a titled group of keywords (and posts)
that hides or warns about matching posts in the contexts it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

HOME = "home"
NOTIFICATIONS = "notifications"
PUBLIC = "public"
THREAD = "thread"
ACCOUNT = "account"
CONTEXTS = (HOME, NOTIFICATIONS, PUBLIC, THREAD, ACCOUNT)

WARN = "warn"
HIDE = "hide"
ACTIONS = (WARN, HIDE)


@dataclass(frozen=True, slots=True)
class FilterKeyword:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True, slots=True)
class FilterStatus:
    id: int
    filter_id: int
    status_id: int


@dataclass(frozen=True, slots=True)
class Filter:
    id: int
    title: str
    context: tuple[str, ...]
    action: str
    expires_at: datetime | None
    keywords: tuple[FilterKeyword, ...] = ()
    statuses: tuple[FilterStatus, ...] = ()

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True, slots=True)
class FilterMatch:
    """A filter that matched one post: which keywords, and whether the post
    itself is in the filter (Mastodon's FilterResult)."""

    filter: Filter
    keyword_matches: tuple[str, ...] | None
    status_matches: tuple[int, ...] | None
