"""THE visibility policy: who may see which post and which account.

Above 500 lines: it is the one module every read goes through, with the
policy in its two forms (SQL predicate and prepared reads of the same
rules) side by side so that they are audited, mutated and changed together.

Every read of posts or accounts goes through here. The policy answers in two
forms that must agree: a SQL predicate for lists (``status_clause``) and, for
single objects, a query through that same predicate (``check_status``). Results
come back wrapped in ``Visible``, which only this module can make, and the
serializers accept nothing else, so a new endpoint cannot forget the check.

Deny by default: a post is visible to a viewer when ALL of these hold, and
never otherwise:
  - its author is not suspended (staff excepted: they must see what they
    moderate);
  - the viewer does not block the author, and the author does not block the
    viewer (a block hides both ways);
  - it is public or unlisted; or the viewer wrote it; or it is followers-only
    and the viewer is an approved follower of the author; or it is
    followers-only or direct and mentions the viewer;
  - it is not held as part of a spam wave (roost/domain/spam), or the viewer
    wrote it (staff see held posts where they go looking for them, as they
    see suspended accounts' posts);
  - for a boost, the boosted post is visible by these same rules.
A post the viewer may not see is answered with 404, never 403: even its
existence is not revealed.

Timelines (home, lists, public, hashtags, and their streams) read as
``timeline_reader(viewer)``: staff see a suspended account's posts where they
go looking for them (its profile, a post, the admin API), not mixed into what
they read.

Accounts: a suspended account is shown to staff only. In *lists* of accounts
(followers, who favourited, search, a notification's sender) an account on
either side of a block with the viewer is left out too; a single account
(a profile, a relationship) still shows, since that is where one unblocks.

Silenced accounts (roost/domain/accounts/limits.py) are heard only by those
who follow them: where posts are *discovered* rather than followed (public,
local and hashtag timelines and their streams, trends, search, the profile
directory and account search), their posts and profiles are left out for
everyone else (``heard``, ``trendable_post``). Their posts stay readable on
their profile and by link, as on Mastodon.

Mutes are not visibility: a muted account's posts stay readable; timelines and
notifications filter them next to their own queries (roost/domain/timelines/quiet.py,
roost/domain/notifications/queries.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import BigInteger, ColumnElement, Select, and_, bindparam, or_, select, true
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import FromClause

from roost.db.fastread import FastReader, IdList, Prepared, Row, id_list
from roost.db.tables import (
    account_moves,
    accounts,
    blocks,
    follows,
    mentions,
    spam_holds,
    statuses,
)
from roost.domain.types import ACCOUNT_COLUMNS, Viewer, Visibility
from roost.errors import NotFound
from roost.visibility import LISTED

T = TypeVar("T")
U = TypeVar("U")

_POLICY = object()


class Visible(Generic[T]):
    """A value the policy has cleared for one viewer. Only this module makes them."""

    __slots__ = ("value", "viewer")

    def __init__(self, value: T, viewer: Viewer, _seal: object = None) -> None:
        if _seal is not _POLICY:
            raise TypeError("only roost.domain.privacy may clear objects for display")
        self.value = value
        self.viewer = viewer

    def derive(self, make: Callable[[T], U]) -> Visible[U]:
        """A view built from this cleared value alone stays cleared.

        Anything *else* the new value embeds (another post, another account)
        must itself have come through the policy.
        """
        return Visible(make(self.value), self.viewer, _POLICY)


_LISTED_CODES = tuple(sorted(int(v) for v in LISTED))


def listed(visibility: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL for ``Visibility.listed``: the post is public or unlisted."""
    return visibility.in_(_LISTED_CODES)


def _suspended(author: ColumnElement[int]) -> ColumnElement[bool]:
    """True when ``author`` is suspended: one primary-key probe per row, where
    ``author NOT IN (every suspended account)`` read the accounts table on
    every query. Its own alias, so it never correlates with an ``accounts`` the
    outer query joins."""
    suspended = accounts.alias("policy_suspended")
    return (
        select(suspended.c.id)
        .where(suspended.c.id == author, suspended.c.suspended_at.is_not(None))
        .exists()
    )


