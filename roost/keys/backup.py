"""The key store's own backup: one file per backup directory, rewritten in place.

Data backups never hold keys; without the keys their sealed content is
unreadable, so the key store is backed up on its own path:
``<backup dir>/roost-keys.sqlite3``, a SQLite file of every key and tombstone
(mode 0600), refreshed by every ``roost backup create`` into the directory it
writes to (so it always covers the newest data backup beside it) and by
``roost keys backup``. Each such file is recorded in the key store.

It is the one mutable backup: an erasure destroys the key in the store and
then rewrites every recorded key backup without it (``forget_in_backups``).
Copy it off the machine with a tool that replaces the copy (rsync, a bucket
without object lock), never to the append-only target of the data backups.

A refresh is a union: keys the file holds that the store lacks (a store lost
and not yet restored) stay in it; tombstones win over keys, in both.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from roost.keys import ring
from roost.keys.store import open_key_file, sqlite_merge, sqlite_rows

KEY_BACKUP_NAME = "roost-keys.sqlite3"


def _sync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _rewrite(target: Path, change: list[tuple[int, bytes | None, str, str | None]]) -> None:
    """Replace ``target`` with a copy of it (if any) that has ``change`` merged
    in, compacted so no freed page keeps a destroyed key."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    conn = open_key_file(partial)
    try:
        if target.exists():
            old = sqlite3.connect(target)
            try:
                old.backup(conn)
            finally:
                old.close()
            conn.execute("PRAGMA secure_delete=ON")
        sqlite_merge(conn, change)
        conn.execute("VACUUM")
    finally:
        conn.close()
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    _sync_dir(target.parent)


def write_key_backup(directory: Path) -> Path:
    """Refresh the key-store backup in ``directory``; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / KEY_BACKUP_NAME
    store = ring.store()
    _rewrite(target, store.rows())
    store.record_backup(str(target.resolve()))
    return target


@dataclass(frozen=True)
class Forgotten:
    rewritten: list[str]
    unreachable: list[str]


def forget_in_backups(key_id: int) -> Forgotten:
    """Rewrite every recorded key backup with ``key_id`` destroyed."""
    now = datetime.now(UTC).isoformat()
    tombstone: list[tuple[int, bytes | None, str, str | None]] = [(key_id, None, now, now)]
    rewritten: list[str] = []
    unreachable: list[str] = []
    for name in ring.store().backup_paths():
        path = Path(name)
        if not path.is_file():
            # Moved, or on another machine: the receipt names it.
            unreachable.append(name)
            continue
        _rewrite(path, tombstone)
        rewritten.append(name)
    return Forgotten(rewritten, unreachable)


def key_in_backups(key_id: int) -> list[str]:
    """The recorded key backups that still hold ``key_id``'s bytes."""
    found: list[str] = []
    for name in ring.store().backup_paths():
        path = Path(name)
        if not path.is_file():
            continue
        conn = sqlite3.connect(path)
        try:
            row = conn.execute("SELECT key FROM keys WHERE key_id = ?", (key_id,)).fetchone()
        finally:
            conn.close()
        if row is not None and row[0] is not None:
            found.append(name)
    return found


def restore_keys(candidates: list[Path]) -> tuple[Path | None, int]:
    """Merge the first key backup found among ``candidates`` into the key store
    (keys it lacks, tombstones it has not applied); (file, rows changed)."""
    for path in candidates:
        if not path.is_file():
            continue
        conn = open_key_file(path)
        try:
            rows = sqlite_rows(conn)
        finally:
            conn.close()
        changed = ring.store().merge(rows)
        ring.forget_all()
        return path, changed
    return None, 0
