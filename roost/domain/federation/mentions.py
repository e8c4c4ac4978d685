"""Mentions of other servers' accounts in local posts, found before posting.

A post is written in one transaction that asks nothing of the network
(roost/domain/statuses/actions.py): it links the ``@name@domain`` mentions
whose accounts are stored here. ``resolve_mentions`` is called first, by
whoever takes the post (the API's create and edit, the web app's form, a
scheduled post's job), and stores the accounts not known yet, as
``search?resolve=true`` does: WebFinger on their domain, then the actor
(roost/domain/federation/remote.py), through the one outbound client with
its time and size limits.

So that a slow or dead server does not hold up posting, all of a post's
unknown accounts are looked up at once and posting waits for them one
outbound timeout (``ROOST_OUTBOUND_TIMEOUT_S``) at most; at most ``MAX_LOOKUPS``
unknown accounts of a post are looked up. An account not had by then stays
plain text in the post, as on Mastodon when its server does not answer; its
lookup goes on (within the outbound client's own limits), and a later post
finds the account once it is stored.
"""

from __future__ import annotations

import asyncio
import logging

from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.queries import remote_accounts_named
from roost.domain.federation.remote import RemoteRefused, resolve_acct
from roost.domain.statuses.content import remote_mentions

log = logging.getLogger("roost.federation")

# Unknown accounts looked up for one post (the others stay text).
MAX_LOOKUPS = 10
# Lookups still running after their post was made (held so that they finish).
_unfinished: set[asyncio.Future[None]] = set()


async def resolve_mentions(db: Database, settings: Settings, text: str) -> None:
    """Store the accounts of other servers ``text`` mentions that are not
    stored yet (best effort, bounded by one outbound timeout in all)."""
    if not settings.federation:
        return
    accts = remote_mentions(text, settings.base_url)
    if not accts:
        return
    async with db.read() as conn:
        known = await remote_accounts_named(conn, accts)
    unknown = [a for a in accts if a not in known][:MAX_LOOKUPS]
    if not unknown:
        return
    tasks = [asyncio.ensure_future(_resolve(db, settings, u, d)) for u, d in unknown]
    _, pending = await asyncio.wait(tasks, timeout=settings.outbound_timeout_s)
    if pending:
        # Not cancelled (a lookup may be storing the account in a
        # transaction): each ends within the outbound client's own limits
        # and stores its account for the next post that names it.
        log.info("mentions: %d accounts not looked up in time", len(pending))
        for task in pending:
            _unfinished.add(task)
            task.add_done_callback(_unfinished.discard)


async def _resolve(db: Database, settings: Settings, username: str, domain: str) -> None:
    try:
        await resolve_acct(db, settings, f"{username}@{domain}")
    except RemoteRefused as refused:
        log.info("mention of %s@%s not resolved: %s", username, domain, refused)
    except Exception:
        # A mention that cannot be had is text; posting goes on.
        log.exception("mention of %s@%s not resolved", username, domain)
