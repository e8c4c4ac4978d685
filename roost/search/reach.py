"""Who may find what by searching: reach, as SQL over ``statuses``.

Reach (what a person can find by searching, as in Mastodon):
  - their own posts;
  - posts they favourited, bookmarked, boosted, replied to or were mentioned in;
  - public posts of accounts that opted in to search (``indexable``).
Nobody signed in: public posts of indexable accounts only. Boosts are never
results (their original is). Reach is not visibility: every id a search returns
is loaded through the privacy policy before anyone sees it.

Both engines' indexes (roost/search/sqlite.py, roost/search/postgres.py) ask
these same questions, so they find the same posts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    and_,
    exists,
    or_,
    select,
    true,
    union,
)

from roost.db.tables import (
    accounts,
    bookmarks,
    favourites,
    media_attachments,
    mentions,
    statuses,
)
from roost.ids import min_id_for_time
from roost.search.query import SearchQuery
from roost.visibility import Visibility

MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Scope:
    """Who searches, and whose posts they asked for (None: anyone's)."""

    searcher: int | None
    author_id: int | None = None


def _interactions() -> list[tuple[Any, Any]]:
    """(who, which post) for each way a searcher interacts with a post: the
    one list both questions below ask, so they find the same posts."""
    boosts, replies = statuses.alias("searcher_boosts"), statuses.alias("searcher_replies")
    return [
        (favourites.c.account_id, favourites.c.status_id),
        (bookmarks.c.account_id, bookmarks.c.status_id),
        (mentions.c.account_id, mentions.c.status_id),
        (boosts.c.account_id, boosts.c.reblog_of_id),
        # ``+ 0``: replies found by the post they answer (its index), never
        # by walking every post of the searcher's.
        (replies.c.account_id + 0, replies.c.in_reply_to_id),
    ]


def interacted_among(
    searcher: Any, among: Callable[[ColumnElement[Any]], ColumnElement[bool]]
) -> CompoundSelect[Any]:
    """Those of some posts (``among`` says which, of a column of post ids) the
    searcher favourited, bookmarked, boosted, replied to or was mentioned in:
    each asked by its key, so the cost follows the posts asked about, not the
    searcher's history."""
    return union(
        *(
            select(post.label("id")).where(who == searcher, post.is_not(None), among(post))
            for who, post in _interactions()
        )
    )


def interacted_with(searcher: int) -> ColumnElement[bool]:
    """True for the ``statuses`` rows the searcher favourited, bookmarked,
    boosted, replied to or was mentioned in: asked of each row by its key
    (not a list of the searcher's every interaction built per search)."""
    return or_(
        *(
            exists(select(post).where(who == searcher, post == statuses.c.id))
            for who, post in _interactions()
        )
    )


def findable_by_anyone() -> ColumnElement[bool]:
    """Public posts of accounts that opted in to search (checked per row by
    the author's primary key, so no list of every indexable account is built)."""
    return and_(
        statuses.c.visibility == int(Visibility.PUBLIC),
        exists(
            select(accounts.c.id).where(
                accounts.c.id == statuses.c.account_id, accounts.c.indexable.is_(True)
            )
        ),
    )


def own_or_findable(scope: Scope) -> ColumnElement[bool]:
    """Reach less the interactions: own posts, and what anyone may find."""
    if scope.searcher is None:
        return findable_by_anyone()
    return or_(statuses.c.account_id == scope.searcher, findable_by_anyone())


def id_bounds(query: SearchQuery) -> tuple[int | None, int | None]:
    """The date operators and paging bounds as a range of post ids (ids sort by
    time): lowest included, highest excluded."""

    def bound(moment: datetime | None) -> int | None:
        if moment is None:
            return None
        return min(max(min_id_for_time(moment), 0), MAX_ID)

    low, high = bound(query.since), bound(query.until)
    if query.above_id is not None:
        low = max(low or 0, min(query.above_id + 1, MAX_ID))
    if query.below_id is not None:
        high = min(high if high is not None else MAX_ID, query.below_id)
    return low, high


def has_media() -> ColumnElement[bool]:
    return exists(
        select(media_attachments.c.id).where(media_attachments.c.status_id == statuses.c.id)
    )


def narrowed_by(scope: Scope, query: SearchQuery) -> ColumnElement[bool]:
    """What the operators (and ``account_id``) allow, whoever searches."""
    low, high = id_bounds(query)
    return narrowing(scope, low, high, query.has_media)


def narrowing(scope: Scope, low: Any, high: Any, media: bool | None) -> ColumnElement[bool]:
    """``narrowed_by`` with the bounds given (values, or parameters of a
    prepared read; None: no bound)."""
    conditions: list[ColumnElement[bool]] = [statuses.c.reblog_of_id.is_(None)]
    if scope.author_id is not None:
        conditions.append(statuses.c.account_id == scope.author_id)
    if low is not None:
        conditions.append(statuses.c.id >= low)
    if high is not None:
        conditions.append(statuses.c.id < high)
    if media is True:
        conditions.append(has_media())
    elif media is False:
        conditions.append(~has_media())
    return and_(true(), *conditions)


def reach_clause(scope: Scope, query: SearchQuery) -> ColumnElement[bool]:
    """True for the ``statuses`` rows within reach that the operators allow.

    The one statement of reach, built from the parts above: PostgreSQL
    searches with it whole, and SQLite checks each kind of candidate with its
    part (roost/search/sqlite.py).
    """
    return within_reach(scope, narrowed_by(scope, query))


def within_reach(scope: Scope, narrowed: ColumnElement[bool]) -> ColumnElement[bool]:
    """``reach_clause`` with the operators' part given (``narrowing``)."""
    reach = own_or_findable(scope)
    if scope.searcher is not None:
        reach = or_(reach, interacted_with(scope.searcher))
    return and_(reach, narrowed)
