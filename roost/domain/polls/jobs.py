"""The job a poll leaves for its end (its handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class PollEnded(Job, kind="poll.ended"):
    """Run at the poll's ``expires_at``: a notification job for each of its
    voters and its author. An
    edit that moved the end leaves a new job; this one then finds the poll
    still open and does nothing."""

    poll_id: int
