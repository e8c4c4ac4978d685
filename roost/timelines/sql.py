"""Timelines computed from the database at read time (the embedded default).

Which posts belong is decided here; who may see them is the privacy policy's
call (``paged`` applies it); what mutes and blocks keep off a feed is
roost/timelines/mutes.py; what followed hashtags and exclusive lists change on
home is roost/timelines/reading.py. A list's timeline is
roost/domain/lists/queries.py's.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import Select, and_, or_, select, true

from roost.db.engine import ReadScope
from roost.db.tables import follows, status_tags, statuses, tags
from roost.domain.graph import mutes as mute_rules
from roost.domain.lists.queries import list_timeline
from roost.domain.media.queries import with_media
from roost.domain.privacy import Visible, timeline_reader
from roost.domain.statuses.feed import PagedRead, feed_select
from roost.domain.statuses.queries import paged
from roost.domain.types import Page, StatusView, Viewer, Visibility
from roost.timelines.mutes import home_filter, public_filter, read_time
from roost.timelines.reading import followed_tag_posts, outside_exclusive_lists


def _follows(me: Any, target: Any, *conditions: Any) -> Any:
    """``me`` follows ``target``: one probe of the (follower, followed) index per
    row. ``IN (everyone me follows)`` built that list anew for each of the
    three places it is needed, in every read, costing more than the page."""
    return (
        select(follows.c.id)
        .where(follows.c.account_id == me, follows.c.target_account_id == target, *conditions)
        .exists()
    )


def _home(viewer: Viewer) -> Select[Any]:
    me = viewer.account_id
    assert me is not None
    return feed_select(viewer).where(
        or_(
            statuses.c.account_id == me,
            _follows(me, statuses.c.account_id),
            followed_tag_posts(me),
        ),
        # A reply shows when it answers someone the viewer also follows (or
        # the viewer): half of a conversation with strangers is noise.
        or_(
            statuses.c.in_reply_to_account_id.is_(None),
            statuses.c.in_reply_to_account_id == me,
            _follows(me, statuses.c.in_reply_to_account_id),
        ),
        # Boosts by accounts whose boosts the viewer turned off stay out.
        or_(
            statuses.c.reblog_of_id.is_(None),
            ~_follows(me, statuses.c.account_id, follows.c.show_reblogs.is_(False)),
        ),
        home_filter(viewer, now=read_time()),
        outside_exclusive_lists(me),
    )


def _public(only_media: bool, viewer: Viewer) -> Select[Any]:
    query = feed_select(viewer).where(
        statuses.c.visibility == int(Visibility.PUBLIC),
        statuses.c.reblog_of_id.is_(None),
        public_filter(viewer, now=read_time()),
    )
    return query.where(with_media()) if only_media else query


_HOME = PagedRead(_home)
_PUBLIC = {only: PagedRead(partial(_public, only)) for only in (False, True)}


class SqlTimelineStore:
    async def home(self, reads: ReadScope, viewer: Viewer, page: Page) -> list[Visible[StatusView]]:
        assert viewer.account_id is not None
        viewer = timeline_reader(viewer)
        return await _HOME.page(reads, viewer, page, now=mute_rules.mute_time())

    async def public(
        self,
        reads: ReadScope,
        viewer: Viewer,
        page: Page,
        *,
        local_only: bool,
        remote_only: bool,
        only_media: bool,
    ) -> list[Visible[StatusView]]:
        if remote_only:
            # Every account is local.
            return []
        viewer = timeline_reader(viewer)
        return await _PUBLIC[only_media].page(reads, viewer, page, now=mute_rules.mute_time())

    async def tag(
        self,
        reads: ReadScope,
        viewer: Viewer,
        page: Page,
        *,
        any_of: list[str],
        all_of: list[str],
        none_of: list[str],
        local_only: bool,
        remote_only: bool,
        only_media: bool,
    ) -> list[Visible[StatusView]]:
        if remote_only or not any_of:
            return []
        viewer = timeline_reader(viewer)

        def tagged(names: list[str]):  # type: ignore[no-untyped-def]
            return statuses.c.id.in_(
                select(status_tags.c.status_id)
                .join(tags, tags.c.id == status_tags.c.tag_id)
                .where(tags.c.name_key.in_([n.lower() for n in names]))
            )

        conditions = [
            statuses.c.visibility == int(Visibility.PUBLIC),
            statuses.c.reblog_of_id.is_(None),
            tagged(any_of),
            public_filter(viewer),
        ]
        conditions += [tagged([name]) for name in all_of]
        conditions.append(~tagged(none_of) if none_of else true())
        conditions.append(with_media() if only_media else true())
        query = select(statuses).where(and_(*conditions))
        return await paged(await reads.conn(), viewer, query, page)

    async def list_timeline(
        self, reads: ReadScope, viewer: Viewer, list_id: int, page: Page
    ) -> list[Visible[StatusView]]:
        return await list_timeline(await reads.conn(), timeline_reader(viewer), list_id, page)

    async def on_published(self, status_id: int) -> None:
        return None

    async def on_deleted(self, status_id: int, account_id: int) -> None:
        return None


__all__ = ["SqlTimelineStore"]
