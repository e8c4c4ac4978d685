"""Small helpers the resource modules share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from pydantic import Field
from sqlalchemy.engine import RowMapping

from roost.api.auth import services
from roost.api.mastodon import serializers
from roost.api.params import Count, OptionalId, Params
from roost.api.responses import JSON, paged_json
from roost.domain.accounts import moved
from roost.domain.graph import queries as graph_queries
from roost.domain.pagination import make_page
from roost.domain.privacy import Visible
from roost.domain.types import Account, Page, Viewer
from roost.errors import NotFound


def as_account(row: Visible[RowMapping]) -> Visible[Account]:
    return row.derive(Account.from_row)


def flag(value: object) -> bool:
    """Mastodon's lenient booleans in query strings ("true", "1", "on")."""
    return str(value).lower() in {"1", "true", "on", "yes", "t"}


class PageParams(Params):
    """Paging by id, newest first (roost/domain/pagination.py)."""

    max_id: OptionalId = Field(default=None, description="Only items older than this id")
    since_id: OptionalId = Field(default=None, description="Only items newer than this id")
    min_id: OptionalId = Field(
        default=None, description="The page of items just newer than this id"
    )
    limit: Count | None = Field(default=None, description="How many items (capped)")

    def page(self, *, max_limit: int = 40, default_limit: int = 20) -> Page:
        return make_page(
            self.max_id,
            self.since_id,
            self.min_id,
            self.limit,
            max_limit=max_limit,
            default_limit=default_limit,
        )


async def relationship_json(request: Request, viewer: Viewer, other: int) -> JSON:
    """The viewer's relationship to one account, as the answer to a graph action."""
    async with services(request).db.read() as conn:
        rels = await graph_queries.relationships(conn, viewer, [other])
    if not rels:
        raise NotFound()
    return JSON(serializers.relationship(rels[0]))


async def shown_accounts(
    request: Request, rows: Sequence[Visible[RowMapping]]
) -> list[Visible[Account]]:
    """Cleared accounts, each that moved with its ``moved``
    (roost/domain/accounts/moved.py), as wherever accounts show."""
    if not rows:
        return []
    async with services(request).db.read() as conn:
        moves = await moved.moved_targets(conn, (int(r.value["id"]) for r in rows))
        targets = await moved.shown_targets(conn, rows[0].viewer, moves) if moves else {}
    return [r.derive(lambda v: moved.with_target(Account.from_row(v), targets)) for r in rows]


async def accounts_json(request: Request, rows: Sequence[Visible[RowMapping]]) -> list[Any]:
    """Cleared accounts as Account entities (``shown_accounts``)."""
    base = services(request).settings.base_url
    return [serializers.account(a, base) for a in await shown_accounts(request, rows)]


async def accounts_page(
    request: Request, rows: Sequence[Visible[RowMapping]], newest: int | None, oldest: int | None
) -> JSON:
    """A page of cleared accounts with its Link header (followers, favourited_by, ...)."""
    return paged_json(request, await accounts_json(request, rows), newest, oldest)
