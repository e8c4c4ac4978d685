"""Creating, changing and deleting lists, and who is in them.

Only accounts the owner follows can be members (the membership is held by the
follow, see roost/db/tables.py), as in Mastodon.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import follows, list_accounts, lists
from roost.domain.events import ListTimelineChanged
from roost.domain.lists.jobs import ListChanged
from roost.domain.lists.queries import REPLIES_POLICIES, owned_list
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue

MAX_TITLE = 200
MAX_LISTS = 50


async def _changed(tx: Tx, viewer: Viewer, list_id: int) -> None:
    """What a list's timeline shows changed (members, replies policy) or the
    list is gone: a cached copy must go (the ``list.changed`` job, committed
    with the change, so it happens whichever process made it and waits out a
    Redis outage)."""
    assert viewer.account_id is not None
    await enqueue(tx, ListChanged(account_id=viewer.account_id, list_id=list_id))
    tx.emit(ListTimelineChanged(owner_id=viewer.account_id, list_id=list_id))


@dataclass(frozen=True)
class ListChange:
    title: str | None = None
    replies_policy: str | None = None
    exclusive: bool | None = None


def check_list_change(change: ListChange, *, creating: bool) -> None:
    if creating or change.title is not None:
        if not (change.title or "").strip():
            raise RuleBroken("Title can't be blank")
        if "\x00" in (change.title or ""):
            raise RuleBroken("Title contains a NUL character")
        if len(change.title or "") > MAX_TITLE:
            raise RuleBroken(f"Title is too long (maximum is {MAX_TITLE})")
    if change.replies_policy is not None and change.replies_policy not in REPLIES_POLICIES:
        raise RuleBroken("Replies policy must be one of " + ", ".join(REPLIES_POLICIES))


async def do_create_list(tx: Tx, viewer: Viewer, change: ListChange) -> int:
    assert viewer.account_id is not None
    check_list_change(change, creating=True)
    owned = (
        await tx.execute(select(lists.c.id).where(lists.c.account_id == viewer.account_id))
    ).all()
    if len(owned) >= MAX_LISTS:
        raise RuleBroken(f"You can have at most {MAX_LISTS} lists")
    list_id = new_id()
    await tx.execute(
        lists.insert().values(
            id=list_id,
            account_id=viewer.account_id,
            title=(change.title or "").strip(),
            replies_policy=change.replies_policy or "list",
            exclusive=bool(change.exclusive),
            created_at=utcnow(),
        )
    )
    return list_id


async def do_update_list(tx: Tx, viewer: Viewer, list_id: int, change: ListChange) -> None:
    info = await owned_list(tx.conn, viewer, list_id)
    check_list_change(change, creating=False)
    values: dict[str, object] = {}
    if change.title is not None:
        values["title"] = change.title.strip()
    if change.replies_policy is not None:
        values["replies_policy"] = change.replies_policy
    if change.exclusive is not None:
        values["exclusive"] = change.exclusive
    if values:
        await tx.execute(update(lists).where(lists.c.id == list_id).values(**values))
    if change.replies_policy is not None and change.replies_policy != info.replies_policy:
        await _changed(tx, viewer, list_id)


async def do_delete_list(tx: Tx, viewer: Viewer, list_id: int) -> None:
    await owned_list(tx.conn, viewer, list_id)
    await tx.execute(delete(lists).where(lists.c.id == list_id))
    await _changed(tx, viewer, list_id)


async def do_add_members(tx: Tx, viewer: Viewer, list_id: int, account_ids: list[int]) -> None:
    """Add accounts the owner follows; NotFound for one they do not follow,
    Conflict for one already in the list. All or nothing."""
    await owned_list(tx.conn, viewer, list_id)
    wanted = list(dict.fromkeys(account_ids))
    held = {
        int(r.target_account_id): int(r.id)
        for r in await tx.execute(
            select(follows.c.id, follows.c.target_account_id).where(
                follows.c.account_id == viewer.account_id,
                follows.c.target_account_id.in_(wanted),
            )
        )
    }
    if any(account_id not in held for account_id in wanted):
        raise NotFound()
    present = (
        await tx.execute(
            select(list_accounts.c.account_id).where(
                list_accounts.c.list_id == list_id, list_accounts.c.account_id.in_(wanted)
            )
        )
    ).first()
    if present is not None:
        raise RuleBroken("Account has already been taken")
    now = utcnow()
    if wanted:
        await tx.execute(
            list_accounts.insert(),
            [
                {
                    "id": new_id(),
                    "list_id": list_id,
                    "account_id": account_id,
                    "follow_id": held[account_id],
                    "created_at": now,
                }
                for account_id in wanted
            ],
        )
        await _changed(tx, viewer, list_id)


async def do_remove_members(tx: Tx, viewer: Viewer, list_id: int, account_ids: list[int]) -> None:
    await owned_list(tx.conn, viewer, list_id)
    if account_ids:
        await tx.execute(
            delete(list_accounts).where(
                list_accounts.c.list_id == list_id, list_accounts.c.account_id.in_(account_ids)
            )
        )
        await _changed(tx, viewer, list_id)
