"""What the lower layers borrow of the wire format, installed from above.

The erasure purges this process's caches of rendered posts and accounts
("post JSON"); the backup check renders restored posts as the API would. Both
live below the API and never import it: the entry points that serve the API
or verify backups call ``install()`` (the app on start, ``roost backup
verify``).
"""

from __future__ import annotations

from typing import Any

from roost.api.mastodon import json_cache, serializers
from roost.erasure.registry import PurgeResult, purges, register_purge
from roost.ops.verify import render_posts_with

PURGE_NAME = "post JSON"


async def _forget_rendered(services: Any, subject: Any) -> PurgeResult:
    """Erasure: no copy of erased text stays in this process's rendered posts
    and accounts. Other processes' copies are of posts whose rows are gone,
    which no read asks for, until their bounded caches let them go."""
    json_cache.forget_cached()
    return PurgeResult(0, "this process's rendered posts and accounts dropped")


def install() -> None:
    """Install the hooks (again is harmless)."""
    if PURGE_NAME not in purges():
        register_purge(PURGE_NAME, _forget_rendered)
    render_posts_with(serializers.status)
