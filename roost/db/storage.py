"""A full disk, told apart from a database that is down (threats 1 and 11).

When the disk is full, the database still answers reads; only writes fail.
Saying "the database is unavailable" (503) then sends the operator to the
wrong place, so a write that fails for want of space answers 507 Insufficient
Storage with a message that says so. Nothing of it was written: the
transaction is rolled back, like any failed write.

``disk_full`` recognises the failure from each engine:
  - SQLite: SQLITE_FULL ("database or disk is full");
  - PostgreSQL: SQLSTATE 53100 ``disk_full`` ("could not extend file ...:
    No space left on device");
  - the operating system: ENOSPC, EDQUOT.

``StorageWatch`` answers "can writes succeed now?" for /readyz and for
``Database.write`` without writing anything:
  - SQLite: the free space of the database's volume against
    ``ROOST_DB_MIN_FREE_MB``. Checked before every write (one ``statvfs``, a
    few microseconds): below the floor, writes are refused with 507 before
    they start, which keeps the last of the space for the database to finish
    what it has begun (a checkpoint, a rollback). A probe that writes and
    rolls back would prove nothing: it fits in the pages SQLite already has.
    /readyz and `roost doctor` also call the volume full under NEARLY_FULL
    (1 MiB) free whatever the floor.
  - Any engine: a write that failed for want of space in the last
    ``RECENT_S`` seconds (PostgreSQL's disk is on another machine; this is
    what this process can know of it). It expires by itself, so a process
    taken out of rotation by /readyz comes back once the space is freed,
    instead of waiting for a write that can no longer reach it.
"""

from __future__ import annotations

import errno
import logging
import shutil
import sqlite3
import time
from pathlib import Path

from roost.errors import StorageFull

log = logging.getLogger("roost.db")

RECENT_S = 30.0
# Under this much free space the volume counts as full for /readyz and
# `roost doctor` even with no floor set: a write of any size may fail.
NEARLY_FULL = 2**20
_SQLSTATE_DISK_FULL = "53100"
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and what it wraps (SQLAlchemy's ``orig``, ``__cause__``)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or any(current is s for s in seen) or len(seen) > 16:
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending += [
            orig if isinstance(orig, BaseException) else None,
            current.__cause__,
            current.__context__,
        ]
    return seen


def disk_full(error: BaseException) -> bool:
    """Whether ``error`` means the disk (or the database's volume) is full."""
    for cause in _causes(error):
        if isinstance(cause, sqlite3.Error):
            code = getattr(cause, "sqlite_errorcode", None)
            if code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
                return True
        if isinstance(cause, OSError) and cause.errno in _NO_SPACE:
            return True
        if getattr(cause, "sqlstate", None) == _SQLSTATE_DISK_FULL:
            return True
    return False


def describe(error: BaseException) -> str:
    """What the engine said, without the statement or its values (which
    SQLAlchemy's own message carries, and which must stay out of logs)."""
    for cause in _causes(error):
        if isinstance(cause, sqlite3.Error) or getattr(cause, "sqlstate", None):
            said = str(cause).strip()
            return said.splitlines()[0][:200] if said else type(cause).__name__
        if isinstance(cause, OSError) and cause.errno in _NO_SPACE:
            return cause.strerror or "no space left on device"
    return "no space left on device"


class StorageWatch:
    """One database's answer to "can writes succeed now?" (see the module)."""

    def __init__(self, database_file: Path | None, min_free_mb: int) -> None:
        self._directory = database_file.parent if database_file is not None else None
        self._floor = min_free_mb * 2**20
        self._min_free_mb = min_free_mb
        self._failed_at: float | None = None
        self._failure = ""
        self._refusing = False

    def _free(self) -> int | None:
        if self._directory is None:
            return None
        try:
            return shutil.disk_usage(self._directory).free
        except OSError:
            return None  # the directory went away: the write will say what is wrong

    def below_floor(self) -> str | None:
        """Why writes are refused before they start (SQLite under its floor), or None."""
        free = self._free() if self._floor else None
        if free is None or free >= self._floor:
            return None
        return (
            f"the database's volume has {free / 2**20:.1f} MiB free, "
            f"under ROOST_DB_MIN_FREE_MB={self._min_free_mb}"
        )

    def volume_full(self) -> str | None:
        """Why the database's volume counts as full (SQLite): under the floor,
        or under NEARLY_FULL whatever the floor; None otherwise."""
        refused = self.below_floor()
        if refused is not None:
            return refused
        free = self._free()
        if free is None or free >= NEARLY_FULL:
            return None
        return f"the database's volume has {free / 2**10:.0f} KiB free"

    def refuse_below_floor(self) -> None:
        """StorageFull (507), before anything is written, while the volume is
        under its floor; the first refusal is logged, not every one."""
        reason = self.below_floor()
        if reason is None:
            self._refusing = False
            return
        if not self._refusing:
            log.error("writes answer 507 until space is freed: %s", reason)
            self._refusing = True
        raise StorageFull()

    def problem(self) -> str | None:
        """Why writes cannot succeed now, or None as far as can be told."""
        full = self.volume_full()
        if full is not None:
            return full
        if self._failed_at is not None:
            ago = time.monotonic() - self._failed_at
            if ago < RECENT_S:
                return f"a write was refused {ago:.0f}s ago for want of space: {self._failure}"
        return None

    def failed(self, error: BaseException) -> None:
        """A write failed for want of space."""
        self._failure = describe(error)
        if self._failed_at is None:
            log.error("the disk holding the database is full; writes answer 507: %s", self._failure)
        self._failed_at = time.monotonic()

    def succeeded(self) -> None:
        """A write committed: whatever failed before, there is space now."""
        if self._failed_at is not None:
            log.warning("the database takes writes again")
            self._failed_at = None
