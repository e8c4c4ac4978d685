"""What a cache shared by processes offers the domain: bytes by id.

The domain decides what the bytes are and when they are stale; a store only
keeps them (roost/timelines/redis_posts.py keeps them in Redis). A store that
cannot be reached answers misses and drops writes: a cache is never a reason
for a read to fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class SharedBytes(Protocol):
    async def get_many(self, ids: Sequence[int]) -> list[bytes | None]:
        """The entries of ``ids``, in order; None for each one not kept."""

    async def put_many(self, entries: Mapping[int, bytes]) -> None: ...

    async def forget(self, ids: Sequence[int]) -> None: ...

    async def clear(self) -> int:
        """Drop every entry; how many there were."""
