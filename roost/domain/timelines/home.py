"""A page of the home timeline read from the database: the newest posts
first, then source by source (roost/domain/timelines/by_source.py: the
viewer, the accounts and the hashtags they follow); and the read that keeps
those of some posts that the viewer's home shows now (``shown_on_home``,
which a cache's entries go through too)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy import Select

from roost.db.engine import ReadScope
from roost.db.fastread import FastReader, IdList, id_list
from roost.db.tables import statuses
from roost.domain.graph.mutes import mute_time
from roost.domain.pagination import newest_first
from roost.domain.privacy import PolicyRead, Visible
from roost.domain.statuses.feed import present
from roost.domain.statuses.feed_pages import PagedRead
from roost.domain.statuses.feed_rows import feed_select
from roost.domain.timelines.by_source import timeline_rows
from roost.domain.timelines.pages import on_home
from roost.domain.timelines.quiet import read_time
from roost.domain.types import Page, StatusView, Viewer


def _shown_on_home(viewer: Viewer) -> Select[Any]:
    """Those of the ids (parameter ``ids``) that belong on the viewer's home at
    the time ``now``, newest first; ``PolicyRead`` adds the policy."""
    return (
        feed_select(viewer)
        .where(id_list(statuses.c.id, "ids"), on_home(viewer, now=read_time()))
        .order_by(statuses.c.id.desc())
    )


SHOWN_ON_HOME = PolicyRead(_shown_on_home)


def _home(viewer: Viewer) -> Select[Any]:
    """The home rule asked of every post of the page's range at once."""
    return feed_select(viewer).where(on_home(viewer, now=read_time()))


_WALK_HOME = PagedRead(_home)


async def shown_on_home(
    reader: FastReader, viewer: Viewer, ids: Sequence[int]
) -> list[Visible[Any]]:
    """The rows of those of ``ids`` the viewer's home shows now, newest first."""
    if not ids:
        return []
    return await SHOWN_ON_HOME.rows(reader, viewer, raw=True, ids=IdList(ids), now=mute_time())


async def _walk(reader: FastReader, viewer: Viewer, page: Page) -> list[Visible[Any]]:
    return await _WALK_HOME.rows(reader, viewer, page, now=mute_time())


async def home_page(reads: ReadScope, viewer: Viewer, page: Page) -> list[Visible[StatusView]]:
    """``viewer`` reads as a timeline does (``privacy.timeline_reader``)."""
    assert viewer.account_id is not None
    shown = partial(shown_on_home, reads.fast, viewer)
    walk = partial(_walk, reads.fast, viewer)
    rows = await timeline_rows(reads.fast, "home", page, walk, shown, me=viewer.account_id)
    return await present(reads, viewer, newest_first(rows, page))
