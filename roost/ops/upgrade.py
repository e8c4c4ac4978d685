"""``roost db upgrade`` and ``roost db downgrade``: a verified backup first.

Threats 3 and 4: a bad release whose upgrade also breaks the way back. Before
a schema change touches a database that holds data, a backup is taken
(roost/ops/backup.py) and verified by restoring it into a scratch place
(roost/ops/verify.py); only then does the change run, all or nothing
(roost/db/migrate.py). Each backup taken this way is recorded in
``upgrades.jsonl`` in the backup directory, so a downgrade that cannot undo a
migration names the backup taken before that migration ran.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.migrate import (
    NotReversible,
    SchemaStatus,
    downgrade,
    downgrade_steps,
    irreversible_reason,
    schema_status,
    upgrade,
)
from roost.ops.backup import create_backup, list_backups
from roost.ops.errors import BackupError
from roost.ops.verify import verify_backup

RECORD_NAME = "upgrades.jsonl"


@dataclass(frozen=True)
class Change:
    before: SchemaStatus
    after: SchemaStatus
    backup: Path | None
    backup_skipped: str | None  # why no backup was taken


def _record(directory: Path, backup: Path, before: str | None, change: str) -> None:
    entry = {
        "at": utcnow().isoformat(),
        "backup": str(backup),
        "schema": before,
        "change": change,
    }
    with (directory / RECORD_NAME).open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


async def _backup_first(settings: Settings, to: Path | None, before: str, change: str) -> Path:
    """A backup, verified by a restore into a scratch place; raises BackupError.

    The verification renders restored posts as the API does: the caller
    installs the API's renderer first (roost.api.mastodon.hooks)."""
    try:
        result = await create_backup(settings, to=to)
        await verify_backup(settings, result.path)
    except BackupError as error:
        raise BackupError(
            f"{error.message}; the backup taken before changing the schema failed, so the "
            "schema was not changed (--no-backup skips the backup)"
        ) from None
    _record(result.path.parent, result.path, before, change)
    return result.path


async def safe_upgrade(settings: Settings, *, backup: bool, to: Path | None = None) -> Change:
    db = Database(settings)
    try:
        before = await schema_status(db)
        taken: Path | None = None
        skipped: str | None = None
        if not before.known or not before.pending:
            skipped = "nothing to migrate"
        elif before.current is None:
            skipped = "the database is empty"
        elif not backup:
            skipped = "--no-backup"
        else:
            await db.dispose()
            taken = await _backup_first(settings, to, before.current, f"upgrade to {before.head}")
        after = await upgrade(db)
        return Change(before, after, taken, skipped)
    finally:
        await db.dispose()


def backup_before(settings: Settings, revisions: list[str]) -> Path | None:
    """The newest recorded pre-change backup taken at a schema older than every
    one of ``revisions`` (so before they ran); else the newest backup at all."""
    record = settings.backups_path / RECORD_NAME
    if record.is_file():
        entries = []
        for line in record.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        for entry in reversed(entries):
            if entry.get("schema") not in revisions and Path(entry.get("backup", "")).is_file():
                return Path(entry["backup"])
    found = list_backups(settings.backups_path)
    return found[0].path if found else None


class DowngradeRefused(BackupError):
    """A migration on the way down cannot be undone; the message names the backup."""


async def safe_downgrade(
    settings: Settings, target: str, *, backup: bool, to: Path | None = None
) -> Change:
    db = Database(settings)
    try:
        before = await schema_status(db)
        if before.current is not None and before.known:
            steps = downgrade_steps(before.current, target)
            for revision in steps:
                reason = irreversible_reason(revision)
                if reason is not None:
                    raise _refusal(settings, NotReversible(revision, reason), steps)
        taken: Path | None = None
        skipped: str | None = None
        if not backup:
            skipped = "--no-backup"
        elif before.current is not None:
            await db.dispose()
            taken = await _backup_first(settings, to, before.current, f"downgrade to {target}")
        try:
            after = await downgrade(db, target)
        except NotReversible as error:
            raise _refusal(settings, error, [error.revision]) from None
        return Change(before, after, taken, skipped)
    finally:
        await db.dispose()


def _refusal(settings: Settings, error: NotReversible, steps: list[str]) -> DowngradeRefused:
    backup = backup_before(settings, steps)
    where = (
        f"restore the backup taken before it ran: roost backup restore {backup} --force"
        if backup is not None
        else f"no backup was found in {settings.backups_path}; restore one taken before it ran"
    )
    return DowngradeRefused(f"{error}; nothing was changed. To go back, {where}")
