"""Acting on a verified activity from another server (the inbox's job).

Known kinds: Follow, Accept, Reject (of a Follow, or of a QuoteRequest sent
from here), Undo (of a Follow, an Announce, a Like
or a Block), Create (of a Note), Delete (of a Note, of a QuoteAuthorization,
or of the actor itself),
Update (of the actor, or of a Note), Announce and Like
(roost/domain/federation/interactions.py), Block (roost/domain/federation/
blocks.py), Flag (roost/domain/federation/flags.py), Move
(roost/domain/federation/moves.py) and QuoteRequest
(roost/domain/federation/quote_requests.py). The
actor is the account that signed (checked at receipt,
roost/domain/federation/inbox.py); it is fetched and stored as a remote
account when it is not known yet. Anything else answers False: the
activity is kept as ``unhandled``. Nothing from a server staff suspended is
acted on (``failed``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from roost.db.tables import accounts, follow_requests, follows
from roost.domain.federation import (
    blocks,
    departed,
    edits,
    flags,
    interactions,
    moves,
    notes,
    quote_requests,
)
from roost.domain.federation import follows as follow_flow
from roost.domain.federation.remote import account_for_uri, refuse_suspended
from roost.domain.federation.uris import id_of
from roost.domain.jobs import JobContext


async def local_account_id(ctx: JobContext, uri: str | None) -> int | None:
    """The local account whose actor is ``uri`` (``BASE/users/NAME``)."""
    prefix = f"{ctx.settings.base_url}/users/"
    if uri is None or not uri.startswith(prefix):
        return None
    username = uri[len(prefix) :]
    if not username or "/" in username or "#" in username:
        return None
    async with ctx.db.read() as conn:
        found = (
            await conn.execute(
                select(accounts.c.id).where(
                    accounts.c.username_key == username.lower(), accounts.c.domain.is_(None)
                )
            )
        ).scalar_one_or_none()
    return None if found is None else int(found)


async def _follower_named(ctx: JobContext, remote_id: int, follow: Any) -> int | None:
    """The local account whose Follow of ``remote_id`` an Accept or Reject
    names: by the embedded Follow's actor, else by the Follow's id."""
    if isinstance(follow, dict):
        found = await local_account_id(ctx, id_of(follow.get("actor")))
        if found is not None:
            return found
    uri = id_of(follow)
    if uri is None:
        return None
    async with ctx.db.read() as conn:
        for table in (follow_requests, follows):
            row = (
                await conn.execute(
                    select(table.c.account_id).where(
                        table.c.uri == uri, table.c.target_account_id == remote_id
                    )
                )
            ).first()
            if row is not None:
                return int(row.account_id)
    return None


KNOWN = (
    "Follow",
    "Accept",
    "Reject",
    "Undo",
    "Create",
    "Delete",
    "Update",
    "Announce",
    "Like",
    "Move",
    "Block",
    "Flag",
    "QuoteRequest",
)


async def act_on(ctx: JobContext, actor_uri: str, activity: dict[str, Any]) -> bool:
    kind = activity.get("type")
    target = activity.get("object")
    if kind not in KNOWN:
        return False
    await refuse_suspended(ctx.db, ctx.settings, actor_uri)
    if kind == "Delete" and id_of(target) == actor_uri:
        return await departed.actor_gone(ctx, actor_uri)
    if kind == "Update":
        if id_of(target) != actor_uri:
            note_author = await account_for_uri(ctx.db, ctx.settings, actor_uri)
            return await edits.receive_update(ctx, note_author, actor_uri, target)
        # The actor's profile changed: read again from its server (the copy
        # in the activity is not trusted over the one its server serves).
        await account_for_uri(ctx.db, ctx.settings, actor_uri, refresh=True)
        return True
    remote_id = await account_for_uri(ctx.db, ctx.settings, actor_uri)
    if kind == "Follow":
        local_id = await local_account_id(ctx, id_of(target))
        follow_uri = id_of(activity)
        if local_id is None or follow_uri is None:
            return False
        await follow_flow.receive_follow(ctx, remote_id, local_id, follow_uri)
        return True
    if kind in ("Accept", "Reject") and quote_requests.answers_request(
        ctx.settings.base_url, activity
    ):
        accepted = kind == "Accept"
        return await quote_requests.receive_answer(ctx, remote_id, actor_uri, activity, accepted)
    if kind in ("Accept", "Reject"):
        if isinstance(target, dict) and target.get("type") not in (None, "Follow"):
            return False
        local_id = await _follower_named(ctx, remote_id, target)
        if local_id is None:
            return False
        if kind == "Accept":
            await follow_flow.receive_accept(ctx, remote_id, local_id)
        else:
            await follow_flow.receive_reject(ctx, remote_id, local_id)
        return True
    if kind == "Move":
        return await moves.receive_move(ctx, remote_id, actor_uri, activity)
    if kind == "Block":
        local_id = await local_account_id(ctx, id_of(target))
        if local_id is None:
            return False
        return await blocks.receive_block(ctx, remote_id, local_id)
    if kind == "Undo" and isinstance(target, dict) and target.get("type") == "Block":
        local_id = await local_account_id(ctx, id_of(target.get("object")))
        if local_id is None:
            return False
        return await blocks.receive_undo_block(ctx, remote_id, local_id)
    if kind == "Flag":
        named = [await local_account_id(ctx, uri) for uri in flags.named_in(activity)]
        local = [account_id for account_id in named if account_id is not None]
        return await flags.receive_flag(ctx, remote_id, activity, local)
    if kind == "QuoteRequest":
        return await quote_requests.receive_quote_request(ctx, remote_id, actor_uri, activity)
    if kind == "Announce":
        return await interactions.receive_announce(ctx, remote_id, actor_uri, activity)
    if kind == "Like":
        return await interactions.receive_like(ctx, remote_id, activity)
    if kind == "Undo" and isinstance(target, dict) and target.get("type") == "Announce":
        return await interactions.receive_undo_announce(ctx, remote_id, target)
    if kind == "Undo" and isinstance(target, dict) and target.get("type") == "Like":
        return await interactions.receive_undo_like(ctx, remote_id, target)
    if kind == "Undo":
        if not isinstance(target, dict) or target.get("type") != "Follow":
            return False
        local_id = await local_account_id(ctx, id_of(target.get("object")))
        if local_id is None:
            return False
        await follow_flow.receive_undo_follow(ctx, remote_id, local_id)
        return True
    if kind == "Create":
        return await notes.receive_create(ctx, remote_id, actor_uri, target)
    if await quote_requests.receive_revocation(ctx, remote_id, id_of(target)):
        return True  # a Delete of a QuoteAuthorization
    return await notes.receive_delete(ctx, remote_id, id_of(target))
