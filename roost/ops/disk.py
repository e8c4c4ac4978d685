"""The disk guard, and what each store takes of the disk (threats 1 and 11).

A full disk takes everything down at once: the database cannot commit, so
nobody can even post text. Uploads are by far the largest writes, so they are
refused first: when the media volume has less free space than
``ROOST_MEDIA_MIN_FREE_MB`` or ``ROOST_MEDIA_MIN_FREE_PERCENT``, an upload
answers 507 before its body is read, while text posts go on. When the
database's own volume gets under ``ROOST_DB_MIN_FREE_MB`` (or a write fails
for want of space), every write answers 507 and /readyz reports the database
not writable, while reads go on (roost/db/storage.py).

Sizes per store (database, media, backups, logs, caches) are sampled into
``.disk-history.json`` in the data directory (hourly by the server, and by each
`roost doctor`), so doctor can say which store grew and when the disk is full.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from roost.clock import utcnow
from roost.config import Settings
from roost.errors import RoostError
from roost.media.store import media_root

log = logging.getLogger("roost.disk")

HISTORY = ".disk-history.json"
_SAMPLE_EVERY = timedelta(hours=1)
_KEEP = timedelta(days=30)
_refused_uploads = 0


class InsufficientStorage(RoostError):
    """The media volume is nearly full; uploads wait until space is freed (507)."""

    status = 507


@dataclass(frozen=True)
class Space:
    path: Path
    free: int
    total: int

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free / self.total if self.total else 0.0


def space(path: Path) -> Space:
    """Free space on the volume that holds ``path`` (or would, once created)."""
    probe = path
    while True:
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            usage = shutil.disk_usage(probe)
        except FileNotFoundError:
            # Removed between the check and the call (a temporary folder, a
            # data directory being torn down): ask its parent instead.
            if probe == probe.parent:
                raise
            probe = probe.parent
            continue
        return Space(path, usage.free, usage.total)


def media_space_problem(settings: Settings) -> str | None:
    """Why uploads must stop now, or None while there is room."""
    media = space(media_root(settings))
    floor = settings.media_min_free_mb * 1024 * 1024
    if media.free < floor or media.free_percent < settings.media_min_free_percent:
        return (
            f"The server is low on storage for media ({media.free // 2**20} MiB free, "
            f"{media.free_percent:.1f}%); uploads are paused until space is freed. "
            "Text posts still work."
        )
    return None


def check_upload_space(settings: Settings) -> None:
    """Raise InsufficientStorage (507) when the media volume is under its floor."""
    global _refused_uploads
    problem = media_space_problem(settings)
    if problem is not None:
        _refused_uploads += 1
        log.warning("upload refused: %s", problem)
        raise InsufficientStorage(problem)


def _tree_size(root: Path, skip: frozenset[Path] = frozenset()) -> int:
    total = 0
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if Path(directory, d) not in skip]
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def _file_size(path: Path) -> int:
    # SQLite removes its -wal and -shm files when the last connection closes,
    # possibly between a check that they exist and the stat.
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _sqlite_files(settings: Settings) -> Iterator[Path]:
    main = settings.database_file
    if main is not None:
        yield from (main, Path(f"{main}-wal"), Path(f"{main}-shm"))


def store_sizes(settings: Settings) -> dict[str, int]:
    """Bytes per store on this machine. On PostgreSQL the database lives on its
    own server: `roost doctor` asks it for its size separately."""
    data = settings.data_dir
    places = {
        "media": media_root(settings),
        "backups": settings.backups_path,
        "logs": data / "logs",
        "caches": data / "cache",
    }
    sizes = {name: _tree_size(path) if path.is_dir() else 0 for name, path in places.items()}
    sizes["database"] = sum(_file_size(p) for p in _sqlite_files(settings))
    if data.is_dir():
        # Everything else in the data directory (the secret key, this history,
        # whatever an operator left there), the stores above not counted twice.
        root = data.resolve()
        in_data = sum(_file_size(p) for p in _sqlite_files(settings) if root in p.resolve().parents)
        skip = frozenset(p.resolve() for p in places.values())
        sizes["other"] = max(0, _tree_size(root, skip) - in_data)
    return sizes


@dataclass(frozen=True)
class Sample:
    at: datetime
    free: int
    sizes: dict[str, int]


def load_history(settings: Settings) -> list[Sample]:
    try:
        raw = json.loads((settings.data_dir / HISTORY).read_text())
        return [
            Sample(datetime.fromisoformat(s["at"]), int(s["free"]), dict(s["sizes"])) for s in raw
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def record_sample(settings: Settings, now: datetime | None = None) -> list[Sample]:
    """Add a sample (at most one an hour), keep 30 days; returns the history."""
    now = now or utcnow()
    history = [s for s in load_history(settings) if now - s.at < _KEEP]
    if not history or now - history[-1].at >= _SAMPLE_EVERY:
        free = space(settings.data_dir).free
        history.append(Sample(now, free, store_sizes(settings)))
        body = [{"at": s.at.isoformat(), "free": s.free, "sizes": s.sizes} for s in history]
        with contextlib.suppress(OSError):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            temporary = settings.data_dir / (HISTORY + ".tmp")
            temporary.write_text(json.dumps(body))
            os.replace(temporary, settings.data_dir / HISTORY)
    return history


@dataclass(frozen=True)
class Growth:
    days: float
    per_day: dict[str, float]  # bytes a day, per store
    free_per_day: float  # negative while the disk fills

    def days_until_full(self, free: int) -> float | None:
        if self.free_per_day >= 0:
            return None
        return free / -self.free_per_day


def growth(history: list[Sample], window: timedelta = timedelta(days=7)) -> Growth | None:
    """Growth over the last ``window`` (or as much history as there is, from an
    hour up); None with too little history to say."""
    if len(history) < 2:
        return None
    latest = history[-1]
    oldest = next((s for s in history if latest.at - s.at <= window), history[0])
    days = (latest.at - oldest.at).total_seconds() / 86400
    if days < 1 / 24:
        return None
    per_day = {
        name: (latest.sizes.get(name, 0) - oldest.sizes.get(name, 0)) / days
        for name in latest.sizes
    }
    return Growth(days, per_day, (latest.free - oldest.free) / days)


async def sample_forever(settings: Settings, every_s: float = 3600.0) -> None:
    while True:
        try:
            await asyncio.to_thread(record_sample, settings)
        except Exception as error:
            # Best effort, hourly: one line naming the failure, not a
            # traceback that reads as a crash in the server's log.
            log.warning("sampling disk use failed: %s: %s", type(error).__name__, error)
        await asyncio.sleep(every_s)


class DiskCollector(Collector):
    """/metrics: free space of the media volume, bytes per store (cached for a
    minute: walking the media tree on every scrape would cost more than it tells),
    and uploads refused for want of space."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sizes: dict[str, int] = {}
        self._sized_at = 0.0

    def collect(self) -> Iterator[Metric]:
        media = space(media_root(self.settings))
        free = GaugeMetricFamily(
            "roost_disk_free_bytes", "Free bytes on a volume Roost writes to.", labels=["volume"]
        )
        free.add_metric(["media"], media.free)
        free.add_metric(["data"], space(self.settings.data_dir).free)
        if self.settings.database_file is not None:
            free.add_metric(["database"], space(self.settings.database_file).free)
        yield free
        if time.monotonic() - self._sized_at > 60:
            self._sizes = store_sizes(self.settings)
            self._sized_at = time.monotonic()
        stores = GaugeMetricFamily(
            "roost_store_bytes", "Bytes each store takes on this machine.", labels=["store"]
        )
        for name, size in sorted(self._sizes.items()):
            stores.add_metric([name], size)
        yield stores
        refused = CounterMetricFamily(
            "roost_uploads_refused_low_disk", "Uploads answered 507 because the disk was low."
        )
        refused.add_metric([], _refused_uploads)
        yield refused


def register_disk_metrics(registry: CollectorRegistry, settings: Settings) -> None:
    """Once per registry: an app built twice on the same services adds nothing."""
    if not getattr(registry, "_roost_disk_metrics", False):
        registry.register(DiskCollector(settings))
        registry._roost_disk_metrics = True  # type: ignore[attr-defined]
