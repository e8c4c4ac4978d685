"""Recently seen bearer tokens, so that a busy client costs one lookup, not one
per request.

An entry is used only while both hold:
  - no write from this process has touched the tables the lookup reads
    (oauth_tokens, users, accounts) since the lookup began: a revocation, a
    suspension or a change of role made through this process takes effect on
    the very next request (``Database.change_count``);
  - it is younger than ``TTL_S``: that bounds how long a change made by another
    process (``roost tokens revoke-all`` from a shell, another server of a
    scaled deployment) takes to be seen.
Only valid tokens are remembered; unknown, revoked and pending ones are looked
up every time. Keys are token digests, never the tokens themselves.
"""

from __future__ import annotations

import time
from weakref import WeakKeyDictionary

from roost.db.engine import Database
from roost.domain.oauth.actions import digest
from roost.domain.oauth.queries import viewer_for_token
from roost.domain.types import Viewer

TTL_S = 5.0
MAX_ENTRIES = 10_000
READS = ("oauth_tokens", "users", "accounts")

# (viewer, change count when its lookup began, monotonic time of that lookup)
_Entry = tuple[Viewer, int, float]

_caches: WeakKeyDictionary[Database, dict[str, _Entry]] = WeakKeyDictionary()


async def viewer_for(db: Database, token: str) -> Viewer | None:
    """``viewer_for_token`` through the cache; raises what it raises
    (PendingApproval), and answers None for an unknown, revoked or dead token."""
    entries = _caches.setdefault(db, {})
    key = digest(token)
    changes = db.change_count(*READS)
    now = time.monotonic()
    entry = entries.get(key)
    if entry is not None:
        cached, seen_changes, seen_at = entry
        if seen_changes == changes and now - seen_at < TTL_S:
            return cached
        del entries[key]
    async with db.read() as conn:
        viewer = await viewer_for_token(conn, token)
    if viewer is not None:
        if len(entries) >= MAX_ENTRIES:
            del entries[next(iter(entries))]
        entries[key] = (viewer, changes, now)
    return viewer
