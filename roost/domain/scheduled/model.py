"""A scheduled post as the domain knows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from roost.domain.polls.actions import NewPoll
from roost.domain.types import MediaAttachment, Visibility


@dataclass(frozen=True)
class ScheduledPost:
    """A post waiting for its time, with the parameters it will be posted with
    and the uploads it holds (its author's own)."""

    id: int
    account_id: int
    scheduled_at: datetime
    text: str
    spoiler_text: str
    visibility: Visibility
    in_reply_to_id: int | None
    sensitive: bool
    language: str | None
    media_ids: tuple[int, ...]
    poll: NewPoll | None
    application_id: int | None
    quoted_status_id: int | None = None
    quote_policy: str | None = None
    media: tuple[MediaAttachment, ...] = ()
