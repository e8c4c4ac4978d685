"""Which subscriber gets which event (roost/api/mastodon/streams.py renders it).

Membership reuses the timelines themselves: a post belongs on a subscriber's
home (or public, or hashtag) stream exactly when the REST timeline would show
it, asked for the one-id window around it. So every rule those timelines apply
(the privacy policy, follows, mutes, blocks, boosts hidden) applies to the
stream too, with no second copy of the rules to drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope
from roost.db.tables import conversation_participants, follows, status_conversations
from roost.domain.conversations import queries as conversation_queries
from roost.domain.privacy import Visible
from roost.domain.timelines.reads import Timelines
from roost.domain.types import ConversationView, Page, StatusView, Viewer, Visibility
from roost.errors import NotFound
from roost.ids import id_from_text
from roost.streaming import events
from roost.timelines.sql import SqlTimelineStore

# The database's answer, in scaled mode too: an event is routed as soon as its
# post commits, before the fan-out job has put it in any cached timeline, and
# the SQL store applies the same rules (the Redis store reads through them).
_timelines = Timelines(SqlTimelineStore())

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


def filter_context(stream: Stream) -> str:
    return "home" if stream.name == "user" else "public"


def _window(status_id: int) -> Page:
    return Page(max_id=status_id + 1, since_id=status_id - 1, limit=1)


async def on_stream(
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


async def conversation_of(
    conn: AsyncConnection, viewer: Viewer, status_id: int
) -> Visible[ConversationView] | None:
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
        return await conversation_queries.conversation(conn, viewer, int(entry.id))
    except NotFound:
        return None


async def could_have_seen(conn: AsyncConnection, viewer: Viewer, event: events.StreamEvent) -> bool:
    """Whether the deleted post was visible to this viewer when it existed.

    The post is gone, so the decision uses what the event recorded at deletion
    time: the same rules as roost.domain.privacy, applied to those facts.
    """
    visibility = Visibility(event.visibility if event.visibility is not None else 3)
    me = viewer.account_id
    if me is not None and (me == event.author_id or me in event.audience):
        return True
    if visibility.listed:
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
        list_id = id_from_text(str(params.get("list") or "").strip())
        return Stream(name, str(list_id)) if list_id is not None else None
    return Stream(name)