def _silenced(author: ColumnElement[int]) -> ColumnElement[bool]:
    """True when ``author`` is silenced (its own alias, like ``_suspended``)."""
    silenced = accounts.alias("policy_silenced")
    return (
        select(silenced.c.id)
        .where(silenced.c.id == author, silenced.c.silenced_at.is_not(None))
        .exists()
    )


def heard(viewer: Viewer, author: ColumnElement[int]) -> ColumnElement[bool]:
    """True for an author whose posts the viewer may come across where posts
    are discovered: not silenced, or the viewer's own, or one the viewer follows."""
    if viewer.account_id is None:
        return ~_silenced(author)
    me = viewer.account_id
    return or_(
        ~_silenced(author),
        author == me,
        select(follows.c.id)
        .where(follows.c.account_id == me, follows.c.target_account_id == author)
        .exists(),
    )


async def heard_status_ids(conn: AsyncConnection, viewer: Viewer, ids: Sequence[int]) -> list[int]:
    """``ids`` (in their order) less the posts of authors the viewer may not
    come across (``heard``): for search results."""
    if not ids:
        return []
    rows = await conn.execute(
        select(statuses.c.id).where(
            statuses.c.id.in_(list(ids)), heard(viewer, statuses.c.account_id)
        )
    )
    kept = {int(row.id) for row in rows}
    return [i for i in ids if i in kept]


def blocked_either_way(me: int) -> list[Select[Any]]:
    """The accounts ``me`` blocks, and the accounts that block ``me``."""
    return [
        select(blocks.c.target_account_id).where(blocks.c.account_id == me),
        select(blocks.c.account_id).where(blocks.c.target_account_id == me),
    ]


def timeline_reader(viewer: Viewer) -> Viewer:
    """The viewer as timelines clear posts for them: without staff's sight of
    suspended accounts (the rest of the policy does not depend on it)."""
    return replace(viewer, is_admin=False) if viewer.is_admin else viewer


def listed_account_id(viewer: Viewer, author: ColumnElement[int]) -> ColumnElement[bool]:
    """True for an account id the viewer may be shown in a list (and whose posts
    may be shown): not suspended (staff excepted), no block either way."""
    conditions: list[ColumnElement[bool]] = []
    if not viewer.is_admin:
        conditions.append(~_suspended(author))
    if viewer.account_id is not None:
        conditions += [author.not_in(q) for q in blocked_either_way(viewer.account_id)]
    return and_(true(), *conditions)


def status_clause(viewer: Viewer, table: FromClause = statuses) -> ColumnElement[bool]:
    """SQL that is true exactly for the rows of ``table`` the viewer may see."""
    if table is statuses:
        return _statuses_clause(viewer.account_id, viewer.is_admin)
    return _status_clause(viewer, table)


@lru_cache(maxsize=256)
def _statuses_clause(account_id: int | None, is_admin: bool) -> ColumnElement[bool]:
    # Building this expression costs more than running it on a warm database;
    # it depends only on who asks (never on the time), so it is built once per
    # recent viewer and reused (SQL expressions are immutable). About 65 kB
    # each: 256 viewers is some 16 MB.
    return _status_clause(Viewer(account_id=account_id, is_admin=is_admin), statuses)


def _status_clause(viewer: Viewer, table: FromClause) -> ColumnElement[bool]:
    c = table.c
    original = statuses.alias("policy_original")
    # EXISTS on the original's key rather than IN over every visible post: the
    # same rule, but SQLite checks one row per boost instead of first building
    # the set of all posts the viewer may see.
    boosted_visible = or_(
        c.reblog_of_id.is_(None),
        select(original.c.id)
        .where(
            original.c.id == c.reblog_of_id,
            listed_account_id(viewer, original.c.account_id),
            _own_rules_for(viewer, original),
            _not_held(viewer, original),
        )
        .correlate(table)
        .exists(),
    )
    return and_(
        listed_account_id(viewer, c.account_id),
        _own_rules_for(viewer, table),
        _not_held(viewer, table),
        boosted_visible,
    )


