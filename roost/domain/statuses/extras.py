"""What a page of posts carries beyond the post itself: polls, quotes, and
its authors' moves (``moved``, roost/domain/accounts/moved.py).

One query asks, for every post of the page (and every boosted original),
whether it has a poll, its quote policy, the quote it makes and how many
accepted quotes it has; only what that finds is read further (the polls'
counts and the viewer's votes, the quoted posts through the privacy policy).
A page with neither costs that one query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope
from roost.db.fastread import IdList, Prepared, id_list
from roost.domain.accounts import moved
from roost.domain.polls import queries as polls
from roost.domain.privacy import Visible
from roost.domain.quotes import queries as quotes
from roost.domain.types import Account, StatusView, Viewer

Opener = Callable[[], Awaitable[AsyncConnection]]


def _facts_query(posts: Callable[[Any], Any], authors: Callable[[Any], Any]) -> Any:
    return union_all(
        polls.facts_branch(posts),
        *quotes.facts_branches(posts),
        moved.facts_branch(authors),
    )


# The same query as a prepared read (roost/db/fastread.py): the page's post
# ids and authors as two id-list parameters.
_FACTS = Prepared(
    lambda: _facts_query(lambda c: id_list(c, "ids"), lambda c: id_list(c, "authors"))
)


def _asked(views: Sequence[Visible[StatusView]]) -> tuple[list[int], list[int]]:
    """The page's post ids (boosted originals too) and authors."""
    ids = {v.value.status.id for v in views}
    ids |= {v.value.reblog.status.id for v in views if v.value.reblog is not None}
    authors = {v.value.account.id for v in views}
    authors |= {v.value.reblog.account.id for v in views if v.value.reblog is not None}
    return list(ids), sorted(authors)


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
    ids, authors = _asked(views)
    query = _facts_query(lambda c: c.in_(ids), lambda c: c.in_(authors))
    rows = [tuple(r) for r in await conn.execute(query)]

    async def given() -> AsyncConnection:
        return conn

    return await _with_facts(given, viewer, views, rows, load=load)


async def with_page_extras(
    reads: ReadScope,
    viewer: Viewer,
    views: Sequence[Visible[StatusView]],
    *,
    load: quotes.Loader | None,
) -> list[Visible[StatusView]]:
    """``with_extras`` for a page read in ``reads``: the facts query is a
    prepared read, and a SQLAlchemy connection is opened only if the facts
    name something more to read (a poll, a quote, a move), which most pages'
    do not. On PostgreSQL that saves the connection's checkout, its
    transaction and its ping: five round trips of a page's eight."""
    if not views:
        return []
    ids, authors = _asked(views)
    rows = await reads.fast.all(_FACTS, ids=IdList(ids), authors=IdList(authors))
    return await _with_facts(reads.conn, viewer, views, rows, load=load)


async def _with_facts(
    open_conn: Opener,
    viewer: Viewer,
    views: Sequence[Visible[StatusView]],
    rows: Sequence[Sequence[Any]],
    *,
    load: quotes.Loader | None,
) -> list[Visible[StatusView]]:
    having_poll: set[int] = set()
    facts = quotes.QuoteFacts()
    moves: dict[int, int] = {}
    for kind, status_id, number, word in rows:
        if kind == "moved":
            moves[int(status_id)] = int(number)
        elif not quotes.take_fact(facts, kind, status_id, number, word) and kind == "poll":
            having_poll.add(int(status_id))
    shown = list(views)
    if moves:
        shown = _with_moved(shown, await moved.shown_targets(await open_conn(), viewer, moves))
    if having_poll:
        shown = await polls.with_polls(await open_conn(), viewer, shown, having=having_poll)
    return await quotes.with_quotes(open_conn, viewer, shown, facts=facts, load=load)


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
