"""The shape of a lawful request and the kinds of data one may ask for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from roost.domain.roles.permissions import Permission

# Who may enter, approve, refuse and package a request, and list them. No new
# permission: ``manage_users`` is the one that already shows staff an
# account's private details.
PERMISSION = Permission.MANAGE_USERS
APPROVALS_NEEDED = 2

# What the export code can produce, within a date range:
#   profile          the account as it is now (actor.json; not dated)
#   posts            its public, unlisted and followers-only posts and boosts
#   direct_messages  its direct posts
#   media            the files attached to its posts in the range
KINDS = ("profile", "posts", "direct_messages", "media")
STATES = ("pending", "approved", "refused", "disclosed")
MAX_AUTHORITY = 200
MAX_LEGAL_BASIS = 500
MAX_TEXT = 5000


@dataclass(frozen=True)
class Approval:
    approver_account_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class LawfulRequest:
    id: int
    account_id: int | None
    authority: str
    legal_basis: str
    verification: str
    verified_by_account_id: int | None
    requested_by_account_id: int | None
    starts_at: datetime
    ends_at: datetime
    kinds: tuple[str, ...]
    state: str
    refusal_reason: str | None
    decided_by_account_id: int | None
    package_sha256: str | None
    created_at: datetime
    updated_at: datetime
    approvals: tuple[Approval, ...]
