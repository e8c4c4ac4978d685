"""The purges of the built-in derived stores, run after the erasure commits.

Others register theirs with ``register_purge`` beside their own code; the
order here is the order they run in (files last, so the checkpoint and vacuum
also catch what the earlier purges removed).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

from sqlalchemy import text

from roost.domain.media.actions import discard_files
from roost.domain.timelines import fanout
from roost.erasure.registry import PurgeResult, register_purge
from roost.erasure.subject import Subject
from roost.media.store import media_store
from roost.services import Services

# Tables whose rows held the account's words; vacuumed on PostgreSQL.
_CONTENT_TABLES = (
    "accounts",
    "users",
    "statuses",
    "status_edits",
    "media_attachments",
    "notifications",
    "jobs",
    "account_notes",
    "search_statuses",
    "annual_reports",
    "inbox_activities",
)


async def _timelines(services: Services, subject: Subject) -> PurgeResult:
    store = services.timelines.store
    # The author's follows are already gone: the store must not need them.
    await store.forget([status_id for status_id, _, _, _ in subject.deleted_posts])
    for status_id, author_id, _, _ in subject.deleted_posts:
        await fanout.deleted(services.db, store, status_id, author_id)
    dropped = lists = 0
    if services.redis is not None:
        link = services.redis
        dropped = int(
            await link.client.delete(
                link.key("tl", "home", subject.account_id),
                link.key("tl", "home", subject.account_id, "lease"),
                link.key("tl", "home", subject.account_id, "src"),
            )
        )
        # Its lists are gone from the database (and so their ids): their
        # cached timelines are found by the owner in the key.
        owned = link.key("tl", "list", subject.account_id, "*")
        keys = [key async for key in link.client.scan_iter(match=owned, count=1000)]
        lists = int(await link.client.delete(*keys)) if keys else 0
    done = ["its own cached home timeline dropped"] if dropped else []
    done += [f"{lists} cached list key(s) dropped"] if lists else []
    detail = "; ".join(done)
    return PurgeResult(len(subject.deleted_posts), detail)


async def _search(services: Services, subject: Subject) -> PurgeResult:
    from roost.search.index import index_for

    db = services.db
    async with db.write() as tx:
        await index_for(tx.conn.dialect.name).sync(tx, subject.status_ids)
        if db.is_sqlite:
            # FTS5 keeps a deleted row's terms in older segments until they
            # merge; merge now, so the freed pages (zeroed by secure_delete)
            # take the words with them.
            await tx.conn.exec_driver_sql(
                "INSERT INTO search_statuses(search_statuses) VALUES ('optimize')"
            )
    return PurgeResult(len(subject.status_ids))


async def _media(services: Services, subject: Subject) -> PurgeResult:
    store = media_store(services.settings)
    before = {key for key in subject.media_keys if await store.exists(key)}
    await discard_files(services.db, store, subject.media_keys)
    after = {key for key in subject.media_keys if await store.exists(key)}
    kept = len(after)
    return PurgeResult(len(before - after), f"{kept} still used by others" if kept else "")


async def _database_files(services: Services, subject: Subject) -> PurgeResult:
    """SQLite: deleted rows are zeroed in the file (secure_delete, set on every
    connection); a TRUNCATE checkpoint then empties the WAL, which still holds
    the pages as they were. PostgreSQL: VACUUM the tables that held the
    content, so the dead rows' space is reclaimed, and CHECKPOINT."""
    db = services.db
    if db.is_sqlite:
        for _ in range(50):
            async with db.engine.connect() as conn:
                row = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
            if not row[0]:  # 0: not blocked by a reader
                return PurgeResult(1, "WAL checkpointed and truncated")
            await asyncio.sleep(0.1)  # a reader holds an old snapshot; wait
        return PurgeResult(0, "the WAL could not be truncated: a reader kept it busy")
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in _CONTENT_TABLES:
            with contextlib.suppress(Exception):
                await conn.execute(text(f'VACUUM "{table}"'))
        try:
            await conn.execute(text("CHECKPOINT"))
            detail = "vacuumed and checkpointed"
        except Exception:
            detail = "vacuumed (CHECKPOINT needs the pg_checkpoint role)"
    return PurgeResult(len(_CONTENT_TABLES), detail)


