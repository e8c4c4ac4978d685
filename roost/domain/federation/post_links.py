"""The addresses a local post's Note links to: the post it answers, and the
replies other servers may walk (its ``replies`` collection).

A reply's parent may be another server's post: its address is then the one
that server gave it (``statuses.uri``), never one made up under this host.
The replies collection lists only public and unlisted replies the reader may
see (``privacy.listed``, through the policy), oldest first, as addresses:
a server that wants one fetches it, and is shown it only if it may be.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, blocks, remote_accounts, statuses
from roost.domain import privacy
from roost.domain.federation import uris
from roost.domain.types import Viewer

REPLIES_PAGE = 20


async def parent_uri(conn: AsyncConnection, base: str, parent_id: int | None) -> str | None:
    """The address of the post ``parent_id``: its own server's for a remote
    post, this server's for a local one; None when there is none."""
    if parent_id is None:
        return None
    row = (
        await conn.execute(
            select(statuses.c.uri, accounts.c.username)
            .select_from(statuses.join(accounts, accounts.c.id == statuses.c.account_id))
            .where(statuses.c.id == parent_id)
        )
    ).first()
    if row is None:
        return None
    return str(row.uri) if row.uri else uris.status_uri(base, row.username, parent_id)


async def reply_uris(
    conn: AsyncConnection, viewer: Viewer, base: str, status_id: int, after: int | None
) -> list[tuple[int, str]]:
    """(id, address) of up to ``REPLIES_PAGE`` direct replies to the post,
    oldest first, after the reply ``after``: public and unlisted ones only,
    each one the reader may see."""
    query = (
        select(statuses)
        .where(
            statuses.c.in_reply_to_id == status_id,
            statuses.c.reblog_of_id.is_(None),
            privacy.listed(statuses.c.visibility),
        )
        .order_by(statuses.c.id)
        .limit(REPLIES_PAGE)
    )
    if after is not None:
        query = query.where(statuses.c.id > after)
    rows = [v.value for v in await privacy.visible_statuses(conn, viewer, query)]
    local_authors = {int(r["account_id"]) for r in rows if not r["uri"]}
    names: dict[int, str] = {}
    if local_authors:
        found = await conn.execute(
            select(accounts.c.id, accounts.c.username).where(accounts.c.id.in_(local_authors))
        )
        names = {int(r.id): str(r.username) for r in found}
    return [
        (
            int(r["id"]),
            str(r["uri"])
            if r["uri"]
            else uris.status_uri(base, names[int(r["account_id"])], r["id"]),
        )
        for r in rows
        if r["uri"] or int(r["account_id"]) in names
    ]


async def replied_author_inbox(
    conn: AsyncConnection, status_id: int
) -> tuple[str, str | None] | None:
    """The own inbox (and shared inbox) of the author on another server of
    the post that the public or unlisted local post ``status_id`` answers,
    as Mastodon's reach has it: the one answered hears of the reply even
    when it does not name them. None when there is none, the post is not
    listed, or they are suspended or block the replying author."""
    parent = statuses.alias("parent")
    row = (
        await conn.execute(
            select(remote_accounts.c.inbox_url, remote_accounts.c.shared_inbox_url)
            .select_from(
                statuses.join(parent, parent.c.id == statuses.c.in_reply_to_id)
                .join(remote_accounts, remote_accounts.c.account_id == parent.c.account_id)
                .join(accounts, accounts.c.id == parent.c.account_id)
            )
            .where(
                statuses.c.id == status_id,
                privacy.listed(statuses.c.visibility),
                accounts.c.suspended_at.is_(None),
                ~exists().where(
                    blocks.c.account_id == parent.c.account_id,
                    blocks.c.target_account_id == statuses.c.account_id,
                ),
            )
        )
    ).first()
    return None if row is None else (str(row.inbox_url), row.shared_inbox_url)


def replies_reference(note_id: str) -> dict[str, str]:
    """The ``replies`` a Note carries: the collection, its first page by address."""
    return {
        "id": f"{note_id}/replies",
        "type": "Collection",
        "first": f"{note_id}/replies?page=true",
    }
