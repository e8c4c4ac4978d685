"""A page of posts for a viewer, in one prepared read, sometimes two or three.

``queries.hydrate`` builds views for any cleared rows in a handful of SQLAlchemy
queries; timelines, read on every refresh of every app, take this shorter road:

1. the page itself: a ``PolicyRead`` over ``feed_select(viewer)``, so each
   row carries the post's changing numbers, the viewer's favourite, boost,
   bookmark and pin of it, and its author's account, already cleared for the
   viewer (the caller builds it);
2. only if the page has boosts or replies: the boosted originals and
   replied-to parents, through the policy again, with the same columns;
3. only if the posts mention anyone: which of those accounts the policy lets
   the viewer see named (with any other accounts the caller shows beside
   the posts, as a page of notifications does its senders: ``Accounts``).

What does not depend on the viewer or change without an edit (text, rendered
HTML, mentions, hashtags, media, application) comes from the caches of
roost/domain/statuses/shared.py, by the post's id and its ``edited_at``.

The row's columns are roost/domain/statuses/feed_rows.py's, the paged read
roost/domain/statuses/feed_pages.py's; views are put together, boosts with
their originals, by the step ``hydrate`` uses too
(roost/domain/statuses/assembly.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from roost.db.engine import ReadScope
from roost.db.fastread import IdList, Row, id_list
from roost.db.tables import statuses
from roost.domain import privacy
from roost.domain.privacy import PolicyRead, Visible
from roost.domain.statuses.assembly import assemble
from roost.domain.statuses.extras import with_page_extras
from roost.domain.statuses.feed_rows import (
    AUTHOR_ID,
    BOOKMARKED,
    BOOSTED,
    EDITED,
    FAVOURITED,
    FAVS,
    HAS_FILTERS,
    HAS_THREAD_MUTES,
    ID,
    PARENT,
    PARENT_ACCOUNT,
    PINNED,
    REBLOGGED,
    REBLOGS,
    REPLIES,
    VISIBILITY,
    Authors,
    feed_select,
)
from roost.domain.statuses.muted import muted_among
from roost.domain.statuses.queries import quoted_views
from roost.domain.statuses.shared import Shared, shared_for
from roost.domain.types import Account, StatusView, Viewer, Visibility

_BY_IDS = PolicyRead(lambda viewer: feed_select(viewer).where(id_list(statuses.c.id, "ids")))


VIEWER_HAS_FILTERS = "viewer_has_filters"


@dataclass
class Accounts:
    """Accounts a caller shows beside a page of posts, read in the same read
    as the posts' mentions (one round trip, not two): ``wanted`` the ids
    asked; after ``present``, ``listed`` the cleared rows of those the viewer
    may see and ``moves`` where those of them that moved went
    (``privacy.listed_accounts_by_ids``), and ``read`` whether it ran."""

    wanted: set[int]
    listed: list[Visible[dict[str, Any]]] = field(default_factory=list)
    moves: dict[int, int] = field(default_factory=dict)
    read: bool = False

    async def read_alone(self, reads: ReadScope, viewer: Viewer) -> None:
        """The read on its own, for a page that had no posts to mention anyone."""
        if not self.read:
            self.listed, self.moves = await privacy.listed_accounts_by_ids(
                reads.fast, viewer, self.wanted
            )
            self.read = True


async def present(
    reads: ReadScope,
    viewer: Viewer,
    rows: Sequence[Visible[Row]],
    *,
    parts: Mapping[int, Shared] | None = None,
    beside: Accounts | None = None,
) -> list[Visible[StatusView]]:
    """Cleared ``feed_select`` rows -> cleared views, in the rows' order.

    A boost whose original the viewer may not see is dropped, as in
    ``queries.hydrate``; a reply names its parent only if the viewer may see it.
    ``parts``: the shared parts of some of the posts, as their caller has
    them (a post just written: roost/domain/statuses/written.py); those are
    neither looked up in the caches nor put there. ``beside``: accounts read
    with the mentions (see ``Accounts``).
    """
    if not rows:
        return []
    metas = [r.value for r in rows]
    boosted = {m[BOOSTED] for m in metas if m[BOOSTED] is not None}
    parents = {m[PARENT] for m in metas if m[PARENT] is not None}
    related: dict[int, Row] = {}
    if boosted or parents:
        for row in await _BY_IDS.rows(reads.fast, viewer, raw=True, ids=IdList(boosted | parents)):
            related[row.value[ID]] = row.value
    originals = [related[i] for i in boosted if i in related]
    shown_parents = set(related)
    unasked = {
        o[PARENT] for o in originals if o[PARENT] is not None and o[PARENT] not in boosted | parents
    }
    if unasked:
        shown_parents |= {
            r.value[ID]
            for r in await _BY_IDS.rows(reads.fast, viewer, raw=True, ids=IdList(unasked))
        }
    every = metas + originals
    muted: set[int] = set()
    if viewer.account_id is not None:
        reads.facts[VIEWER_HAS_FILTERS] = bool(metas[0][HAS_FILTERS])
        if metas[0][HAS_THREAD_MUTES]:
            ids = [m[ID] for m in every]
            muted = await muted_among(await reads.conn(), viewer.account_id, ids)
    given = parts or {}
    shared = {m[ID]: given[m[ID]] for m in every if m[ID] in given}
    asked = [(m[ID], m[AUTHOR_ID], m[EDITED]) for m in every if m[ID] not in given]
    if asked:
        shared.update(await shared_for(reads, asked))
    mentioned = {m for meta in every if meta[ID] in shared for m in shared[meta[ID]].mentions}
    listed: dict[int, Account] = {}
    wanted = beside.wanted if beside is not None else set()
    if mentioned or wanted:
        # Mentions are rare enough on a page that asking only when there are
        # some saves most pages a round trip.
        found, moves = await privacy.listed_accounts_by_ids(reads.fast, viewer, mentioned | wanted)
        for named in found:
            if named.value["id"] in mentioned:
                listed[named.value["id"]] = Account.from_row(named.value)
        if beside is not None:
            beside.listed = [a for a in found if a.value["id"] in wanted]
            beside.moves = {a: t for a, t in moves.items() if a in wanted}
            beside.read = True
    authors = Authors(reads.fast.compiled(_BY_IDS.prepared(viewer)))

    def view(meta: Row, reblog: StatusView | None) -> StatusView | None:
        sid = meta[ID]
        part = shared.get(sid)
        if part is None:
            return None  # deleted while this page was being read
        status = part.status
        parent = meta[PARENT] if meta[PARENT] in shown_parents else None
        if (
            status.replies_count != meta[REPLIES]
            or status.reblogs_count != meta[REBLOGS]
            or status.favourites_count != meta[FAVS]
            or status.in_reply_to_id != parent
            or status.visibility != meta[VISIBILITY]
        ):
            status = replace(
                status,
                replies_count=meta[REPLIES],
                reblogs_count=meta[REBLOGS],
                favourites_count=meta[FAVS],
                in_reply_to_id=parent,
                in_reply_to_account_id=meta[PARENT_ACCOUNT] if parent is not None else None,
                visibility=Visibility(meta[VISIBILITY]),
            )
        return StatusView(
            status=status,
            account=authors.get(meta),
            mentions=[listed[m] for m in part.mentions if m in listed],
            tags=list(part.tags),
            reblog=reblog,
            application=part.application,
            favourited=bool(meta[FAVOURITED]),
            reblogged=bool(meta[REBLOGGED]),
            bookmarked=bool(meta[BOOKMARKED]),
            pinned=bool(meta[PINNED]),
            muted=sid in muted,
            media=list(part.media),
            parts_key=part,
            card=part.card,
        )

    result = assemble(
        rows,
        boosted=lambda meta: meta[BOOSTED],
        original=related.get,
        view=view,
    )
    return await with_page_extras(reads, viewer, result, load=quoted_views)


async def by_ids(
    reads: ReadScope, viewer: Viewer, ids: Sequence[int], *, beside: Accounts | None = None
) -> list[Visible[StatusView]]:
    """The posts among ``ids`` the viewer may see, in the order given: what
    ``queries.statuses_by_ids`` gives, through one prepared read of the
    policy and the presenter above. ``beside``: accounts to read with the
    posts' mentions (read on their own if no post is shown)."""
    views: dict[int, Visible[StatusView]] = {}
    if ids:
        rows = await _BY_IDS.rows(reads.fast, viewer, raw=True, ids=IdList(dict.fromkeys(ids)))
        views = {v.value.status.id: v for v in await present(reads, viewer, rows, beside=beside)}
    if beside is not None:
        await beside.read_alone(reads, viewer)
    return [views[i] for i in ids if i in views]
