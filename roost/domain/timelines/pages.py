"""Pages of home, public and hashtag timelines, read from the database.

Each is one prepared read (roost/domain/statuses/feed_pages.py, ``PagedRead``) that
applies the timeline's rule (roost/domain/timelines/rules.py), the viewer's
mutes and blocks (quiet.py) and the privacy policy together: on SQLite, the
whole of a page but its presentation. A list's page is
roost/domain/lists/queries.py's.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, select, true

from roost.db.engine import ReadScope
from roost.db.tables import status_cards, status_tags, statuses, tags
from roost.domain.graph.mutes import mute_time
from roost.domain.media.queries import with_media
from roost.domain.privacy import Visible, trendable_post
from roost.domain.statuses.feed_pages import PagedRead
from roost.domain.statuses.feed_rows import feed_select
from roost.domain.statuses.queries import paged
from roost.domain.tags.lookup import tag_key
from roost.domain.timelines.quiet import kept_on_home, public_filter, read_time
from roost.domain.timelines.rules import home_rule
from roost.domain.types import Page, StatusView, Viewer, Visibility


def on_home(viewer: Viewer, *, now: Any) -> Any:
    """True for the rows that belong on the viewer's home and that nothing of
    theirs keeps off it for now."""
    assert viewer.account_id is not None
    return and_(home_rule(viewer.account_id), kept_on_home(viewer, now=now))


ORIGINS = ("all", "local", "remote")


def origin_clause(origin: str) -> Any:
    """Posts of this server (``local``), of others (``remote``), or both: a
    post of another server is the one with its own id there (``uri``)."""
    if origin == "local":
        return statuses.c.uri.is_(None)
    if origin == "remote":
        return statuses.c.uri.is_not(None)
    return true()


def _public(only_media: bool, origin: str, viewer: Viewer) -> Select[Any]:
    query = feed_select(viewer).where(
        statuses.c.visibility == int(Visibility.PUBLIC),
        statuses.c.reblog_of_id.is_(None),
        public_filter(viewer, now=read_time()),
        origin_clause(origin),
    )
    return query.where(with_media()) if only_media else query


_PUBLIC = {
    (only, origin): PagedRead(partial(_public, only, origin))
    for only in (False, True)
    for origin in ORIGINS
}


async def public_page(
    reads: ReadScope, viewer: Viewer, page: Page, *, only_media: bool, origin: str = "all"
) -> list[Visible[StatusView]]:
    return await _PUBLIC[only_media, origin].page(reads, viewer, page, now=mute_time())


def _keys(names: list[str]) -> list[str]:
    """The distinct keys of the names that can be hashtags."""
    return list(dict.fromkeys(key for key in map(tag_key, names) if key is not None))


def _tagged(names: list[str]) -> Any:
    keys = [key for key in map(tag_key, names) if key is not None]
    return statuses.c.id.in_(
        select(status_tags.c.status_id)
        .join(tags, tags.c.id == status_tags.c.tag_id)
        .where(tags.c.name_key.in_(keys))
    )


def _tagged_bound(prefix: str, count: int) -> Any:
    """``_tagged`` with the keys as parameters ``prefix0``, ``prefix1``..."""
    keys = [bindparam(f"{prefix}{n}", type_=String()) for n in range(count)]
    return statuses.c.id.in_(
        select(status_tags.c.status_id)
        .join(tags, tags.c.id == status_tags.c.tag_id)
        .where(tags.c.name_key.in_(keys))
    )


# Prepared tag pages for up to this many tags in all (``any``, ``all`` and
# ``none`` together); more take the SQLAlchemy road.
_PREPARED_TAGS = 4


def _one_tag_joined(query: Select[Any]) -> Select[Any]:
    """Posts with the one tag ``tag_any0``, by a join on the (tag, post)
    index: PostgreSQL then walks that index newest first and stops at a
    page, where ``IN`` made it gather every post with the tag and sort them
    (4,500 posts, 120 ms, at 1M posts)."""
    tag_id = select(tags.c.id).where(tags.c.name_key == bindparam("tag_any0", type_=String()))
    return query.join(status_tags, status_tags.c.status_id == statuses.c.id).where(
        status_tags.c.tag_id == tag_id.scalar_subquery()
    )


def _tag(shape: tuple[int, int, int, bool, str, bool], viewer: Viewer) -> Select[Any]:
    any_n, all_n, none_n, only_media, origin, joined = shape
    query = feed_select(viewer).where(
        origin_clause(origin),
        statuses.c.visibility == int(Visibility.PUBLIC),
        statuses.c.reblog_of_id.is_(None),
        public_filter(viewer, now=read_time()),
    )
    tagged = _one_tag_joined if joined else (lambda q: q.where(_tagged_bound("tag_any", any_n)))
    query = tagged(query)
    for n in range(all_n):
        query = query.where(_tagged_bound(f"tag_all{n}_", 1))
    if none_n:
        query = query.where(~_tagged_bound("tag_none", none_n))
    return query.where(with_media()) if only_media else query


_TAGS: dict[tuple[int, int, int, bool, str, bool], PagedRead] = {}


async def tag_page(
    reads: ReadScope,
    viewer: Viewer,
    page: Page,
    *,
    any_of: list[str],
    all_of: list[str],
    none_of: list[str],
    only_media: bool,
    origin: str = "all",
) -> list[Visible[StatusView]]:
    """Public posts with any of the tags ``any_of``, all of ``all_of`` and none
    of ``none_of`` (names as typed: looked up as roost/domain/tags/lookup.py
    says)."""
    any_keys = _keys(any_of)
    all_keys = [_keys([name]) for name in all_of]
    none_keys = _keys(none_of)
    if (
        any_keys
        and all(all_keys)
        and len(any_keys) + len(all_keys) + len(none_keys) <= _PREPARED_TAGS
    ):
        # SQLite plans the IN form well (walking the newest posts); the join
        # is PostgreSQL's, for one tag (with more, a post could come twice).
        joined = len(any_keys) == 1 and not reads.fast.sqlite
        shape = (len(any_keys), len(all_keys), len(none_keys), only_media, origin, joined)
        read = _TAGS.get(shape)
        if read is None:
            read = _TAGS[shape] = PagedRead(partial(_tag, shape))
        values: dict[str, Any] = {f"tag_any{n}": key for n, key in enumerate(any_keys)}
        values |= {f"tag_all{n}_0": keys[0] for n, keys in enumerate(all_keys)}
        values |= {f"tag_none{n}": key for n, key in enumerate(none_keys)}
        return await read.page(reads, viewer, page, now=mute_time(), **values)
    conditions = [
        origin_clause(origin),
        statuses.c.visibility == int(Visibility.PUBLIC),
        statuses.c.reblog_of_id.is_(None),
        _tagged(any_of),
        public_filter(viewer),
    ]
    conditions += [_tagged([name]) for name in all_of]
    conditions.append(~_tagged(none_of) if none_of else true())
    conditions.append(with_media() if only_media else true())
    query = select(statuses).where(and_(*conditions))
    return await paged(await reads.conn(), viewer, query, page)


async def link_page(
    reads: ReadScope, viewer: Viewer, page: Page, *, card_id: int
) -> list[Visible[StatusView]]:
    """Posts showing the link card ``card_id`` that may make it trend (public,
    by authors who opted in to discovery: ``privacy.trendable_post``), as a
    public timeline shows them to ``viewer``."""
    query = select(statuses).where(
        statuses.c.id.in_(
            select(status_cards.c.status_id).where(status_cards.c.card_id == card_id)
        ),
        trendable_post(),
        public_filter(viewer),
    )
    return await paged(await reads.conn(), viewer, query, page)
