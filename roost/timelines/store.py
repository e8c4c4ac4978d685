"""Where timelines come from.

``TimelineStore`` is the seam between "which posts belong on this timeline" and
how that is computed. Embedded Roost uses ``SqlTimelineStore``: the home
timeline is a query over followed accounts at read time, so a post needs no
fan-out. A scaled deployment can put a cache in front (fan-out on write into
per-follower lists) behind the same interface; whatever a store returns still
goes through the privacy policy before anyone sees it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from roost.db.engine import ReadScope
from roost.domain.privacy import Visible
from roost.domain.types import Page, StatusView, Viewer


class TimelineStore(Protocol):
    async def home(
        self, reads: ReadScope, viewer: Viewer, page: Page
    ) -> list[Visible[StatusView]]: ...

    async def public(
        self,
        reads: ReadScope,
        viewer: Viewer,
        page: Page,
        *,
        local_only: bool,
        remote_only: bool,
        only_media: bool,
    ) -> list[Visible[StatusView]]: ...

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
    ) -> list[Visible[StatusView]]: ...

    async def list_timeline(
        self, reads: ReadScope, viewer: Viewer, list_id: int, page: Page
    ) -> list[Visible[StatusView]]:
        """The viewer's list (NotFound when it is not theirs)."""

    async def on_published(self, status_id: int) -> None:
        """A post was committed (run from the outbox job)."""

    async def on_deleted(self, status_id: int, account_id: int) -> None:
        """A post was deleted (run from the outbox job)."""


@runtime_checkable
class ListAware(Protocol):
    """A store that caches list timelines and must hear when a list changes
    (members added or removed, replies policy, deleted)."""

    async def on_list_changed(self, owner: int, list_id: int) -> None: ...


@runtime_checkable
class FollowAware(Protocol):
    """A store that keeps per-account timelines and must hear of new follows."""

    async def on_followed(self, account_id: int, target_id: int) -> None: ...
