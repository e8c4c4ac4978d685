"""The job a change to a list leaves (its handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class ListChanged(Job, kind="list.changed"):
    """A list's members or replies policy changed, or it was deleted."""

    account_id: int  # the owner
    list_id: int
