"""The job a post with a link leaves in the outbox (its handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class FetchLinkCard(Job, kind="card.fetch"):
    """A post was written or edited with a link (or without its old one):
    give it the card of its first link, or none."""

    status_id: int
