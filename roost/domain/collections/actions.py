"""Creating, changing and deleting collections, and featuring accounts in them.

Featuring needs the featured account's consent. Its policy (Mastodon's
feature approval, fixed here, see docs/api.md): featuring by an account it
follows is accepted at once; by anyone else the item waits, ``pending``, until
the featured account accepts it (``accept``) or declines (``revoke``: a pending
item becomes ``rejected``, an accepted one ``revoked``). Neither side of a
block can feature the other, and a block revokes what was accepted. Only local
accounts can be featured: consent from another server would come by
federation, which collections do not have yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, blocks, collection_items, collections, follows
from roost.domain.collections.queries import count_owned
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Viewer
from roost.errors import FieldsInvalid, Forbidden, NotFound, Problem, RuleBroken
from roost.ids import new_id

MAX_NAME = 40
MAX_DESCRIPTION = 100
MAX_COLLECTIONS = 20
MAX_ITEMS = 25
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class CollectionChange:
    name: str | None = None
    description: str | None = None
    language: str | None = None
    tag_name: str | None = None
    sensitive: bool | None = None
    discoverable: bool | None = None


def _too_long(limit: int) -> Problem:
    return Problem("too_long", f"is too long (maximum is {limit} characters)")


def _values(change: CollectionChange, *, creating: bool) -> dict[str, object]:
    """The columns a change sets, or FieldsInvalid naming each broken rule."""
    problems: dict[str, list[Problem]] = {}
    values: dict[str, object] = {}
    if creating or change.name is not None:
        name = (change.name or "").strip()
        if not name:
            problems["name"] = [Problem("blank", "can't be blank")]
        elif len(name) > MAX_NAME:
            problems["name"] = [_too_long(MAX_NAME)]
        elif "\x00" in name:
            problems["name"] = [Problem("invalid", "is invalid")]
        values["name"] = name
    if change.description is not None or creating:
        description = (change.description or "").strip()
        if len(description) > MAX_DESCRIPTION:
            problems["description"] = [_too_long(MAX_DESCRIPTION)]
        elif "\x00" in description:
            problems["description"] = [Problem("invalid", "is invalid")]
        values["description"] = description
    if change.language is not None:
        language = change.language.strip()
        if language and not _LANGUAGE.match(language):
            problems["language"] = [Problem("invalid", "is not a language code")]
        values["language"] = language or None
    if change.tag_name is not None:
        shown = change.tag_name.strip().lstrip("#")
        if shown and tag_key(shown) is None:
            problems["tag_name"] = [Problem("invalid", "is not a hashtag")]
        values["tag_name"] = shown or None
    if change.sensitive is not None:
        values["sensitive"] = change.sensitive
    if change.discoverable is not None:
        values["discoverable"] = change.discoverable
    if problems:
        raise FieldsInvalid(problems)
    return values


def _me(viewer: Viewer) -> int:
    assert viewer.account_id is not None
    return viewer.account_id


async def _owned(tx: Tx, viewer: Viewer, collection_id: int) -> None:
    """The viewer's own collection; Forbidden for another's (as Mastodon
    answers), NotFound when there is none or its owner is hidden from them."""
    row = (
        await tx.execute(
            select(collections.c.account_id, accounts.c.suspended_at)
            .join(accounts, accounts.c.id == collections.c.account_id)
            .where(collections.c.id == collection_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    owner = int(row.account_id)
    if owner == _me(viewer):
        return
    if row.suspended_at is not None or await _blocked(tx, owner, _me(viewer)):
        raise NotFound()
    raise Forbidden("This action is not allowed")


async def _blocked(tx: Tx, one: int, other: int) -> bool:
    b = blocks.c
    found = await tx.execute(
        select(b.id)
        .where(
            or_(
                and_(b.account_id == one, b.target_account_id == other),
                and_(b.account_id == other, b.target_account_id == one),
            )
        )
        .limit(1)
    )
    return found.first() is not None


async def do_create_collection(
    tx: Tx, viewer: Viewer, change: CollectionChange, account_ids: list[int]
) -> int:
    me = _me(viewer)
    values = _values(change, creating=True)
    if await count_owned(tx.conn, me) >= MAX_COLLECTIONS:
        raise RuleBroken(f"You can have at most {MAX_COLLECTIONS} collections")
    now = utcnow()
    collection_id = new_id()
    await tx.execute(
        collections.insert().values(
            id=collection_id,
            account_id=me,
            **{"description": "", "sensitive": False, "discoverable": True, **values},
            created_at=now,
            updated_at=now,
        )
    )
    for account_id in dict.fromkeys(account_ids):
        await _feature(tx, me, collection_id, account_id)
    return collection_id


async def do_update_collection(
    tx: Tx, viewer: Viewer, collection_id: int, change: CollectionChange
) -> None:
    await _owned(tx, viewer, collection_id)
    values = _values(change, creating=False)
    await tx.execute(
        update(collections)
        .where(collections.c.id == collection_id)
        .values(**values, updated_at=utcnow())
    )


async def do_delete_collection(tx: Tx, viewer: Viewer, collection_id: int) -> None:
    await _owned(tx, viewer, collection_id)
    await tx.execute(delete(collections).where(collections.c.id == collection_id))


async def do_add_item(tx: Tx, viewer: Viewer, collection_id: int, account_id: int | None) -> int:
    await _owned(tx, viewer, collection_id)
    if account_id is None:
        raise RuleBroken("`account_id` parameter is missing")
    item_id = await _feature(tx, _me(viewer), collection_id, account_id)
    await tx.execute(
        update(collections).where(collections.c.id == collection_id).values(updated_at=utcnow())
    )
    return item_id


async def _feature(tx: Tx, owner: int, collection_id: int, account_id: int) -> int:
    """Feature one account: checked, then accepted or pending by its policy."""
    target = (
        await tx.execute(
            select(accounts.c.id, accounts.c.domain, accounts.c.suspended_at).where(
                accounts.c.id == account_id
            )
        )
    ).first()
    if target is None or target.suspended_at is not None:
        raise RuleBroken("Account not found")
    if target.domain is not None:
        raise RuleBroken("Accounts of other servers cannot be featured in a collection yet")
    if account_id == owner:
        raise RuleBroken("You cannot feature yourself in a collection")
    if await _blocked(tx, owner, account_id):
        raise RuleBroken("This account cannot be featured in your collection")
    counted = (
        await tx.execute(
            select(
                func.count().label("held"), func.max(collection_items.c.position).label("last")
            ).where(collection_items.c.collection_id == collection_id)
        )
    ).one()
    held, last = counted.held, counted.last
    if int(held) >= MAX_ITEMS:
        raise RuleBroken(f"A collection can feature at most {MAX_ITEMS} accounts")
    taken = (
        await tx.execute(
            select(collection_items.c.id).where(
                collection_items.c.collection_id == collection_id,
                collection_items.c.account_id == account_id,
            )
        )
    ).first()
    if taken is not None:
        raise RuleBroken("Account has already been taken")
    follows_owner = (
        await tx.execute(
            select(follows.c.id).where(
                follows.c.account_id == account_id, follows.c.target_account_id == owner
            )
        )
    ).first()
    now = utcnow()
    item_id = new_id()
    await tx.execute(
        collection_items.insert().values(
            id=item_id,
            collection_id=collection_id,
            account_id=account_id,
            state="accepted" if follows_owner is not None else "pending",
            position=0 if last is None else int(last) + 1,
            created_at=now,
            updated_at=now,
        )
    )
    return item_id


async def do_remove_item(tx: Tx, viewer: Viewer, collection_id: int, item_id: int) -> None:
    await _owned(tx, viewer, collection_id)
    removed = await tx.execute(
        delete(collection_items).where(
            collection_items.c.id == item_id, collection_items.c.collection_id == collection_id
        )
    )
    if not removed.rowcount:
        raise NotFound()


async def _own_item(tx: Tx, viewer: Viewer, collection_id: int, item_id: int) -> str:
    """The state of the viewer's own item in a collection; Forbidden for an
    item featuring someone else, NotFound when there is none."""
    row = (
        await tx.execute(
            select(collection_items.c.account_id, collection_items.c.state).where(
                collection_items.c.id == item_id,
                collection_items.c.collection_id == collection_id,
            )
        )
    ).first()
    if row is None:
        raise NotFound()
    if int(row.account_id) != _me(viewer):
        raise Forbidden("This action is not allowed")
    return str(row.state)


async def _set_state(tx: Tx, item_id: int, state: str) -> None:
    await tx.execute(
        update(collection_items)
        .where(collection_items.c.id == item_id)
        .values(state=state, updated_at=utcnow())
    )


async def do_revoke_item(tx: Tx, viewer: Viewer, collection_id: int, item_id: int) -> None:
    """The featured account withdraws: pending -> rejected, accepted -> revoked."""
    state = await _own_item(tx, viewer, collection_id, item_id)
    if state == "pending":
        await _set_state(tx, item_id, "rejected")
    elif state == "accepted":
        await _set_state(tx, item_id, "revoked")


async def do_accept_item(tx: Tx, viewer: Viewer, collection_id: int, item_id: int) -> None:
    """The featured account consents: to a pending item, or again to one it
    declined or withdrew (its own choice to change)."""
    if await _own_item(tx, viewer, collection_id, item_id) != "accepted":
        await _set_state(tx, item_id, "accepted")


async def revoke_between(tx: Tx, one: int, other: int) -> None:
    """A block between two accounts: what either features of the other is
    revoked (pending becomes rejected)."""
    c, i = collections.c, collection_items.c
    for owner, featured in ((one, other), (other, one)):
        of_owner = i.collection_id.in_(select(c.id).where(c.account_id == owner))
        now = utcnow()
        await tx.execute(
            update(collection_items)
            .where(of_owner, i.account_id == featured, i.state == "accepted")
            .values(state="revoked", updated_at=now)
        )
        await tx.execute(
            update(collection_items)
            .where(of_owner, i.account_id == featured, i.state == "pending")
            .values(state="rejected", updated_at=now)
        )
