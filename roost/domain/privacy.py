"""THE visibility policy: who may see which post and which account.

Every read of posts or accounts goes through here. The policy answers in two
forms that must agree: a SQL predicate for lists (``status_clause``) and, for
single objects, a query through that same predicate (``check_status``). Results
come back wrapped in ``Visible``, which only this module can make, and the
serializers accept nothing else, so a new endpoint cannot forget the check.

Deny by default: a post is visible when one of these holds, and never otherwise.
  - its author is not suspended, AND
  - it is public or unlisted; or the viewer wrote it; or it is followers-only and
    the viewer follows the author; or it is followers-only or direct and
    mentions the viewer;
  - and, for a boost, the boosted post is visible by the same rules.
A post the viewer may not see is answered with 404, never 403: even its
existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import FromClause

from roost.db.tables import accounts, follows, mentions, statuses
from roost.domain.types import Viewer, Visibility
from roost.errors import NotFound

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


_SHOWN = (int(Visibility.PUBLIC), int(Visibility.UNLISTED))


def _active_authors() -> Select[Any]:
    return select(accounts.c.id).where(accounts.c.suspended_at.is_(None))


def status_clause(viewer: Viewer, table: FromClause = statuses) -> ColumnElement[bool]:
    """SQL that is true exactly for the rows of ``table`` the viewer may see."""
    c = table.c
    author_active = c.account_id.in_(_active_authors())
    own_rules = _own_rules_for(viewer, table)
    original = statuses.alias("policy_original")
    boosted_visible = or_(
        c.reblog_of_id.is_(None),
        c.reblog_of_id.in_(
            select(original.c.id).where(
                original.c.account_id.in_(_active_authors()),
                _own_rules_for(viewer, original),
            )
        ),
    )
    return and_(author_active, own_rules, boosted_visible)


def _own_rules_for(viewer: Viewer, table: FromClause) -> ColumnElement[bool]:
    c = table.c
    if viewer.account_id is None:
        return c.visibility.in_(_SHOWN)
    me = viewer.account_id
    return or_(
        c.visibility.in_(_SHOWN),
        c.account_id == me,
        and_(
            c.visibility == int(Visibility.PRIVATE),
            c.account_id.in_(select(follows.c.target_account_id).where(follows.c.account_id == me)),
        ),
        and_(
            c.visibility.in_((int(Visibility.PRIVATE), int(Visibility.DIRECT))),
            c.id.in_(select(mentions.c.status_id).where(mentions.c.account_id == me)),
        ),
    )


def account_clause(viewer: Viewer) -> ColumnElement[bool]:
    """Suspended accounts are shown to staff only."""
    if viewer.is_admin:
        return true()
    return accounts.c.suspended_at.is_(None)


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


async def visible_accounts(
    conn: AsyncConnection, viewer: Viewer, query: Select[Any]
) -> list[Visible[RowMapping]]:
    result = await conn.execute(query.where(account_clause(viewer)))
    return [Visible(row, viewer, _POLICY) for row in result.mappings()]


async def check_account(
    conn: AsyncConnection, viewer: Viewer, account_id: int
) -> Visible[RowMapping]:
    rows = await visible_accounts(conn, viewer, select(accounts).where(accounts.c.id == account_id))
    if not rows:
        raise NotFound()
    return rows[0]


def cleared_ids(rows: Sequence[Visible[RowMapping]]) -> list[int]:
    return [int(row.value["id"]) for row in rows]
