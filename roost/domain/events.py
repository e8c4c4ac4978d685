"""Domain events: facts a committed change announces (Zulip's send_event_on_commit).

Actions call ``tx.emit(...)``; the database layer hands the events to its
listeners only after the transaction commits, so nobody hears of a change that
was rolled back. Listeners (the streaming bus) live outside the domain; the
domain does not know who listens.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StatusCreated:
    status_id: int
    author_id: int
    # The post it replies to, when the action that made it says (a listener
    # then need not read it back): ``parent_known`` tells None "no parent"
    # from None "not said".
    in_reply_to_id: int | None = None
    parent_known: bool = False


@dataclass(frozen=True, slots=True)
class StatusEdited:
    status_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class StatusRewritten:
    """The post's words changed without an edit of its author's (an import
    pointing a link at a post it imported later): nothing to announce to
    readers, but no cache may keep the old words."""

    status_id: int


@dataclass(frozen=True, slots=True)
class StatusDeleted:
    status_id: int
    author_id: int
    visibility: int
    # Who was mentioned: with the visibility, enough to tell afterwards who
    # could have seen the post, once its rows are gone.
    mentioned_ids: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ListTimelineChanged:
    """What a list's timeline shows changed (its members or replies policy),
    or the list is gone: the process that made the change drops the list's
    kept timeline at once, so that its owner's next read is current (the
    ``list.changed`` job does it too, for a Redis that was away)."""

    owner_id: int
    list_id: int


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """What others see of the account changed: its profile (names, note,
    fields, images, settings), or it was suspended or reinstated. Caches of
    pages showing it drop them (roost/web/cache.py)."""

    account_id: int


@dataclass(frozen=True, slots=True)
class NotificationCreated:
    notification_id: int
    recipient_id: int


@dataclass(frozen=True, slots=True)
class NotificationsMerged:
    """Notifications held back from strangers were let through (a notification
    request accepted): the account's apps read their notifications again."""

    account_id: int


@dataclass(frozen=True, slots=True)
class FiltersChanged:
    """The account's filters (or their keywords or posts) changed: its apps
    read them again."""

    account_id: int


@dataclass(frozen=True, slots=True)
class AnnouncementPublished:
    """An announcement running now was published or changed."""

    announcement_id: int


@dataclass(frozen=True, slots=True)
class AnnouncementRemoved:
    announcement_id: int


@dataclass(frozen=True, slots=True)
class AnnouncementReacted:
    """Someone added or took back the reaction ``name`` on an announcement."""

    announcement_id: int
    name: str


DomainEvent = (
    StatusCreated
    | StatusEdited
    | StatusRewritten
    | StatusDeleted
    | AccountChanged
    | NotificationCreated
    | NotificationsMerged
    | FiltersChanged
    | AnnouncementPublished
    | AnnouncementRemoved
    | AnnouncementReacted
)
