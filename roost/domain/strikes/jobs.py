"""Jobs of strikes."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class WarningMail(Job, kind="mail.account_warning"):
    """Tell the account, by mail, of a strike against it."""

    warning_id: int