async def _account_key(services: Services, subject: Subject) -> PurgeResult:
    """Destroy the account's key in the key store (a tombstone stays), drop it
    from this process's cache, and rewrite every key-store backup without it.
    Other processes drop their cached copy within ring.TTL_S seconds."""
    from roost.keys import ring
    from roost.keys.backup import forget_in_backups

    destroyed = await asyncio.to_thread(ring.store().destroy, subject.account_id)
    ring.evict(subject.account_id)
    forgotten = await asyncio.to_thread(forget_in_backups, subject.account_id)
    detail = f"destroyed in the key store ({ring.store().location})"
    detail += f"; {len(forgotten.rewritten)} key-store backup(s) rewritten without it"
    if forgotten.unreachable:
        detail += "; NOT REACHED, rewrite by hand: " + ", ".join(forgotten.unreachable)
    return PurgeResult(int(destroyed), detail)


async def _exports(services: Services, subject: Subject) -> PurgeResult:
    from roost.export.requests import exports_directory

    directory = exports_directory(services.settings, subject.account_id)
    count = len(list(directory.glob("*.zip"))) if directory.is_dir() else 0
    shutil.rmtree(directory, ignore_errors=True)
    return PurgeResult(count)


async def _status_caches(services: Services, subject: Subject) -> PurgeResult:
    """The caches of posts' shared parts: this process's, and the one every
    process shares (scaled mode; there, the erased account's posts; others
    name it by id only). Their rendered JSON is the API's, which registers its
    own purge ("post JSON", roost/api/mastodon/hooks.py). Other processes' own caches hold only
    posts whose rows are gone, which no read asks for, until their bounded
    caches let them go."""
    from roost.domain.statuses.shared import SHARED

    before = len(SHARED)
    SHARED.forget(subject.status_ids)
    SHARED.forget_account(subject.account_id)
    detail = ""
    if services.db.shared_bytes is not None:
        await services.db.shared_bytes.forget(subject.status_ids)
        detail = f"{len(subject.status_ids)} post(s) dropped from the shared cache"
    return PurgeResult(before - len(SHARED), detail)


async def _account_objects(services: Services, subject: Subject) -> PurgeResult:
    """This process's kept ``Account`` objects (their names and notes): those
    of notifications' senders and of posts' authors. Other processes' are of
    rows the erasure changed, which no read makes again, until their bounded
    caches let them go."""
    from roost.domain.accounts.interned import forget_all
    from roost.domain.statuses.feed_rows import Authors

    count = forget_all() + len(Authors.cache)
    Authors.cache.clear()
    return PurgeResult(count)


async def _rate_limits(services: Services, subject: Subject) -> PurgeResult:
    """The password-attempt counts kept for the account (with the addresses
    they came from): in Redis (scaled mode) and in this process. Other
    processes' in-process counts expire with ROOST_SIGN_IN_WINDOW_S."""
    from roost.ratelimit import account_key

    dropped = await services.sign_in_limiter.forget(account_key(subject.account_id))
    # API request counts (roost/api/ratelimits.py) end their keys the same way.
    dropped += await services.api_limiter.forget(account_key(subject.account_id))
    return PurgeResult(dropped)


register_purge("timelines", _timelines)
register_purge("post caches", _status_caches)
register_purge("account objects", _account_objects)
register_purge("rate limits", _rate_limits)
register_purge("exports", _exports)
register_purge("search index", _search)
register_purge("media files", _media)
register_purge("database files", _database_files)
# Last: crypto-shredding. Every copy of the account's sealed content, in old
# data backups too, becomes unreadable with its key.
register_purge("account key", _account_key)
