"""Self-service exports: each account's archives under ``$ROOST_DATA_DIR/exports``.

An account keeps only its newest archive; a new request replaces the old one.
The archive's id is its file name, and it is found only under the requesting
account's own directory, so an id alone opens nothing. Erasure removes the
directory (roost/erasure/stores.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.audit import events as audit_events
from roost.export.archive import build_export
from roost.ids import new_id


@dataclass(frozen=True)
class ExportFile:
    id: int
    path: Path
    size: int
    created_at: datetime


def exports_directory(settings: Settings, account_id: int) -> Path:
    return settings.data_dir / "exports" / str(account_id)


async def request_export(db: Database, settings: Settings, account_id: int) -> ExportFile:
    export_id = new_id()
    directory = exports_directory(settings, account_id)
    target = directory / f"{export_id}.zip"
    async with db.read() as conn:
        summary = await build_export(conn, settings, account_id, target)
    for old in directory.glob("*.zip"):
        if old != target:
            old.unlink(missing_ok=True)
    async with db.write() as tx:
        await audit_events.exported(tx, account_id, export_id)
    return ExportFile(export_id, summary.path, summary.size, utcnow())


def find_export(settings: Settings, account_id: int, export_id: int) -> Path | None:
    path = exports_directory(settings, account_id) / f"{export_id}.zip"
    return path if path.is_file() else None
