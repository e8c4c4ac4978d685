"""Which subscriber gets which event, rendered for that subscriber.

Membership reuses the timelines themselves: a post belongs on a subscriber's
home (or public, or hashtag) stream exactly when the REST timeline would show
it, asked for the one-id window around it. So every rule those timelines apply
(the privacy policy, follows, mutes, blocks, boosts hidden) applies to the
stream too, with no second copy of the rules to drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.api.mastodon import serializers
from roost.db.engine import ReadScope
from roost.db.tables import conversation_participants, follows, status_conversations
from roost.domain.conversations import queries as conversation_queries
from roost.domain.filters.apply import apply_filters, apply_to_notifications
from roost.domain.notifications import queries as notification_queries
from roost.domain.privacy import Visible
from roost.domain.types import Page, StatusView, Viewer, Visibility
from roost.errors import NotFound
from roost.streaming import events
from roost.timelines.sql import SqlTimelineStore

# The database's answer, in scaled mode too: an event is routed as soon as its
# post commits, before the fan-out job has put it in any cached timeline, and
# the SQL store applies the same rules (the Redis store reads through them).
_timelines = SqlTimelineStore()

TIMELINE_STREAMS = {
    "user",
    "public",
    "public:local",
    "public:remote",
    "public:media",
    "public:local:media",
    "public:remote:media",
    "hashtag",
    "hashtag:local",
}
NOTIFICATION_STREAMS = {"user", "user:notification"}
USER_STREAMS = {"user", "user:notification", "direct", "list"}
ALL_STREAMS = TIMELINE_STREAMS | NOTIFICATION_STREAMS | {"direct", "list"}


@dataclass(frozen=True, slots=True)
class Stream:
    """One subscribed stream: its name and its parameter (the tag), if any."""

    name: str
    tag: str | None = None

    def label(self) -> list[str]:
        return [self.name, self.tag] if self.tag else [self.name]


@dataclass(frozen=True, slots=True)
class Message:
    stream: Stream
    event: str
    payload: str

    def websocket_json(self) -> str:
        return orjson.dumps(
            {"stream": self.stream.label(), "event": self.event, "payload": self.payload}
        ).decode()

    def sse(self) -> str:
        return f"event: {self.event}\ndata: {self.payload}\n\n"


def _filter_context(stream: Stream) -> str:
    return "home" if stream.name == "user" else "public"


def _window(status_id: int) -> Page:
    return Page(max_id=status_id + 1, since_id=status_id - 1, limit=1)


async def _on_stream(
    reads: ReadScope, viewer: Viewer, stream: Stream, status_id: int
) -> Visible[StatusView] | None:
    """The post as this stream would show it, or None if it does not belong there."""
    page = _window(status_id)
    name = stream.name
    media_only = name.endswith(":media")
    if name == "user":
        if viewer.account_id is None:
            return None
        views = await _timelines.home(reads, viewer, page)
    elif name.startswith("public"):
        views = await _timelines.public(
            reads,
            viewer,
            page,
            local_only=":local" in name,
            remote_only=":remote" in name,
            only_media=media_only,
        )
    elif name == "list" and stream.tag and viewer.account_id is not None:
        try:
            views = await _timelines.list_timeline(reads, viewer, int(stream.tag), page)
        except NotFound:
            return None
    elif name.startswith("hashtag") and stream.tag:
        views = await _timelines.tag(
            reads,
            viewer,
            page,
            any_of=[stream.tag],
            all_of=[],
            none_of=[],
            local_only=name.endswith(":local"),
            remote_only=False,
            only_media=False,
        )
    else:
        return None
    return views[0] if views else None


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
            view = await _on_stream(reads, viewer, stream, event.status_id)
            if view is None:
                continue
            # The viewer's filters apply as on the REST timeline: matches are
            # attached as `filtered`, and a `hide` filter keeps the post off.
            shown = await apply_filters(conn, viewer, [view], _filter_context(stream))
            if shown:
                payload = orjson.dumps(serializers.status(shown[0], base_url)).decode()
                out.append(Message(stream, name, payload))
    elif event.kind == events.STATUS_DELETED:
        for stream in streams:
            timeline = stream.name in TIMELINE_STREAMS or stream.name == "list"
            if timeline and await _could_have_seen(conn, viewer, event):
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
    return out


async def _conversation_message(
    conn: AsyncConnection, viewer: Viewer, stream: Stream, status_id: int, base_url: str
) -> Message | None:
    """The viewer's conversation that this direct post belongs to, as it now stands."""
    if viewer.account_id is None:
        return None
    entry = (
        await conn.execute(
            select(conversation_participants.c.id).where(
                conversation_participants.c.account_id == viewer.account_id,
                conversation_participants.c.conversation_id.in_(
                    select(status_conversations.c.conversation_id).where(
                        status_conversations.c.status_id == status_id
                    )
                ),
            )
        )
    ).first()
    if entry is None:
        return None
    try:
        cleared = await conversation_queries.conversation(conn, viewer, int(entry.id))
    except NotFound:
        return None
    payload = orjson.dumps(serializers.conversation(cleared, base_url)).decode()
    return Message(stream, "conversation", payload)


async def _could_have_seen(
    conn: AsyncConnection, viewer: Viewer, event: events.StreamEvent
) -> bool:
    """Whether the deleted post was visible to this viewer when it existed.

    The post is gone, so the decision uses what the event recorded at deletion
    time: the same rules as roost.domain.privacy, applied to those facts.
    """
    visibility = Visibility(event.visibility if event.visibility is not None else 3)
    me = viewer.account_id
    if me is not None and (me == event.author_id or me in event.audience):
        return True
    if visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return True
    if visibility == Visibility.PRIVATE and me is not None:
        row = await conn.execute(
            select(follows.c.id).where(
                follows.c.account_id == me, follows.c.target_account_id == event.author_id
            )
        )
        return row.first() is not None
    return False


def parse_stream(name: str, params: dict[str, Any]) -> Stream | None:
    """A stream from its name and parameters, or None when it is not one we serve."""
    if name not in ALL_STREAMS:
        return None
    if name.startswith("hashtag"):
        tag = str(params.get("tag") or "").lstrip("#").strip()
        if not tag:
            return None
        return Stream(name, tag)
    if name == "list":
        list_id = str(params.get("list") or "").strip()
        return Stream(name, list_id) if list_id.isdigit() else None
    return Stream(name)
