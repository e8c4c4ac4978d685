"""The job that delivers one notification to one push subscription (its
handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class DeliverPush(Job, kind="push.deliver"):
    subscription_id: int
    notification_id: int
