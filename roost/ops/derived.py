"""Derived stores: what can be rebuilt from the database, and so is not backed up.

A search index, a rendered-JSON cache or a Redis timeline is a function of the
tables. A backup leaves them out (their tables are emptied in the snapshot, so
an old backup carries no copy of them) and a restore rebuilds them, so nothing
stale survives a restore. A store declares itself once, at import:

    register_derived_store("search", tables=("search_index",), rebuild=reindex)

``rebuild`` gets the restored installation's ``Services`` and must be safe to
run on an empty store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roost.services import Services

Rebuild = Callable[["Services"], Awaitable[None]]


@dataclass(frozen=True)
class DerivedStore:
    name: str
    tables: tuple[str, ...]
    rebuild: Rebuild | None


_stores: dict[str, DerivedStore] = {}


def register_derived_store(
    name: str, *, tables: tuple[str, ...] = (), rebuild: Rebuild | None = None
) -> None:
    if name in _stores:
        raise RuntimeError(f"derived store {name!r} registered twice")
    _stores[name] = DerivedStore(name, tables, rebuild)


def derived_stores() -> list[DerivedStore]:
    return [_stores[name] for name in sorted(_stores)]


def derived_tables() -> list[str]:
    return sorted({table for store in _stores.values() for table in store.tables})


async def _forget_redis_timelines(services: Services) -> None:
    """Cached home timelines name posts of the data that was replaced: drop them;
    each is rebuilt from the database on its owner's next read."""
    if services.redis is None:
        return
    client = services.redis.client
    pattern = services.redis.key("tl", "*")
    batch: list[bytes] = []
    async for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 500:
            await client.delete(*batch)
            batch.clear()
    if batch:
        await client.delete(*batch)


async def _forget_shared_posts(services: Services) -> None:
    """Posts' shared parts cached in Redis describe the data that was replaced
    (a restored post may carry an id the cache knows in another version):
    drop them; the database refills the cache as posts are read."""
    if services.db.shared_bytes is not None:
        await services.db.shared_bytes.clear()


async def _reindex_search(services: Services) -> None:
    from roost.search.index import index_for

    await index_for("sqlite" if services.db.is_sqlite else "postgresql").rebuild(services.db)


register_derived_store("redis timelines", rebuild=_forget_redis_timelines)
register_derived_store("redis post cache", rebuild=_forget_shared_posts)
register_derived_store("search index", tables=("search_statuses",), rebuild=_reindex_search)
