"""The job a new post leaves for spam-wave clustering (its handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class ClusterPost(Job, kind="spam.cluster_post"):
    """A local post was committed: find its near duplicates."""

    status_id: int
