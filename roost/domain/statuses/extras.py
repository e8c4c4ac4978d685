"""What a page of posts carries beyond the post itself: polls, quotes, and
its authors' moves (``moved``, roost/domain/accounts/moved.py).

One query asks, for every post of the page (and every boosted original),
whether it has a poll, its quote policy, the quote it makes and how many
accepted quotes it has; only what that finds is read further (the polls'
counts and the viewer's votes, the quoted posts through the privacy policy).
A page with neither costs that one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.accounts import moved
from roost.domain.polls import queries as polls
from roost.domain.privacy import Visible
from roost.domain.quotes import queries as quotes
from roost.domain.types import Account, StatusView, Viewer


async def with_extras(
    conn: AsyncConnection,
    viewer: Viewer,
    views: Sequence[Visible[StatusView]],
    *,
    load: quotes.Loader | None,
) -> list[Visible[StatusView]]:
    """``views`` with their polls and ``quoting`` set (see the module)."""
    if not views:
        return []
    ids = {v.value.status.id for v in views}
    ids |= {v.value.reblog.status.id for v in views if v.value.reblog is not None}
    wanted = list(ids)
    having_poll: set[int] = set()
    facts = quotes.QuoteFacts()
    authors = {v.value.account.id for v in views}
    authors |= {v.value.reblog.account.id for v in views if v.value.reblog is not None}
    query = union_all(
        polls.facts_branch(wanted),
        *quotes.facts_branches(wanted),
        moved.facts_branch(sorted(authors)),
    )
    moves: dict[int, int] = {}
    for kind, status_id, number, word in await conn.execute(query):
        if kind == "moved":
            moves[int(status_id)] = int(number)
        elif not quotes.take_fact(facts, kind, status_id, number, word) and kind == "poll":
            having_poll.add(int(status_id))
    shown = list(views)
    if moves:
        shown = _with_moved(shown, await moved.shown_targets(conn, viewer, moves))
    if having_poll:
        shown = await polls.with_polls(conn, viewer, shown, having=having_poll)
    return await quotes.with_quotes(conn, viewer, shown, facts=facts, load=load)


def _with_moved(
    views: Sequence[Visible[StatusView]], targets: dict[int, Account]
) -> list[Visible[StatusView]]:
    """The views with their authors' (and boosted authors') ``moved`` set."""

    def attach(view: StatusView) -> StatusView:
        reblog = view.reblog
        if reblog is not None:
            boosted = moved.with_target(reblog.account, targets)
            if boosted is not reblog.account:
                reblog = replace(reblog, account=boosted)
        author = moved.with_target(view.account, targets)
        if author is view.account and reblog is view.reblog:
            return view
        return replace(view, account=author, reblog=reblog)

    return [v.derive(attach) for v in views]