def _not_held(viewer: Viewer, table: FromClause) -> ColumnElement[bool]:
    """A post held as part of a spam wave shows to its author (and staff) only."""
    if viewer.is_admin:
        return true()
    held = select(spam_holds.c.status_id).where(spam_holds.c.status_id == table.c.id)
    not_held = ~held.correlate(table).exists()
    if viewer.account_id is None:
        return not_held
    return or_(table.c.account_id == viewer.account_id, not_held)


def _own_rules_for(viewer: Viewer, table: FromClause) -> ColumnElement[bool]:
    c = table.c
    if viewer.account_id is None:
        return listed(c.visibility)
    me = viewer.account_id
    return or_(
        listed(c.visibility),
        c.account_id == me,
        # Correlated EXISTS (one unique-index probe per row) rather than IN over
        # all of the viewer's follows or mentions: the same rule.
        and_(
            c.visibility == int(Visibility.PRIVATE),
            select(follows.c.id)
            .where(follows.c.account_id == me, follows.c.target_account_id == c.account_id)
            .correlate(table)
            .exists(),
        ),
        and_(  # mentioned in a post that is not listed
            c.visibility.in_((int(Visibility.PRIVATE), int(Visibility.DIRECT))),
            select(mentions.c.status_id)
            .where(mentions.c.status_id == c.id, mentions.c.account_id == me)
            .correlate(table)
            .exists(),
        ),
    )


def trendable_post(table: FromClause = statuses) -> ColumnElement[bool]:
    """Posts whose activity may make a hashtag, a link or the post itself
    trend (roost/domain/trends): public (not unlisted, whose authors asked to
    stay out of discovery), not a boost, by an account that is neither
    suspended, silenced, nor opted out of discovery (``discoverable``). What trends is
    still shown to each viewer through the rest of this policy."""
    author = accounts.alias("trend_author")
    return and_(
        table.c.visibility == int(Visibility.PUBLIC),
        table.c.reblog_of_id.is_(None),
        select(author.c.id)
        .where(
            author.c.id == table.c.account_id,
            author.c.suspended_at.is_(None),
            author.c.silenced_at.is_(None),
            author.c.discoverable.is_(True),
        )
        .correlate(table)
        .exists(),
    )


def account_clause(viewer: Viewer, table: FromClause = accounts) -> ColumnElement[bool]:
    """One account on its own: suspended accounts are shown to staff only."""
    if viewer.is_admin:
        return true()
    return table.c.suspended_at.is_(None)


def listed_account_clause(viewer: Viewer, table: FromClause = accounts) -> ColumnElement[bool]:
    """Accounts in a list: also none on either side of a block with the viewer."""
    clause = account_clause(viewer, table)
    if viewer.account_id is None:
        return clause
    return and_(clause, *(table.c.id.not_in(q) for q in blocked_either_way(viewer.account_id)))


async def visible_statuses(
    conn: AsyncConnection, viewer: Viewer, query: Select[Any]
) -> list[Visible[RowMapping]]:
    """Run a query over ``statuses`` with the policy applied; rows come back cleared."""
    result = await conn.execute(query.where(status_clause(viewer)))
    return [Visible(row, viewer, _POLICY) for row in result.mappings()]


async def check_status(
    conn: AsyncConnection, viewer: Viewer, status_id: int
) -> Visible[RowMapping]:
    """The one post, if the viewer may see it; NotFound otherwise (never Forbidden)."""
    rows = await visible_statuses(conn, viewer, select(statuses).where(statuses.c.id == status_id))
    if not rows:
        raise NotFound()
    return rows[0]


