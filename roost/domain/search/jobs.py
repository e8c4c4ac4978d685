"""The jobs that keep the search index in step with posts (handlers: handlers.py).

``SyncSearch`` is enqueued by every change to a post (publish, edit, delete)
in the change's own transaction; its handler reads the post as it now is, so
running it twice, or after a later change, still leaves the index right.
"""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class SyncSearch(Job, kind="search.sync"):
    status_id: int


@dataclass(frozen=True)
class ReindexAccount(Job, kind="search.reindex_account"):
    """An account changed whether it may be found (``indexable``): its posts'
    reach tokens change with it."""

    account_id: int


@dataclass(frozen=True)
class Reindex(Job, kind="search.reindex"):
    """Index everything (left by the migration that made the index)."""
