"""What can go wrong while backing up, verifying or restoring.

BackupError            (a RoostError: the CLI prints it and exits 1)
 ├── BackupDamaged     the archive is truncated, altered, or not a backup
 └── RestoreRefused    the restore would lose data or cannot be applied
"""

from __future__ import annotations

from roost.errors import RoostError


class BackupError(RoostError):
    """A backup could not be made, read or restored; the message says why."""


class BackupDamaged(BackupError):
    """The archive is not what its manifest promises; the message names the part."""


class RestoreRefused(BackupError):
    """A restore that would overwrite data, or needs a newer Roost."""
