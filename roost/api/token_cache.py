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

Concurrent requests with the same token share one lookup: a busy client's
entry expiring under load would otherwise send every request it has in
flight to the database at the same moment (seen as a latency spike every
``TTL_S`` seconds).
"""

from __future__ import annotations

import asyncio
import time
from weakref import WeakKeyDictionary

from roost.db.engine import Database
from roost.domain.oauth.actions import digest
from roost.domain.oauth.queries import viewer_for_token_fast
from roost.domain.types import Viewer

TTL_S = 5.0
MAX_ENTRIES = 10_000
READS = ("oauth_tokens", "users", "accounts", "account_roles", "roles")

# (viewer, change count when its lookup began, monotonic time of that lookup)
_Entry = tuple[Viewer, int, float]

_caches: WeakKeyDictionary[Database, dict[str, _Entry]] = WeakKeyDictionary()
_inflight: WeakKeyDictionary[Database, dict[str, asyncio.Future[Viewer | None]]] = (
    WeakKeyDictionary()
)


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
    running = _inflight.setdefault(db, {})
    pending = running.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    pending = asyncio.get_running_loop().create_future()
    running[key] = pending
    try:
        viewer = await viewer_for_token_fast(db.fast, token)
    except Exception as error:
        pending.set_exception(error)
        pending.exception()  # retrieved: no "never retrieved" warning if nobody waited
        raise
    except BaseException:
        pending.cancel()
        raise
    finally:
        running.pop(key, None)
    pending.set_result(viewer)
    if viewer is not None:
        if len(entries) >= MAX_ENTRIES:
            del entries[next(iter(entries))]
        entries[key] = (viewer, changes, now)
    return viewer
