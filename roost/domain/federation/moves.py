"""Account moves, as Mastodon makes them (its ``Move`` activity).

Aliases: a local account names its old accounts, elsewhere or here, as its
own (``account_aliases``; ``alsoKnownAs`` in its actor document). An alias is
given as ``@name@domain`` (WebFinger), ``name`` (an account here) or the
actor's address, and must resolve to an account: one that cannot be had is
refused.

Out (``move_out``): a local account moves to a new account, which must name
it in its ``alsoKnownAs`` (a remote one's actor document is fetched again for
this, never taken from a copy; a local one's aliases are read). The old
account is then marked moved (``account_moves``: the Mastodon Account
entity's ``moved``), a signed ``Move`` (``actor`` and ``object`` the old
account, ``target`` the new) goes to its followers' servers and to the new
account's, and ``MoveFollowers`` moves its followers here. A moved account
posts no more (roost/domain/statuses/actions.py), but still signs in and
exports.

In (``receive_move``): a ``Move`` signed by the old account, whose ``object``
is itself: the ``target``'s actor document is fetched from its server (or, a
local account, its aliases read) and must name the old account in
``alsoKnownAs``; otherwise the Move is refused (``RemoteRefused``, the
activity ``failed``) and nothing changes. Taken, the old account is recorded
as moved and ``MoveFollowers`` runs. Receiving it again changes nothing more.

``MoveFollowers``: each local follower of the old account follows the new
one (a Follow is sent when it is of another server; a local new account is
followed at once, its lock bypassed, as Mastodon does) and stops following
the old one; one who blocks the new account (or is blocked by it) keeps
following the old one, and one who follows the new account already just
stops following the old. The lists, blocks and mutes of the old account go
with it (roost/domain/federation/move_relations.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.db.tables import (
    account_aliases,
    account_moves,
    accounts,
    follows,
    remote_accounts,
)
from roost.domain import privacy
from roost.domain.federation import move_relations, uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.remote import (
    RemoteRefused,
    account_for_uri,
    fetch_actor,
    refuse_suspended,
    resolve_acct,
    split_acct,
    store_actor,
)
from roost.domain.jobs import JobContext
from roost.domain.types import Viewer
from roost.errors import Forbidden, NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, handles

log = logging.getLogger("roost.federation")

MAX_ALIASES = 10


@dataclass(frozen=True)
class Alias:
    id: int
    uri: str
    acct: str


@dataclass(frozen=True)
class Target:
    """An account named by its handle or address: its row and actor id."""

    account_id: int
    uri: str
    local: bool
    acct: str


@dataclass(frozen=True)
class MoveFollowers(Job, kind="federation.move_followers"):
    """The local followers of ``origin_id`` follow ``target_id`` instead."""

    origin_id: int
    target_id: int


def also_known_as(document: dict[str, Any]) -> list[str]:
    """The ids an actor document names in ``alsoKnownAs``."""
    value = document.get("alsoKnownAs")
    items = value if isinstance(value, list) else [value]
    return [found for item in items if (found := uris.id_of(item)) is not None]


async def _local_by_name(conn: AsyncConnection, username: str) -> int | None:
    found = (
        await conn.execute(
            select(accounts.c.id).where(
                accounts.c.username_key == username.lower(),
                accounts.c.domain.is_(None),
                accounts.c.suspended_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)


def _local_name(settings: Settings, address: str) -> str | None:
    """The username of a local actor's (or profile's) address, else None."""
    for prefix in (f"{settings.base_url}/users/", f"{settings.base_url}/@"):
        if address.startswith(prefix):
            name = address[len(prefix) :]
            return name if name and not any(c in name for c in "/#?") else None
    return None


async def _actor_of(conn: AsyncConnection, base: str, account_id: int) -> Target:
    row = (
        await conn.execute(
            select(accounts.c.username, accounts.c.domain, accounts.c.uri).where(
                accounts.c.id == account_id
            )
        )
    ).one()
    local = row.domain is None
    uri = uris.actor_uri(base, row.username) if local else str(row.uri)
    acct = str(row.username) if local else f"{row.username}@{row.domain}"
    return Target(account_id, uri, local, acct)


async def resolve_target(db: Database, settings: Settings, named: str) -> Target:
    """The account ``named`` (``@name@domain``, ``name``, or an actor's
    address), fetched when it is of another server and not stored yet;
    NotFound when there is no such account."""
    text = named.strip()
    if not text:
        raise RuleBroken("Name the account: @name@domain or its address")
    if text.startswith(("http://", "https://")):
        local_name = _local_name(settings, text)
        if local_name is None:
            account_id = await account_for_uri(db, settings, text)
            async with db.read() as conn:
                return await _actor_of(conn, settings.base_url, account_id)
        username = local_name
    else:
        username, domain = split_acct(text)
        if domain and domain != settings.domain.lower():
            account_id = await resolve_acct(db, settings, text)
            async with db.read() as conn:
                return await _actor_of(conn, settings.base_url, account_id)
    async with db.read() as conn:
        found = await _local_by_name(conn, username)
        if found is None:
            raise NotFound("No such account")
        return await _actor_of(conn, settings.base_url, found)


async def _local_account(conn: AsyncConnection, account_id: int) -> Any:
    row = (
        await conn.execute(
            select(accounts.c.username, accounts.c.domain, accounts.c.suspended_at).where(
                accounts.c.id == account_id
            )
        )
    ).first()
    if row is None or row.domain is not None or row.suspended_at is not None:
        raise NotFound("No such local account")
    return row


# --- Aliases --------------------------------------------------------------------


async def aliases_of(conn: AsyncConnection, account_id: int) -> list[Alias]:
    rows = await conn.execute(
        select(account_aliases.c.id, account_aliases.c.uri, accounts.c.username, accounts.c.domain)
        .join(accounts, accounts.c.id == account_aliases.c.target_account_id)
        .where(account_aliases.c.account_id == account_id)
        .order_by(account_aliases.c.id)
    )
    return [
        Alias(
            int(row.id),
            str(row.uri),
            str(row.username) if row.domain is None else f"{row.username}@{row.domain}",
        )
        for row in rows
    ]


async def add_alias(db: Database, settings: Settings, account_id: int, named: str) -> Alias:
    """Name the account ``named`` as one of ``account_id``'s own (the account
    it may move from). Adding it again answers the alias there is."""
    async with db.read() as conn:
        await _local_account(conn, account_id)
    target = await resolve_target(db, settings, named)
    if target.account_id == account_id:
        raise RuleBroken("An account cannot be its own alias")
    async with db.write() as tx:
        existing = (
            await tx.execute(
                select(account_aliases.c.id).where(
                    account_aliases.c.account_id == account_id,
                    account_aliases.c.target_account_id == target.account_id,
                )
            )
        ).scalar_one_or_none()
        if existing is None:
            count = (
                await tx.execute(
                    select(func.count())
                    .select_from(account_aliases)
                    .where(account_aliases.c.account_id == account_id)
                )
            ).scalar_one()
            if count >= MAX_ALIASES:
                raise RuleBroken(f"An account has at most {MAX_ALIASES} aliases")
            await tx.execute(
                insert(account_aliases).values(
                    id=new_id(),
                    account_id=account_id,
                    target_account_id=target.account_id,
                    uri=target.uri,
                    created_at=utcnow(),
                )
            )
        found = [a for a in await aliases_of(tx.conn, account_id) if a.uri == target.uri]
    return found[0]


async def remove_alias(db: Database, account_id: int, alias_id: int) -> None:
    """NotFound when the account has no such alias."""
    async with db.write() as tx:
        removed = await tx.execute(
            delete(account_aliases).where(
                account_aliases.c.id == alias_id, account_aliases.c.account_id == account_id
            )
        )
    if not removed.rowcount:
        raise NotFound("No such alias")


async def alias_uris(conn: AsyncConnection, account_id: int) -> list[str]:
    """``alsoKnownAs`` of a local account's actor document."""
    return [a.uri for a in await aliases_of(conn, account_id)]


