"""What an import did, counted by kind: imported, skipped (with the reasons)
and failed, plus details (threads joined, long posts completed), the media files the
archive lacked, and notes for the owner.

Stored as JSON on the import's row after every batch, so the report of an
import that was interrupted and resumed counts each thing once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Kinds in the order the report shows them.
KINDS = (
    "posts",
    "likes",
    "followers",
    "following",
    "blocks",
    "mutes",
    "direct_messages",
    "media",
)
# A long list says no more than its first entries (and, for files, a count).
MAX_LISTED_MISSING = 200
MAX_NOTES = 100


@dataclass
class Report:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    missing_media: list[str] = field(default_factory=list)
    missing_media_count: int = 0
    details: dict[str, int] = field(default_factory=dict)
    profile: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str, amount: int = 1) -> None:
        entry = self.counts.setdefault(kind, {"imported": 0, "skipped": 0, "failed": 0})
        entry[outcome] = entry.get(outcome, 0) + amount

    def skip(self, kind: str, reason: str, amount: int = 1) -> None:
        if amount <= 0:
            return
        self.add(kind, "skipped", amount)
        reasons = self.skipped.setdefault(kind, {})
        reasons[reason] = reasons.get(reason, 0) + amount

    def count(self, kind: str, outcome: str) -> int:
        return self.counts.get(kind, {}).get(outcome, 0)

    def media_missing(self, name: str) -> None:
        self.missing_media_count += 1
        if len(self.missing_media) < MAX_LISTED_MISSING:
            self.missing_media.append(name)

    def tally(self, detail: str, amount: int = 1) -> None:
        self.details[detail] = self.details.get(detail, 0) + amount

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < MAX_NOTES:
            self.notes.append(text)

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": {k: self.counts[k] for k in _ordered(self.counts)},
            "skipped": self.skipped,
            "missing_media": self.missing_media,
            "missing_media_count": self.missing_media_count,
            "details": self.details,
            "profile": self.profile,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Report:
        data = data or {}
        return cls(
            counts={k: dict(v) for k, v in (data.get("counts") or {}).items()},
            skipped={k: dict(v) for k, v in (data.get("skipped") or {}).items()},
            missing_media=list(data.get("missing_media") or []),
            missing_media_count=int(data.get("missing_media_count") or 0),
            details=dict(data.get("details") or {}),
            profile=list(data.get("profile") or []),
            notes=list(data.get("notes") or []),
        )


def _ordered(counts: dict[str, Any]) -> list[str]:
    known = [k for k in KINDS if k in counts]
    return known + sorted(k for k in counts if k not in KINDS)