async def visible_status_ids(conn: AsyncConnection, viewer: Viewer, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` the viewer may see: for links to posts embedded in another
    (a reply's parent), which must not name a post the viewer cannot see."""
    wanted = list(set(ids))
    if not wanted:
        return set()
    rows = await conn.execute(
        select(statuses.c.id).where(statuses.c.id.in_(wanted), status_clause(viewer))
    )
    return {int(row.id) for row in rows}


async def hidden_by_own_block(conn: AsyncConnection, me: int, ids: Iterable[int]) -> set[int]:
    """Of ``ids`` (posts hidden from account ``me``), those hidden only because
    ``me`` blocks their author: public or unlisted posts of an author who is
    not suspended and does not block ``me``. A quote of one says
    ``blocked_account`` and, like any hidden post, names nothing of it."""
    wanted = list(set(ids))
    if not wanted:
        return set()
    rows = await conn.execute(
        select(statuses.c.id).where(
            statuses.c.id.in_(wanted),
            listed(statuses.c.visibility),
            statuses.c.account_id.in_(
                select(blocks.c.target_account_id).where(blocks.c.account_id == me)
            ),
            statuses.c.account_id.not_in(
                select(blocks.c.account_id).where(blocks.c.target_account_id == me)
            ),
            ~_suspended(statuses.c.account_id),
        )
    )
    return {int(row.id) for row in rows}


async def visible_accounts(
    conn: AsyncConnection, viewer: Viewer, query: Select[Any], *, include_blocked: bool = False
) -> list[Visible[RowMapping]]:
    """Run a query over ``accounts`` as a list; ``include_blocked`` only for the
    viewer's own lists of the accounts they block or mute."""
    clause = account_clause(viewer) if include_blocked else listed_account_clause(viewer)
    result = await conn.execute(query.where(clause))
    return [Visible(row, viewer, _POLICY) for row in result.mappings()]


async def check_account(
    conn: AsyncConnection, viewer: Viewer, account_id: int
) -> Visible[RowMapping]:
    rows = await visible_accounts(
        conn, viewer, select(accounts).where(accounts.c.id == account_id), include_blocked=True
    )
    if not rows:
        raise NotFound()
    return rows[0]


def _account_shown(kind: str) -> Select[Any]:
    viewer = parametric_viewer(kind)
    return select(accounts.c.id).where(
        accounts.c.id == bindparam("shown_account_id", type_=BigInteger()),
        account_clause(viewer),
    )


_ACCOUNT_SHOWN = {
    kind: Prepared(partial(_account_shown, kind)) for kind in ("anonymous", "account", "staff")
}


async def check_account_shown(reader: FastReader, viewer: Viewer, account_id: int) -> None:
    """``check_account``'s rule as one prepared read, for a caller that needs
    only to know the account may be shown (its posts are read next, through
    ``PolicyRead``): NotFound otherwise."""
    rows = await reader.all(
        _ACCOUNT_SHOWN[viewer_kind(viewer)], raw=True, shown_account_id=account_id
    )
    if not rows:
        raise NotFound()


async def is_blocked_either_way(conn: AsyncConnection, one: int, other: int) -> bool:
    row = (
        await conn.execute(
            select(blocks.c.id)
            .where(
                or_(
                    and_(blocks.c.account_id == one, blocks.c.target_account_id == other),
                    and_(blocks.c.account_id == other, blocks.c.target_account_id == one),
                )
            )
            .limit(1)
        )
    ).first()
    return row is not None


def cleared_ids(rows: Sequence[Visible[RowMapping]]) -> list[int]:
    return [int(row.value["id"]) for row in rows]


# Prepared reads (roost/db/fastread.py) are compiled once, not per viewer: the
# viewer's id is a parameter, and the statement comes in one variant per kind
# of viewer, since the rules differ in shape (nobody, an account, staff).
POLICY_VIEWER = "policy_viewer"
ANONYMOUS_KIND, ACCOUNT_KIND, STAFF_KIND = "anonymous", "account", "staff"
VIEWER_KINDS = (ANONYMOUS_KIND, ACCOUNT_KIND, STAFF_KIND)


def viewer_kind(viewer: Viewer) -> str:
    if viewer.account_id is None:
        return ANONYMOUS_KIND
    return STAFF_KIND if viewer.is_admin else ACCOUNT_KIND


def parametric_viewer(kind: str) -> Viewer:
    """A viewer of ``kind`` whose account id is the ``POLICY_VIEWER`` parameter."""
    if kind == ANONYMOUS_KIND:
        return Viewer(account_id=None)
    me = cast(int, bindparam(POLICY_VIEWER, type_=BigInteger()))
    return Viewer(account_id=me, is_admin=kind == STAFF_KIND)


def viewer_parameters(viewer: Viewer) -> dict[str, Any]:
    return {} if viewer.account_id is None else {POLICY_VIEWER: viewer.account_id}


class PolicyRead:
    """A prepared read over ``statuses`` with this policy's clause added to it.

    ``build`` gets the parametric viewer, for conditions of its own that name
    the viewer (a home timeline's follows); the rows that come back are
    cleared for the viewer who asked.
    """

    def __init__(self, build: Callable[[Viewer], Select[Any]]) -> None:
        self._prepared = {
            kind: Prepared(partial(_policy_read, build, kind)) for kind in VIEWER_KINDS
        }

    def prepared(self, viewer: Viewer) -> Prepared:
        return self._prepared[viewer_kind(viewer)]

    async def rows(
        self, reader: FastReader, viewer: Viewer, *, raw: bool = False, **values: Any
    ) -> list[Visible[Row]]:
        values.update(viewer_parameters(viewer))
        rows = await reader.all(self._prepared[viewer_kind(viewer)], raw=raw, **values)
        return [Visible(row, viewer, _POLICY) for row in rows]


def _policy_read(build: Callable[[Viewer], Select[Any]], kind: str) -> Select[Any]:
    viewer = parametric_viewer(kind)
    return build(viewer).where(_status_clause(viewer, statuses))


def _listed_accounts(kind: str) -> Select[Any]:
    viewer = parametric_viewer(kind)
    # Where each moved, in the same read: the page that shows these accounts
    # shows their ``moved`` too, and asking apart was a round trip per page.
    moved_to = (
        select(account_moves.c.target_account_id)
        .where(account_moves.c.account_id == accounts.c.id)
        .scalar_subquery()
    )
    return select(
        *(accounts.c[name] for name in ACCOUNT_COLUMNS), moved_to.label("moved_to")
    ).where(id_list(accounts.c.id, "ids"), listed_account_clause(viewer))


_LISTED_ACCOUNTS = {kind: Prepared(partial(_listed_accounts, kind)) for kind in VIEWER_KINDS}


async def listed_accounts_by_ids(
    reader: FastReader, viewer: Viewer, ids: Iterable[int]
) -> tuple[list[Visible[dict[str, Any]]], dict[int, int]]:
    """``visible_accounts`` of the accounts ``ids`` (as a list: no blocks
    either way), in one prepared read; each row as a dict of the columns an
    ``Account`` has. With them, those of them that moved: the id of the
    account each moved to (whether that one may be shown is the caller's to
    ask, as roost/domain/accounts/moved.py ``shown_targets`` does)."""
    wanted = IdList(sorted(set(ids)))
    if not wanted:
        return [], {}
    rows = await reader.all(
        _LISTED_ACCOUNTS[viewer_kind(viewer)], ids=wanted, **viewer_parameters(viewer)
    )
    width = len(ACCOUNT_COLUMNS)
    listed = [
        Visible(dict(zip(ACCOUNT_COLUMNS, row[:width], strict=True)), viewer, _POLICY)
        for row in rows
    ]
    moves = {int(row[0]): int(row[width]) for row in rows if row[width] is not None}
    return listed, moves


def _heard_ids(kind: str) -> Select[Any]:
    viewer = parametric_viewer(kind)
    return select(statuses.c.id).where(
        id_list(statuses.c.id, "ids"), heard(viewer, statuses.c.account_id)
    )


_HEARD_IDS = {kind: Prepared(partial(_heard_ids, kind)) for kind in VIEWER_KINDS}


async def heard_status_ids_read(
    reader: FastReader, viewer: Viewer, ids: Sequence[int]
) -> list[int]:
    """``heard_status_ids`` in one prepared read (roost/db/fastread.py)."""
    if not ids:
        return []
    rows = await reader.all(
        _HEARD_IDS[viewer_kind(viewer)],
        raw=True,
        ids=IdList(dict.fromkeys(ids)),
        **viewer_parameters(viewer),
    )
    kept = {int(row[0]) for row in rows}
    return [i for i in ids if i in kept]
