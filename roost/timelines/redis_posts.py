"""Posts' viewer-independent parts, shared by every process through Redis.

A second level under each process's own cache (``SHARED`` in
roost/domain/statuses/shared.py): a process that starts, or restarts with a
whole fleet after a reboot, finds the posts its first pages need here instead
of loading each from the database. Layout, under the configured prefix:

    post:<id>    the bytes ``shared.encode_shared`` made, for ``TTL_S`` seconds

The bytes carry the version they describe (the post's ``edited_at``), and the
reader checks it against the row it just read, so an entry outlived by an edit
is never served, whether or not the edit's purge arrived. A post's text in
here is sealed under its author's key as it is in the database: erasure's
destroyed key makes it unreadable here too (and erasure drops the erased
account's entries). Mentioned accounts are named by id only. A restore drops
every entry (roost/ops/derived.py). An edited, rewritten or deleted post's entry
goes as soon as the change commits (``shared.forget_changed_posts_in``, a
database listener).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from roost.redis_link import REDIS_DOWN, RedisLink

TTL_S = 86_400
_BATCH = 500


class RedisPostCache:
    def __init__(self, link: RedisLink) -> None:
        self.link = link

    def _key(self, status_id: int) -> str:
        return self.link.key("post", status_id)

    async def get_many(self, ids: Sequence[int]) -> list[bytes | None]:
        if not ids or not self.link.available:
            return [None] * len(ids)
        try:
            found = await self.link.client.mget([self._key(i) for i in ids])
        except REDIS_DOWN as error:
            self.link.failed("post cache", error)
            return [None] * len(ids)
        entries = [value.encode() if isinstance(value, str) else value for value in found]
        hits = sum(1 for entry in entries if entry is not None)
        lookups = self.link.metrics.post_cache_lookups
        lookups.labels("found").inc(hits)
        lookups.labels("missing").inc(len(entries) - hits)
        return entries

    async def put_many(self, entries: Mapping[int, bytes]) -> None:
        if not entries or not self.link.available:
            return
        pipe = self.link.client.pipeline(transaction=False)
        for status_id, data in entries.items():
            pipe.set(self._key(status_id), data, ex=TTL_S)
        try:
            await pipe.execute()
        except REDIS_DOWN as error:
            self.link.failed("post cache", error)

    async def forget(self, ids: Sequence[int]) -> None:
        # The breaker open means Redis did not answer a moment ago: waiting for
        # it again here would hold up the listener (an erasure sends one event
        # per post). Nothing is lost: an entry outlived by an edit is never
        # served (its version), a deleted post's row is gone so no read asks
        # for it, and the TTL ends both.
        if not ids or not self.link.available:
            return
        try:
            for start in range(0, len(ids), _BATCH):
                chunk = ids[start : start + _BATCH]
                await self.link.client.unlink(*(self._key(i) for i in chunk))
        except REDIS_DOWN as error:
            self.link.failed("post cache", error)

    async def clear(self) -> int:
        """Drop every entry (a restore: the posts may be other posts now), in
        batches, so Redis is never held up by one long command."""
        removed = 0
        batch: list[str] = []
        async for key in self.link.client.scan_iter(match=self.link.key("post", "*"), count=1000):
            batch.append(key)
            if len(batch) >= _BATCH:
                removed += int(await self.link.client.unlink(*batch))
                batch = []
        if batch:
            removed += int(await self.link.client.unlink(*batch))
        return removed
