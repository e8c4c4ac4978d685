"""A page of a timeline or list, the Mastodon way: a value every layer passes.

Below the domain so that the stores that answer pages (roost/timelines/) take
it without importing the domain; roost/domain/pagination.py turns it into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    """Mastodon's id-based paging: newest first below ``max_id``, or the oldest
    ones just above ``min_id``, never older than ``since_id``."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20
