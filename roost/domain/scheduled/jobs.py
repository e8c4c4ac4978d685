"""The job that publishes a scheduled post (its handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class PublishScheduled(Job, kind="scheduled.publish"):
    """Run at the post's ``scheduled_at``. A rescheduled post leaves a new job;
    this one then finds the post not yet due (or gone) and does nothing."""

    scheduled_status_id: int
