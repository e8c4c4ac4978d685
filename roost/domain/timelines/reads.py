"""Reading timelines: home, lists, public and hashtags, for one viewer.

``Timelines`` is what the API and the streams call. Home and list timelines
come through the configured ``TimelineStore`` (roost/timelines/: the
database alone, or ids kept in Redis), described to it by the domain
(cached.py); public and hashtag timelines are always read from the database.
Every post comes back cleared by the privacy policy, for the viewer as a
timeline reads (``privacy.timeline_reader``: staff see no suspended account's
posts mixed into what they read).
"""

from __future__ import annotations

from roost.db.engine import ReadScope
from roost.domain.lists.queries import owned_list_read
from roost.domain.privacy import Visible, timeline_reader
from roost.domain.timelines.cached import HomeTimeline, ListTimeline
from roost.domain.timelines.pages import link_page, public_page, tag_page
from roost.domain.types import Page, StatusView, Viewer
from roost.timelines.store import TimelineStore


class Timelines:
    def __init__(self, store: TimelineStore) -> None:
        self.store = store

    async def home(self, reads: ReadScope, viewer: Viewer, page: Page) -> list[Visible[StatusView]]:
        assert viewer.account_id is not None
        return await self.store.read(reads, HomeTimeline(timeline_reader(viewer)), page)

    async def list_timeline(
        self, reads: ReadScope, viewer: Viewer, list_id: int, page: Page
    ) -> list[Visible[StatusView]]:
        """The viewer's list (NotFound when it is not theirs)."""
        assert viewer.account_id is not None
        viewer = timeline_reader(viewer)
        info = await owned_list_read(reads, viewer, list_id)
        return await self.store.read(reads, ListTimeline(viewer, info), page)

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
        return await public_page(
            reads,
            timeline_reader(viewer),
            page,
            only_media=only_media,
            origin=_origin(local_only, remote_only),
        )

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
        if not any_of:
            return []
        return await tag_page(
            reads,
            timeline_reader(viewer),
            page,
            any_of=any_of,
            all_of=all_of,
            none_of=none_of,
            only_media=only_media,
            origin=_origin(local_only, remote_only),
        )

    async def link(
        self, reads: ReadScope, viewer: Viewer, page: Page, *, card_id: int
    ) -> list[Visible[StatusView]]:
        """Public posts sharing a link (its card), from authors open to discovery."""
        return await link_page(reads, timeline_reader(viewer), page, card_id=card_id)


def _origin(local_only: bool, remote_only: bool) -> str:
    """``local=true`` and ``remote=true`` of the public and hashtag
    timelines; both, as neither (as Mastodon reads them)."""
    if local_only == remote_only:
        return "all"
    return "local" if local_only else "remote"
