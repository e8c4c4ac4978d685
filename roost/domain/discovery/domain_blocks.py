"""Domains an account hides (Mastodon's user domain blocks).

Blocking a domain severs the account's ties with that server's accounts, as
Mastodon does: it stops following them (an Undo is sent), its followers there
are removed and its pending requests from there refused (a Reject is sent),
and its notifications from them are cleared. From then on, a Follow from
there is refused (roost/domain/federation/follows.py) and the filters of
roost/domain/discovery/domain_hiding.py leave that server out of the
account's public timelines, the boosts on its home and its notifications.
Posts from there stay readable by link: it is not a block of each account.

A domain is kept in its ASCII form (IDNA), lower case, without a trailing dot.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import account_domain_blocks, accounts, follow_requests, follows, notifications
from roost.domain.graph import actions as graph
from roost.domain.pagination import newest_first, page_of
from roost.domain.types import Page, Viewer
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A server on another port than https' keeps it in its accounts' domain
# (``host:port``), as its addresses do.
_PORT = re.compile(r"^[1-9][0-9]{0,4}$")


def normalise_domain(text: str) -> str:
    """The domain as stored; Invalid (422) for anything that is not a host name."""
    name = text.strip().lower().rstrip(".")
    if "://" in name:
        name = name.split("://", 1)[1].split("/", 1)[0]
    port = ""
    if ":" in name:
        name, port = name.rsplit(":", 1)
        if not _PORT.match(port) or int(port) > 65535:
            raise RuleBroken("Domain is not a valid domain name")
        name = name.rstrip(".")
    try:
        ascii_name = name.encode("idna").decode("ascii") if name else ""
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if not ascii_name or len(ascii_name) > 253 or len(labels) < 2:
        raise RuleBroken("Domain is not a valid domain name")
    if not all(_LABEL.match(label) for label in labels):
        raise RuleBroken("Domain is not a valid domain name")
    return f"{ascii_name}:{port}" if port else ascii_name


async def do_block_domain(tx: Tx, viewer: Viewer, text: str) -> str:
    """Hide ``text``'s domain from the viewer (idempotent); returns it normalised."""
    domain = normalise_domain(text)
    exists = (
        await tx.execute(
            select(account_domain_blocks.c.id).where(
                account_domain_blocks.c.account_id == viewer.account_id,
                account_domain_blocks.c.domain == domain,
            )
        )
    ).first()
    if exists is None:
        await tx.execute(
            account_domain_blocks.insert().values(
                id=new_id(), account_id=viewer.account_id, domain=domain, created_at=utcnow()
            )
        )
    await _sever(tx, viewer, domain)
    return domain


async def _sever(tx: Tx, viewer: Viewer, domain: str) -> None:
    """End the viewer's follows and requests with the domain's accounts, and
    clear their notifications from them."""
    me = viewer.account_id
    assert me is not None
    there = select(accounts.c.id).where(accounts.c.domain == domain)
    followed = select(follows.c.target_account_id).where(
        follows.c.account_id == me, follows.c.target_account_id.in_(there)
    )
    requested = select(follow_requests.c.target_account_id).where(
        follow_requests.c.account_id == me, follow_requests.c.target_account_id.in_(there)
    )
    followers = select(follows.c.account_id).where(
        follows.c.target_account_id == me, follows.c.account_id.in_(there)
    )
    requesters = select(follow_requests.c.account_id).where(
        follow_requests.c.target_account_id == me, follow_requests.c.account_id.in_(there)
    )
    steps = (
        (followed.union(requested), graph.do_unfollow),
        (followers, graph.do_remove_from_followers),
        (requesters, graph.do_reject_request),
    )
    for query, act in steps:
        for (other,) in (await tx.execute(query)).all():
            try:
                await act(tx, viewer, int(other))
            except NotFound:
                continue  # suspended since: nothing of it is shown to undo
    await tx.execute(
        delete(notifications).where(
            notifications.c.account_id == me, notifications.c.from_account_id.in_(there)
        )
    )


async def do_unblock_domain(tx: Tx, viewer: Viewer, text: str) -> None:
    """Stop hiding the domain (idempotent)."""
    domain = normalise_domain(text)
    await tx.execute(
        delete(account_domain_blocks).where(
            account_domain_blocks.c.account_id == viewer.account_id,
            account_domain_blocks.c.domain == domain,
        )
    )


async def blocked_domains(
    conn: AsyncConnection, viewer: Viewer, page: Page
) -> tuple[list[str], int | None, int | None]:
    """The viewer's blocked domains, newest first, with the keys for a Link header."""
    query = select(account_domain_blocks.c.id, account_domain_blocks.c.domain).where(
        account_domain_blocks.c.account_id == viewer.account_id
    )
    rows = newest_first(
        (await conn.execute(page_of(query, account_domain_blocks.c.id, page))).all(), page
    )
    if not rows:
        return [], None, None
    return [r.domain for r in rows], int(rows[0].id), int(rows[-1].id)
