"""The jobs a post's life leaves in the outbox (their handlers: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class StatusPublished(Job, kind="status.published"):
    """A post or boost was committed: notify, and fan it out."""

    status_id: int


@dataclass(frozen=True)
class StatusEdited(Job, kind="status.edited"):
    """A post was edited: tell those who boosted it."""

    status_id: int


@dataclass(frozen=True)
class StatusDeleted(Job, kind="status.deleted"):
    """A post or boost was deleted: take it out of cached timelines.
    ``visibility``: the post's, when known (a direct post's deletion is sent
    to no other server, as the post was not). ``reblog_of_id``: the boosted
    post, when a boost was undone (other servers are sent Undo(Announce))."""

    status_id: int
    account_id: int
    visibility: int | None = None
    reblog_of_id: int | None = None
