"""A post's thread: its ancestors and descendants, as ``GET .../context`` and
the web's post page show them.

The ids come from two prepared recursive reads (up the replies, down the
replies) where a query per ancestor and one per level of replies were asked
before; the posts come through the policy and the feed presenter
(``feed.by_ids``), as timelines read them. What is shown is as before: only
posts the viewer may see, and a hidden post hides the replies below it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, literal_column, select

from roost.db.engine import ReadScope
from roost.db.fastread import Prepared
from roost.db.tables import statuses
from roost.db.types import Id
from roost.domain.privacy import Visible
from roost.domain.statuses.feed import by_ids
from roost.domain.types import StatusView, Viewer
from roost.errors import NotFound

MAX_ANCESTORS = 40
MAX_DESCENDANTS = 4096


def _ancestors() -> Select[Any]:
    """(id, depth) of the posts above ``focus``, nearest first."""
    up = (
        select(statuses.c.id, statuses.c.in_reply_to_id, literal_column("0").label("depth"))
        .where(statuses.c.id == bindparam("focus", type_=Id))
        .cte("thread_up", recursive=True)
    )
    parent = statuses.alias("thread_parent")
    up = up.union_all(
        select(parent.c.id, parent.c.in_reply_to_id, up.c.depth + 1).where(
            parent.c.id == up.c.in_reply_to_id, up.c.depth < MAX_ANCESTORS
        )
    )
    return select(up.c.id).where(up.c.depth > 0).order_by(up.c.depth)


def _descendants() -> Select[Any]:
    """(id, parent) of the replies below ``focus``, level by level."""
    down = (
        select(statuses.c.id, statuses.c.in_reply_to_id, literal_column("1").label("depth"))
        .where(statuses.c.in_reply_to_id == bindparam("focus", type_=Id))
        .cte("thread_down", recursive=True)
    )
    child = statuses.alias("thread_child")
    down = down.union_all(
        select(child.c.id, child.c.in_reply_to_id, down.c.depth + 1).where(
            child.c.in_reply_to_id == down.c.id, down.c.depth < MAX_DESCENDANTS
        )
    )
    return select(down.c.id, down.c.in_reply_to_id).limit(MAX_DESCENDANTS)


_ANCESTORS = Prepared(_ancestors)
_DESCENDANTS = Prepared(_descendants)


async def thread_context(
    reads: ReadScope, viewer: Viewer, status_id: int
) -> tuple[list[Visible[StatusView]], list[Visible[StatusView]]]:
    """Ancestors (oldest first) and descendants (depth-first, oldest first) of
    a post the viewer may see (NotFound otherwise)."""
    up = [int(row[0]) for row in await reads.fast.all(_ANCESTORS, raw=True, focus=status_id)]
    up.reverse()
    children: dict[int, list[int]] = {}
    for child, parent in await reads.fast.all(_DESCENDANTS, raw=True, focus=status_id):
        children.setdefault(int(parent), []).append(int(child))
    ordered: list[int] = []

    def walk(node: int) -> None:
        for child in sorted(children.get(node, [])):
            ordered.append(child)
            walk(child)

    walk(status_id)
    # The whole thread through the policy and the presenter at once.
    views = {v.value.status.id: v for v in await by_ids(reads, viewer, [status_id, *up, *ordered])}
    found = views.get(status_id)
    if found is None:
        raise NotFound()
    focus = found.value.status
    # Ancestors only when the viewer may see the parent (the presenter names
    # it only then).
    ancestors = [views[i] for i in up if i in views] if focus.in_reply_to_id is not None else []
    # Only what the viewer may see; a hidden post also hides the replies below
    # it, so a reply cannot reveal the part of a thread the viewer may not see.
    shown: list[Visible[StatusView]] = []
    reachable = {focus.id}
    for sid in ordered:
        view = views.get(sid)
        if view is None or view.value.status.in_reply_to_id not in reachable:
            continue
        reachable.add(sid)
        shown.append(view)
    return ancestors, shown
