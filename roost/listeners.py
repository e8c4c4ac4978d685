"""What committed domain events set off outside the domain: stream events
on the bus, and a changed list's kept timeline dropped at once.

Wiring, above the domain, the bus and the timeline stores (roost/services.py
installs these on every database): the domain does not know who listens, and
the bus knows no domain event.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from roost.domain import events as domain
from roost.domain.timelines import fanout
from roost.streaming import events
from roost.streaming.bus import EventBus
from roost.timelines.store import TimelineStore

log = logging.getLogger("roost.timelines")


def _stream_event(event: object) -> events.StreamEvent | None:
    if isinstance(event, domain.StatusCreated):
        return events.StreamEvent(
            events.STATUS_CREATED, status_id=event.status_id, author_id=event.author_id
        )
    if isinstance(event, domain.StatusEdited):
        return events.StreamEvent(
            events.STATUS_EDITED, status_id=event.status_id, author_id=event.author_id
        )
    if isinstance(event, domain.StatusDeleted):
        return events.StreamEvent(
            events.STATUS_DELETED,
            status_id=event.status_id,
            author_id=event.author_id,
            visibility=event.visibility,
            audience=event.mentioned_ids,
        )
    if isinstance(event, domain.StatusRewritten):
        return events.StreamEvent(events.STATUS_REWRITTEN, status_id=event.status_id)
    if isinstance(event, domain.AccountChanged):
        return events.StreamEvent(events.ACCOUNT_CHANGED, author_id=event.account_id)
    if isinstance(event, domain.NotificationCreated):
        return events.StreamEvent(
            events.NOTIFICATION,
            notification_id=event.notification_id,
            recipient_id=event.recipient_id,
        )
    if isinstance(event, domain.NotificationsMerged):
        return events.StreamEvent(events.NOTIFICATIONS_MERGED, recipient_id=event.account_id)
    if isinstance(event, domain.FiltersChanged):
        return events.StreamEvent(events.FILTERS_CHANGED, recipient_id=event.account_id)
    if isinstance(event, domain.AnnouncementPublished):
        return events.StreamEvent(events.ANNOUNCEMENT, announcement_id=event.announcement_id)
    if isinstance(event, domain.AnnouncementRemoved):
        return events.StreamEvent(
            events.ANNOUNCEMENT_DELETED, announcement_id=event.announcement_id
        )
    if isinstance(event, domain.AnnouncementReacted):
        return events.StreamEvent(
            events.ANNOUNCEMENT_REACTION, announcement_id=event.announcement_id, name=event.name
        )
    return None


def lists_listener(store: TimelineStore) -> Callable[[object], Awaitable[None]]:
    """A list's kept timeline dropped as soon as its change commits, before
    the answer: the owner who adds a member and opens the list sees their
    posts. Best effort: the ``list.changed`` job committed with the change
    drops it too, waiting out a Redis outage, so a failure here is logged,
    not raised (the change is made)."""

    async def listen(event: object) -> None:
        if isinstance(event, domain.ListTimelineChanged):
            try:
                await fanout.list_changed(store, event.owner_id, event.list_id)
            except Exception as error:
                log.info("list %d: kept timeline left to its job (%r)", event.list_id, error)

    return listen


def bus_listener(bus: EventBus) -> Callable[[object], Awaitable[None]]:
    async def listen(event: object) -> None:
        stream_event = _stream_event(event)
        if stream_event is not None:
            await bus.publish(stream_event)

    return listen
