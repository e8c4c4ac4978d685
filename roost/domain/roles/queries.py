"""Reading roles: which an account holds, and the list of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import account_roles, accounts, roles


@dataclass(frozen=True)
class Role:
    id: int
    name: str
    color: str
    permissions: int
    highlighted: bool
    position: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Role:
        return cls(
            id=row.id,
            name=row.name,
            color=row.color,
            permissions=int(row.permissions),
            highlighted=bool(row.highlighted),
            position=int(row.position),
            created_at=row.created_at,
        )


def permissions_of(account_id: ColumnElement[int]) -> ColumnElement[int]:
    """SQL for the permission mask of the account ``account_id`` names (0 without a role)."""
    held = (
        select(roles.c.permissions)
        .join(account_roles, account_roles.c.role_id == roles.c.id)
        .where(account_roles.c.account_id == account_id)
        .scalar_subquery()
    )
    return func.coalesce(held, 0)


async def all_roles(conn: AsyncConnection) -> list[tuple[Role, int]]:
    """Every role, highest position first, with how many accounts hold it."""
    holders = (
        select(func.count())
        .where(account_roles.c.role_id == roles.c.id)
        .correlate(roles)
        .scalar_subquery()
    )
    rows = await conn.execute(
        select(roles, holders.label("holders")).order_by(roles.c.position.desc(), roles.c.id)
    )
    return [(Role.from_row(row), int(row.holders)) for row in rows]


async def role_named(conn: AsyncConnection, name: str) -> Role | None:
    rows = (await conn.execute(select(roles))).all()
    for row in rows:
        if row.name.lower() == name.strip().lower():
            return Role.from_row(row)
    return None


async def role_of(conn: AsyncConnection, account_id: int) -> Role | None:
    row = (
        await conn.execute(
            select(roles)
            .join(account_roles, account_roles.c.role_id == roles.c.id)
            .where(account_roles.c.account_id == account_id)
        )
    ).first()
    return None if row is None else Role.from_row(row)


async def roles_of(conn: AsyncConnection, account_ids: list[int]) -> dict[int, Role]:
    """The role of each account in ``account_ids`` that has one."""
    if not account_ids:
        return {}
    rows = await conn.execute(
        select(roles, account_roles.c.account_id.label("holder"))
        .join(account_roles, account_roles.c.role_id == roles.c.id)
        .where(account_roles.c.account_id.in_(account_ids))
    )
    return {row.holder: Role.from_row(row) for row in rows}


async def holders(conn: AsyncConnection, role_id: int) -> list[str]:
    rows = await conn.execute(
        select(accounts.c.username)
        .join(account_roles, account_roles.c.account_id == accounts.c.id)
        .where(account_roles.c.role_id == role_id)
        .order_by(accounts.c.username_key)
    )
    return [row.username for row in rows]
