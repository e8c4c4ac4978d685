"""Accounts found by their address, for ``search?resolve=true``: an actor's
id (``https://host/users/alice``) or its profile page
(``https://host/@alice``), as Mastodon's search resolves them.

- This server's own accounts by either of their addresses
  (``BASE/users/NAME``, ``BASE/@NAME``), never fetched.
- Another server's actor stored here by its id (fetched again when its copy
  is older than a day, as an actor named by an activity is).
- Else the address is fetched through the one outbound client, signed by
  the instance actor, asking for ActivityPub (``Accept:
  application/activity+json``): a profile page then answers the actor, or
  redirects to it, where a browser gets HTML. A document that is an actor
  (Person, Service, Group, Application, Organization) is stored as
  WebFinger's resolution stores one (roost/domain/federation/remote.py)
  when it was served under its own id; one naming another id is fetched
  again from that id, and taken only as its own server serves it.

A server staff suspended (or, in the allow-list mode, did not allow), or
one failing or marked unavailable (its delivery state, hosts.py), is not
asked, and whether the searcher sees the account found is the privacy
policy's to say (``found_account``): a suspended account, one the searcher
blocks or whose server they block, is not shown.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import accounts
from roost.domain import privacy
from roost.domain.federation import hosts
from roost.domain.federation.remote import (
    ACCEPT,
    ACTOR_TYPES,
    RemoteRefused,
    _checked_actor,
    _get_json_at,
    account_for_uri,
    refuse_suspended,
    store_actor,
)
from roost.domain.privacy import Visible
from roost.domain.types import Viewer

log = logging.getLogger("roost.federation")

_URL = re.compile(r"https?://[^\s]{1,2040}")
_LOCAL_PATH = re.compile(r"/(?:users/|@)([A-Za-z0-9_]{1,30})/?")


async def _local_account(db: Database, base: str, url: str) -> int | bool | None:
    """The local account either of its addresses names; None for an
    address of this server naming none; False for another server's."""
    parts = urlsplit(url)
    if parts.netloc.lower() != urlsplit(base).netloc.lower():
        return False
    named = _LOCAL_PATH.fullmatch(unquote(parts.path))
    if named is None or parts.query:
        return None
    async with db.read() as conn:
        found = (
            await conn.execute(
                select(accounts.c.id).where(
                    accounts.c.username_key == named.group(1).lower(),
                    accounts.c.domain.is_(None),
                )
            )
        ).scalar_one_or_none()
    return None if found is None else int(found)


async def _stored_actor(db: Database, url: str) -> bool:
    async with db.read() as conn:
        found = (
            await conn.execute(
                select(accounts.c.id).where(accounts.c.uri == url, accounts.c.domain.is_not(None))
            )
        ).scalar_one_or_none()
    return found is not None


async def _fetch_gated(db: Database, settings: Settings, url: str) -> tuple[str, Any]:
    """The document at ``url``, asked only of a server that is neither
    suspended here nor failing (its delivery state, hosts.py, as a post's
    address is); a fetch it does not answer is counted as its failure."""
    await refuse_suspended(db, settings, url)
    host = hosts.host_of(url)
    seen = await hosts.gate(db, host)
    if seen.drop or seen.wait_s > 0:
        raise RemoteRefused("That server is unavailable or failed recently", transient=True)
    try:
        found = await _get_json_at(db, settings, url, ACCEPT)
    except RemoteRefused as refused:
        if refused.transient:
            await hosts.failed(db, settings, host)
        raise
    await hosts.succeeded(db, host, seen)
    return found


async def resolve_account_url(
    db: Database, settings: Settings, url: str, *, fetch: bool = True
) -> int | None:
    """The account an address names (above); None when there is none to be
    had (no account, not an actor, its server away or not federated with).
    Without ``fetch``, only a local account or a stored actor is found."""
    url = url.strip()
    if not _URL.fullmatch(url):
        return None
    local = await _local_account(db, settings.base_url, url)
    if local is not False:
        return local if isinstance(local, int) else None
    if not settings.federation:
        return None
    try:
        if await _stored_actor(db, url):
            return await account_for_uri(db, settings, url)
        if not fetch:
            return None
        served, document = await _fetch_gated(db, settings, url)
        if not isinstance(document, dict) or document.get("type") not in ACTOR_TYPES:
            return None
        named: Any = document.get("id")
        if isinstance(named, str) and named != served:
            # A page answering its actor under the actor's id: taken only as
            # the id's own server serves it (stored, or fetched from there).
            return await account_for_uri(db, settings, named)
        return await store_actor(db, _checked_actor(document, served))
    except RemoteRefused as refused:
        log.info("account not resolved: %s", refused)
        return None


async def found_account(
    conn: AsyncConnection, viewer: Viewer, account_id: int
) -> list[Visible[RowMapping]]:
    """The account, as a search lists it: only when the privacy policy lets
    the viewer see it (not suspended, not blocked by them, nor its server)."""
    return await privacy.visible_accounts(
        conn, viewer, select(accounts).where(accounts.c.id == account_id)
    )
