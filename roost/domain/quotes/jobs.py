"""The job an edit of a quoted post leaves (its handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class QuotedEdited(Job, kind="quotes.quoted_edited"):
    """Tell the authors of the posts quoting ``status_id`` that it was edited
    (``edited_at``, ISO 8601, keys the notifications: one per edit)."""

    status_id: int
    editor_id: int
    edited_at: str
