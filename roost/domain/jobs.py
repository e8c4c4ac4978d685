"""What a job's handler is given: the database, the settings and the stores.

Built once per process by roost/services.py (``Services.job_context``) and
passed by the runner (roost/jobs/runner.py) to every handler. Each store is
typed by the Protocol of the layer that defines it, so a handler reaches a
store through this context, never by building one itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from roost.config import Settings
from roost.db.engine import Database
from roost.media.store import MediaStore
from roost.observability.metrics import Metrics
from roost.search.index import SearchIndex
from roost.timelines.store import TimelineStore


@dataclass(frozen=True)
class JobContext:
    db: Database
    settings: Settings
    timelines: TimelineStore
    search: SearchIndex
    media: MediaStore
    metrics: Metrics | None = None
