"""The job that makes a notification (its handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class Notify(Job, kind="notify"):
    """Tell ``account_id`` that ``from_account_id`` did something (``type``:
    one of roost.domain.notifications.actions.TYPES), about a post or not.
    ``event_key``: the event's own key, when one post can be the subject of
    several such events (a poll that ends again after an edit)."""

    type: str
    account_id: int
    from_account_id: int
    status_id: int | None = None
    event_key: str | None = None
