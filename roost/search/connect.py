"""A connection for a search, or how to open one when it first needs it: most
searches need none, their reads being prepared (roost/db/fastread.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

Connect = AsyncConnection | Callable[[], Awaitable[AsyncConnection]]


async def connection(conn: Connect) -> AsyncConnection:
    return conn if isinstance(conn, AsyncConnection) else await conn()
