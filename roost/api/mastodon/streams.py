"""Stream events rendered for one subscriber, in Mastodon's streaming format.

Which subscriber gets which event is the domain's (roost/domain/streams.py);
this renders what it lets through as the entities the REST API returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.api.mastodon import entities, serializers
from roost.db.engine import ReadScope
from roost.domain.announcements import queries as announcement_queries
from roost.domain.filters.apply import apply_filters, apply_to_notifications
from roost.domain.notifications import queries as notification_queries
from roost.domain.streams import (
    NOTIFICATION_STREAMS,
    TIMELINE_STREAMS,
    Stream,
    conversation_of,
    could_have_seen,
    filter_context,
    on_stream,
)
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.streaming import events


@dataclass(frozen=True, slots=True)
class Message:
    stream: Stream
    event: str
    # None: an event without a payload (filters_changed). As Mastodon's
    # streaming server sends it: no ``payload`` key over WebSocket, and
    # ``data: undefined`` over SSE.
    payload: str | None

    def websocket_json(self) -> str:
        message: dict[str, object] = {"stream": self.stream.label(), "event": self.event}
        if self.payload is not None:
            message["payload"] = self.payload
        return orjson.dumps(message).decode()

    def sse(self) -> str:
        data = "undefined" if self.payload is None else self.payload
        return f"event: {self.event}\ndata: {data}\n\n"


_ANNOUNCEMENT_EVENTS = {
    events.ANNOUNCEMENT,
    events.ANNOUNCEMENT_DELETED,
    events.ANNOUNCEMENT_REACTION,
}


async def messages_for(
    reads: ReadScope,
    viewer: Viewer,
    streams: list[Stream],
    event: events.StreamEvent,
    base_url: str,
) -> list[Message]:
    """What this subscriber should receive for ``event`` (often nothing)."""
    conn = await reads.conn()
    out: list[Message] = []
    if event.kind in (events.STATUS_CREATED, events.STATUS_EDITED):
        assert event.status_id is not None
        name = "update" if event.kind == events.STATUS_CREATED else "status.update"
        for stream in streams:
            if stream.name == "direct":
                message = await _conversation_message(
                    conn, viewer, stream, event.status_id, base_url
                )
                if message is not None:
                    out.append(message)
                continue
            view = await on_stream(reads, viewer, stream, event.status_id)
            if view is None:
                continue
            # The viewer's filters apply as on the REST timeline: matches are
            # attached as `filtered`, and a `hide` filter keeps the post off.
            shown = await apply_filters(conn, viewer, [view], filter_context(stream))
            if shown:
                payload = orjson.dumps(serializers.status(shown[0], base_url)).decode()
                out.append(Message(stream, name, payload))
    elif event.kind == events.STATUS_DELETED:
        for stream in streams:
            timeline = stream.name in TIMELINE_STREAMS or stream.name == "list"
            if timeline and await could_have_seen(conn, viewer, event):
                out.append(Message(stream, "delete", str(event.status_id)))
    elif event.kind == events.NOTIFICATION:
        if viewer.account_id is None or viewer.account_id != event.recipient_id:
            return out
        assert event.notification_id is not None
        for stream in streams:
            if stream.name not in NOTIFICATION_STREAMS:
                continue
            try:
                cleared = await notification_queries.notification(
                    conn, viewer, event.notification_id
                )
            except NotFound:
                return out
            notified = await apply_to_notifications(conn, viewer, [cleared])
            if not notified:
                return out
            payload = orjson.dumps(serializers.notification(notified[0], base_url)).decode()
            out.append(Message(stream, "notification", payload))
    elif event.kind == events.NOTIFICATIONS_MERGED:
        if viewer.account_id is not None and viewer.account_id == event.recipient_id:
            for stream in streams:
                if stream.name in NOTIFICATION_STREAMS:
                    out.append(Message(stream, "notifications_merged", "1"))
    elif event.kind == events.FILTERS_CHANGED:
        if viewer.account_id is not None and viewer.account_id == event.recipient_id:
            out.extend(Message(s, "filters_changed", None) for s in streams if s.name == "user")
    elif event.kind in _ANNOUNCEMENT_EVENTS:
        home = [s for s in streams if s.name == "user"]
        if viewer.account_id is not None and home and event.announcement_id is not None:
            announced = await _announcement_payload(conn, viewer, event, base_url)
            if announced is not None:
                name, data = announced
                out.extend(Message(s, name, data) for s in home)
    return out


async def _announcement_payload(
    conn: AsyncConnection, viewer: Viewer, event: events.StreamEvent, base_url: str
) -> tuple[str, str] | None:
    """An announcement event for a signed-in subscriber of the user stream:
    the announcement as they read it, its id when gone, or a reaction's
    new count."""
    assert event.announcement_id is not None
    if event.kind == events.ANNOUNCEMENT_DELETED:
        return "announcement.delete", str(event.announcement_id)
    if event.kind == events.ANNOUNCEMENT_REACTION:
        if event.name is None:
            return None
        count = await announcement_queries.reaction_count(conn, event.announcement_id, event.name)
        data = {
            "name": event.name,
            "count": count,
            "announcement_id": str(event.announcement_id),
        }
        return "announcement.reaction", orjson.dumps(data).decode()
    view = await announcement_queries.running_one(conn, viewer, event.announcement_id)
    if view is None:
        return None
    return "announcement", orjson.dumps(entities.announcement(view, base_url)).decode()


async def _conversation_message(
    conn: AsyncConnection, viewer: Viewer, stream: Stream, status_id: int, base_url: str
) -> Message | None:
    """The viewer's conversation that this direct post belongs to, as it now stands."""
    cleared = await conversation_of(conn, viewer, status_id)
    if cleared is None:
        return None
    payload = orjson.dumps(serializers.conversation(cleared, base_url)).decode()
    return Message(stream, "conversation", payload)
