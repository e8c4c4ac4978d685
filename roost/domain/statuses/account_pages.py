"""An account's posts (its profile: with or without replies and boosts,
pinned, with media, with one hashtag), read as timelines are read: one
prepared read per shape through the privacy policy (``PagedRead``,
roost/domain/statuses/feed_pages.py), presented by the feed presenter.

``queries.account_statuses_query`` says the same in SQLAlchemy for other
callers; a page here costs one prepared read and the presenter's few, where
``queries.paged`` took some ten statements through SQLAlchemy.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import Select, String, bindparam, select

from roost.db.engine import ReadScope
from roost.db.tables import pins, status_tags, statuses, tags
from roost.db.types import Id
from roost.domain.media.queries import with_media_each
from roost.domain.privacy import Visible
from roost.domain.statuses.feed_pages import PagedRead
from roost.domain.statuses.feed_rows import feed_select
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Page, StatusView, Viewer


class Shape(NamedTuple):
    exclude_replies: bool
    exclude_reblogs: bool
    tagged: bool
    pinned_only: bool
    only_media: bool


def _account_posts(shape: Shape, viewer: Viewer) -> Select[Any]:
    owner = bindparam("owner_id", type_=Id)
    query = feed_select(viewer).where(statuses.c.account_id == owner)
    if shape.only_media:
        query = query.where(with_media_each())
    if shape.exclude_replies:
        # Replies to oneself (threads) still belong on the profile.
        query = query.where(
            statuses.c.in_reply_to_id.is_(None) | (statuses.c.in_reply_to_account_id == owner)
        )
    if shape.exclude_reblogs:
        query = query.where(statuses.c.reblog_of_id.is_(None))
    if shape.tagged:
        query = query.where(
            statuses.c.id.in_(
                select(status_tags.c.status_id)
                .join(tags, tags.c.id == status_tags.c.tag_id)
                .where(tags.c.name_key == bindparam("tag_key", type_=String()))
            )
        )
    if shape.pinned_only:
        query = query.where(
            statuses.c.id.in_(select(pins.c.status_id).where(pins.c.account_id == owner))
        )
    return query


_READS: dict[Shape, PagedRead] = {}


async def account_page(
    reads: ReadScope,
    viewer: Viewer,
    account_id: int,
    page: Page,
    *,
    exclude_replies: bool,
    exclude_reblogs: bool,
    tagged: str | None,
    pinned_only: bool,
    only_media: bool,
) -> list[Visible[StatusView]]:
    """A page of the account's posts the viewer may see, newest first."""
    values: dict[str, Any] = {"owner_id": account_id}
    if tagged:
        key = tag_key(tagged)
        if key is None:
            return []
        values["tag_key"] = key
    shape = Shape(exclude_replies, exclude_reblogs, bool(tagged), pinned_only, only_media)
    read = _READS.get(shape)
    if read is None:
        read = _READS[shape] = PagedRead(partial(_account_posts, shape))
    return await read.page(reads, viewer, page, **values)
