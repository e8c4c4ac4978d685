"""Reading polls: always through their post, so a poll is visible exactly
when its post is (roost/domain/privacy.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import String, cast, distinct, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.tables import poll_votes, polls
from roost.domain import privacy
from roost.domain.privacy import Visible
from roost.domain.types import PollView, StatusView, Viewer
from roost.errors import NotFound
from roost.keys.ring import is_sealed, unseal


def unsealed(options: list[str]) -> list[str]:
    """A poll's option texts as written (``""`` each once erasure took the key)."""
    return [unseal(o) if is_sealed(o) else o for o in options]


async def polls_for(
    conn: AsyncConnection, viewer: Viewer, status_ids: Iterable[int]
) -> dict[int, PollView]:
    """The polls of these posts, by post id, counted now and marked with the
    viewer's votes. The caller has cleared the posts."""
    ids = list(set(status_ids))
    if not ids:
        return {}
    found = (await conn.execute(select(polls).where(polls.c.status_id.in_(ids)))).all()
    if not found:
        return {}
    poll_ids = [row.id for row in found]
    counts: dict[int, dict[int, int]] = {}
    for poll_id, choice, count in await conn.execute(
        select(poll_votes.c.poll_id, poll_votes.c.choice, func.count())
        .where(poll_votes.c.poll_id.in_(poll_ids))
        .group_by(poll_votes.c.poll_id, poll_votes.c.choice)
    ):
        counts.setdefault(poll_id, {})[choice] = count
    voters: dict[int, int] = dict(
        (
            await conn.execute(
                select(poll_votes.c.poll_id, func.count(distinct(poll_votes.c.account_id)))
                .where(poll_votes.c.poll_id.in_(poll_ids))
                .group_by(poll_votes.c.poll_id)
            )
        ).all()
    )
    own: dict[int, list[int]] | None = None
    if viewer.account_id is not None:
        own = {}
        for poll_id, choice in await conn.execute(
            select(poll_votes.c.poll_id, poll_votes.c.choice)
            .where(poll_votes.c.poll_id.in_(poll_ids), poll_votes.c.account_id == viewer.account_id)
            .order_by(poll_votes.c.choice)
        ):
            own.setdefault(poll_id, []).append(choice)
    now = utcnow()
    result: dict[int, PollView] = {}
    for row in found:
        options = tuple(unsealed(row.options))
        by_choice = counts.get(row.id, {})
        voters_count = int(voters.get(row.id, 0))
        if row.remote_counts is not None:
            # A received poll: the counts its server reports.
            by_choice = dict(enumerate(row.remote_counts))
            voters_count = int(row.remote_voters or 0)
        result[row.status_id] = PollView(
            id=row.id,
            status_id=row.status_id,
            account_id=row.account_id,
            options=options,
            counts=tuple(by_choice.get(i, 0) for i in range(len(options))),
            voters_count=voters_count,
            multiple=row.multiple,
            hide_totals=row.hide_totals,
            expires_at=row.expires_at,
            expired=row.expires_at <= now,
            own_votes=None if own is None else tuple(own.get(row.id, ())),
        )
    return result


async def with_polls(
    conn: AsyncConnection,
    viewer: Viewer,
    views: Sequence[Visible[StatusView]],
    *,
    having: set[int] | None = None,
) -> list[Visible[StatusView]]:
    """``views`` with their polls (and their boosted originals' polls) set.
    ``having``: the posts among them known to have a poll (read with the
    page's other facts), when the caller knows."""
    ids = {v.value.status.id for v in views}
    ids |= {v.value.reblog.status.id for v in views if v.value.reblog is not None}
    if having is not None:
        ids &= having
    found = await polls_for(conn, viewer, ids)
    if not found:
        return list(views)

    def attach(view: StatusView) -> StatusView:
        reblog = view.reblog
        if reblog is not None and reblog.status.id in found:
            reblog = replace(reblog, poll=found[reblog.status.id])
        poll = found.get(view.status.id)
        if poll is None and reblog is view.reblog:
            return view
        return replace(view, poll=poll, reblog=reblog)

    return [v.derive(attach) for v in views]


async def poll(conn: AsyncConnection, viewer: Viewer, poll_id: int) -> Visible[PollView]:
    """One poll, if the viewer may see its post; NotFound otherwise."""
    status_id = (
        await conn.execute(select(polls.c.status_id).where(polls.c.id == poll_id))
    ).scalar_one_or_none()
    if status_id is None:
        raise NotFound()
    cleared = await privacy.check_status(conn, viewer, status_id)
    found = (await polls_for(conn, viewer, [status_id]))[status_id]
    return cleared.derive(lambda _row: found)


def facts_branch(among: Callable[[Any], Any]) -> Any:
    """The part of a page's facts query that says which posts have a poll
    (``among(column)``: the column is one of the page's post ids)."""
    return select(
        literal("poll").label("kind"),
        polls.c.status_id.label("status_id"),
        polls.c.id.label("number"),
        cast(null(), String(16)).label("word"),
    ).where(among(polls.c.status_id))
