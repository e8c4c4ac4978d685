"""What happened, as the streaming layer hears of it: ids only, never content.

Events carry ids so that each subscriber's copy is loaded through the privacy
policy for that subscriber; nothing rendered for one viewer is ever sent to
another. They are plain data so a bus between processes can carry them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUS_CREATED = "status.created"
STATUS_EDITED = "status.edited"
STATUS_DELETED = "status.deleted"
NOTIFICATION = "notification"
NOTIFICATIONS_MERGED = "notifications.merged"
FILTERS_CHANGED = "filters.changed"
ANNOUNCEMENT = "announcement"
ANNOUNCEMENT_DELETED = "announcement.deleted"
ANNOUNCEMENT_REACTION = "announcement.reaction"
# Not for streaming clients: tells other processes' page caches (roost/web).
ACCOUNT_CHANGED = "account.changed"
# Not for streaming clients either: a post's words or card changed without an
# edit (roost/domain/events.py StatusRewritten); caches of its parts forget it.
STATUS_REWRITTEN = "status.rewritten"


@dataclass(frozen=True, slots=True)
class StreamEvent:
    kind: str
    status_id: int | None = None
    author_id: int | None = None
    # For a deleted post, who could have seen it: its visibility and the
    # accounts it mentioned (the rows are gone by the time the event is routed).
    visibility: int | None = None
    audience: tuple[int, ...] = field(default_factory=tuple)
    notification_id: int | None = None
    recipient_id: int | None = None
    announcement_id: int | None = None
    # The reaction (an emoji or a custom emoji's shortcode) of an
    # announcement.reaction event.
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["audience"] = list(self.audience)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamEvent:
        # Fields this version does not know are dropped: during a rolling
        # upgrade an older process hears a newer one's events. (A field added
        # to the event must wait for a release after the one that first
        # drops them: 0.1.0 refuses such an event whole, as malformed.)
        values = {k: v for k, v in data.items() if k in _FIELDS}
        values["audience"] = tuple(values.get("audience") or ())
        return cls(**values)


_FIELDS = frozenset(StreamEvent.__dataclass_fields__)
