"""Operations work the server does beside serving: disk-use samples for
`roost doctor`, and scheduled backups (ROOST_BACKUP_INTERVAL).

Only the process that runs jobs in-process (embedded mode, or the one server
so configured) does this, so several servers do not back up the same data.
"""

from __future__ import annotations

import asyncio

from roost.config import Settings
from roost.ops.backup import run_scheduled_backups
from roost.ops.disk import sample_forever


def start_ops_tasks(settings: Settings) -> list[asyncio.Task[None]]:
    if not settings.run_jobs_in_process:
        return []
    tasks = [asyncio.create_task(sample_forever(settings), name="roost-disk-samples")]
    if settings.backup_interval_s is not None:
        tasks.append(asyncio.create_task(run_scheduled_backups(settings), name="roost-backups"))
    return tasks