async def _lists_alias(conn: AsyncConnection, account_id: int, alias_id: int) -> bool:
    found = await conn.execute(
        select(account_aliases.c.id).where(
            account_aliases.c.account_id == account_id,
            account_aliases.c.target_account_id == alias_id,
        )
    )
    return found.first() is not None


# --- Moved accounts ---------------------------------------------------------------


async def moved_to(conn: AsyncConnection, account_id: int) -> int | None:
    """The account ``account_id`` moved to, if it moved."""
    found = (
        await conn.execute(
            select(account_moves.c.target_account_id).where(
                account_moves.c.account_id == account_id
            )
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)


async def moved_target(conn: AsyncConnection, base: str, account_id: int) -> Target | None:
    """The account ``account_id`` moved to (its handle and actor id), if it moved."""
    target = await moved_to(conn, account_id)
    return None if target is None else await _actor_of(conn, base, target)


async def moved_to_uri(conn: AsyncConnection, base: str, account_id: int) -> str | None:
    """``movedTo`` of a local account's actor document."""
    target = await moved_target(conn, base, account_id)
    return None if target is None else target.uri


MOVED_POSTS_NO_MORE = "This account has moved to another account and posts no more"


def not_moved(account_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """SQL true while the account ``account_id`` has not moved: a condition of
    the statement that counts a new post (roost/domain/statuses/actions.py),
    which refuses it with ``MOVED_POSTS_NO_MORE`` when it matched no row."""
    return (
        ~select(account_moves.c.account_id).where(account_moves.c.account_id == account_id).exists()
    )


async def _record_move(tx: Tx, origin_id: int, target_id: int) -> bool:
    """Mark the move; False when it was marked so already."""
    if await moved_to(tx.conn, origin_id) == target_id:
        return False
    await tx.execute(delete(account_moves).where(account_moves.c.account_id == origin_id))
    await tx.execute(
        insert(account_moves).values(
            account_id=origin_id, target_account_id=target_id, created_at=utcnow()
        )
    )
    return True


async def _move_inboxes(conn: AsyncConnection, origin_id: int, target_id: int) -> list[str]:
    """Its followers' servers (each one's shared inbox preferred) and the new
    account's, when that is of another server."""
    rows = await conn.execute(
        select(remote_accounts.c.inbox_url, remote_accounts.c.shared_inbox_url).where(
            remote_accounts.c.account_id.in_(
                select(follows.c.account_id).where(follows.c.target_account_id == origin_id)
            )
            | (remote_accounts.c.account_id == target_id)
        )
    )
    return sorted({str(row.shared_inbox_url or row.inbox_url) for row in rows})


async def move_out(db: Database, settings: Settings, account_id: int, named: str) -> Target:
    """Move the local account ``account_id`` to the account ``named``, which
    must name it in ``alsoKnownAs``; the new account."""
    base = settings.base_url
    async with db.read() as conn:
        origin = await _local_account(conn, account_id)
    origin_uri = uris.actor_uri(base, origin.username)
    target = await resolve_target(db, settings, named)
    if target.account_id == account_id:
        raise RuleBroken("An account cannot move to itself")
    if target.local:
        async with db.read() as conn:
            listed = await _lists_alias(conn, target.account_id, account_id)
    else:
        # Read again from its server: a stored copy may be older than the alias.
        document = await fetch_actor(db, settings, target.uri)
        listed = origin_uri in also_known_as(document)
        await store_actor(db, document)
    if not listed:
        raise RuleBroken(
            "The new account must name this one as an alias (alsoKnownAs) before the move"
        )
    async with db.write() as tx:
        if await moved_to(tx.conn, target.account_id) is not None:
            raise RuleBroken("The new account has moved itself")
        await _record_move(tx, account_id, target.account_id)
        activity = {
            "@context": uris.AS_CONTEXT,
            "id": f"{origin_uri}#moves/{new_id()}",
            "type": "Move",
            "actor": origin_uri,
            "object": origin_uri,
            "target": target.uri,
        }
        for inbox in await _move_inboxes(tx.conn, account_id, target.account_id):
            await enqueue_delivery(tx, inbox, account_id, activity)
        await enqueue(tx, MoveFollowers(origin_id=account_id, target_id=target.account_id))
    return target


async def receive_move(ctx: JobContext, origin_id: int, actor_uri: str, activity: Any) -> bool:
    """A Move signed by ``actor_uri`` (the account ``origin_id``); RemoteRefused
    (the activity ``failed``) when its target does not name it."""
    if uris.id_of(activity.get("object")) != actor_uri:
        return False
    target_uri = uris.id_of(activity.get("target"))
    if target_uri is None or target_uri == actor_uri:
        return False
    local_name = _local_name(ctx.settings, target_uri)
    if local_name is not None:
        async with ctx.db.read() as conn:
            target_id = await _local_by_name(conn, local_name)
            listed = target_id is not None and await _lists_alias(conn, target_id, origin_id)
    else:
        await refuse_suspended(ctx.db, ctx.settings, target_uri)
        document = await fetch_actor(ctx.db, ctx.settings, target_uri)
        listed = actor_uri in also_known_as(document)
        target_id = await store_actor(ctx.db, document) if listed else None
    if not listed or target_id is None:
        log.info("move refused: its target does not name its origin", extra={"actor": actor_uri})
        raise RemoteRefused("The Move's target does not name its origin in alsoKnownAs")
    async with ctx.db.write() as tx:
        suspended = (
            await tx.execute(select(accounts.c.suspended_at).where(accounts.c.id == target_id))
        ).scalar_one_or_none()
        if suspended is not None:
            raise RemoteRefused("The Move's target is suspended here")
        await _record_move(tx, origin_id, target_id)
        await enqueue(tx, MoveFollowers(origin_id=origin_id, target_id=target_id))
    return True


@handles(MoveFollowers)
async def move_followers(ctx: JobContext, job: MoveFollowers) -> None:
    from roost.domain.graph import actions as graph_actions

    async with ctx.db.read() as conn:
        if await moved_to(conn, job.origin_id) != job.target_id:
            return  # moved elsewhere since
        target_local = (
            await conn.execute(select(accounts.c.domain).where(accounts.c.id == job.target_id))
        ).scalar_one_or_none() is None
        followers = [
            int(found)
            for found in (
                await conn.execute(
                    select(follows.c.account_id)
                    .join(accounts, accounts.c.id == follows.c.account_id)
                    .where(
                        follows.c.target_account_id == job.origin_id,
                        accounts.c.domain.is_(None),
                        accounts.c.suspended_at.is_(None),
                    )
                    .order_by(follows.c.account_id)
                )
            ).scalars()
        ]
    moved = 0
    for follower in followers:
        if follower == job.target_id:
            continue
        viewer = Viewer(account_id=follower)
        async with ctx.db.write() as tx:
            if await privacy.is_blocked_either_way(tx.conn, follower, job.target_id):
                continue  # keeps following the old account
            try:
                held = await move_relations.lists_holding(tx, follower, job.origin_id)
                await graph_actions.do_follow(tx, viewer, job.target_id, bypass_locked=target_local)
                await move_relations.do_carry_lists(tx, viewer, held, job.target_id)
                await graph_actions.do_unfollow(tx, viewer, job.origin_id)
            except (NotFound, Forbidden, RuleBroken):
                continue
        moved += 1
    carried = await move_relations.carry_blocks_and_mutes(ctx.db, job.origin_id, job.target_id)
    log.info(
        "move: followers moved",
        extra={"moved": moved, "of": len(followers), "blocks_and_mutes": carried},
    )
