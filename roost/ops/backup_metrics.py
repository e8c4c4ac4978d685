"""/metrics: when the newest backup was taken and when one last verified, so
that an alert fires when backups stop (docs/runbooks/RoostBackupTooOld.md).

Read from the backup directory at scrape time: the process that takes the
backups may not be the one scraped, and a backup taken by ``roost backup
create`` from a shell counts as much as a scheduled one. No backup at all
reports 0 (the epoch), so the age is enormous and the alert fires.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from roost.config import Settings
from roost.ops.backup import VERIFIED_SUFFIX, list_backups


class BackupCollector(Collector):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backups = list_backups(self.settings.backups_path)
        newest = backups[0].taken_at.timestamp() if backups else 0.0
        yield GaugeMetricFamily(
            "roost_backup_last_success_timestamp_seconds",
            "Unix time the newest complete backup was taken (0: there is none).",
            value=newest,
        )
        verified_at = 0.0
        for backup in backups:
            record = backup.path.with_name(backup.path.name + VERIFIED_SUFFIX)
            if record.is_file():
                try:
                    stamp = json.loads(record.read_text())["verified_at"]
                    verified_at = datetime.fromisoformat(stamp).timestamp()
                except (OSError, ValueError, KeyError, TypeError):
                    continue
                break
        yield GaugeMetricFamily(
            "roost_backup_last_verified_timestamp_seconds",
            "Unix time a backup was last verified by `roost backup verify` (0: never).",
            value=verified_at,
        )


def register_backup_metrics(registry: CollectorRegistry, settings: Settings) -> None:
    """Once per registry: an app built twice on the same services adds nothing."""
    if not getattr(registry, "_roost_backup_metrics", False):
        registry.register(BackupCollector(settings))
        registry._roost_backup_metrics = True  # type: ignore[attr-defined]
