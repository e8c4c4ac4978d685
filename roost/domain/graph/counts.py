"""Follower and following counts, and what suspension does to them.

A follow counts only while both of its accounts are active: a suspended
account's follows stop counting (its followers see their following count drop)
and count again when the suspension is lifted. The counters live on the account
rows because every profile and every post in a timeline shows them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, union, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, follows
from roost.domain.events import AccountChanged

_follower = accounts.alias("count_follower")
_target = accounts.alias("count_target")


async def count_follow(tx: Tx, follower: int, target: int, delta: int) -> None:
    """Adjust both counters for one follow made (+1) or undone (-1)."""
    active = (
        await tx.execute(
            select(func.count())
            .select_from(accounts)
            .where(accounts.c.id.in_([follower, target]), accounts.c.suspended_at.is_(None))
        )
    ).scalar_one()
    if active < 2:
        return  # a follow with a suspended end is not counted, so nothing to undo either
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == follower)
        .values(following_count=accounts.c.following_count + delta)
    )
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == target)
        .values(followers_count=accounts.c.followers_count + delta)
    )


async def recount(tx: Tx, account_ids: Iterable[int]) -> None:
    """Set the counters of ``account_ids`` from the follows of active accounts."""
    ids = list(set(account_ids))
    if not ids:
        return
    followers = (
        select(func.count())
        .select_from(follows.join(_follower, _follower.c.id == follows.c.account_id))
        .where(follows.c.target_account_id == accounts.c.id, _follower.c.suspended_at.is_(None))
        .scalar_subquery()
    )
    following = (
        select(func.count())
        .select_from(follows.join(_target, _target.c.id == follows.c.target_account_id))
        .where(follows.c.account_id == accounts.c.id, _target.c.suspended_at.is_(None))
        .scalar_subquery()
    )
    await tx.execute(
        update(accounts)
        .where(accounts.c.id.in_(ids))
        .values(followers_count=followers, following_count=following)
    )


async def neighbours(tx: Tx, account_id: int) -> list[int]:
    """Everyone the account follows or is followed by."""
    rows = await tx.execute(
        union(
            select(follows.c.target_account_id.label("other")).where(
                follows.c.account_id == account_id
            ),
            select(follows.c.account_id.label("other")).where(
                follows.c.target_account_id == account_id
            ),
        )
    )
    return [int(row.other) for row in rows]


async def do_suspend(tx: Tx, account_id: int) -> None:
    """Suspend an account: its content disappears for everyone but staff (the
    privacy policy reads ``suspended_at``) and its follows stop counting."""
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == account_id, accounts.c.suspended_at.is_(None))
        .values(suspended_at=utcnow())
    )
    await recount(tx, [account_id, *await neighbours(tx, account_id)])
    tx.emit(AccountChanged(account_id))


async def do_unsuspend(tx: Tx, account_id: int) -> None:
    await tx.execute(update(accounts).where(accounts.c.id == account_id).values(suspended_at=None))
    await recount(tx, [account_id, *await neighbours(tx, account_id)])
    tx.emit(AccountChanged(account_id))


async def do_forget_follows(tx: Tx, account_id: int) -> None:
    """Before an account is deleted: drop its follows both ways and fix the
    counters of the accounts on the other end (a cascade alone would not)."""
    others = await neighbours(tx, account_id)
    await tx.execute(
        follows.delete().where(
            (follows.c.account_id == account_id) | (follows.c.target_account_id == account_id)
        )
    )
    await recount(tx, others)
