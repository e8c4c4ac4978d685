"""The search index behind a small interface: ``SearchIndex``, one implementation
per engine (roost/search/sqlite.py, roost/search/postgres.py). Both answer the
same question the same way: the newest posts that match the words and are
within the searcher's reach (roost/search/reach.py says whose).
"""

from __future__ import annotations

from typing import Protocol

from roost.db.engine import Database, Tx
from roost.db.fastread import FastReader
from roost.search.connect import Connect, connection
from roost.search.query import SearchQuery
from roost.search.reach import Scope
from roost.search.rebuild import BATCH, Progress

__all__ = ["BATCH", "Connect", "Progress", "Scope", "SearchIndex", "connection", "index_for"]


class SearchIndex(Protocol):
    async def sync(self, tx: Tx, status_ids: list[int]) -> None:
        """Make the index agree with ``statuses`` for these posts: add, replace
        or drop each one. Idempotent, so a job may run it again."""

    async def search(
        self,
        conn: Connect,
        scope: Scope,
        query: SearchQuery,
        *,
        window: int,
        reader: FastReader | None = None,
    ) -> list[int]:
        """Up to ``window`` ids of matching posts within reach, newest first;
        ``reader`` (the request's fast reader) may run the reads prepared."""

    async def rebuild(self, db: Database, progress: Progress | None = None) -> int:
        """Index every post again and drop what no longer exists; returns the
        number of posts indexed. Searching keeps working while it runs."""


def index_for(dialect: str) -> SearchIndex:
    """The index implementation for an engine (``conn.dialect.name``)."""
    if dialect == "sqlite":
        from roost.search.sqlite import SqliteFtsIndex

        return SqliteFtsIndex()
    from roost.search.postgres import PostgresIndex

    return PostgresIndex()
