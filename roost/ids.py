"""Time-sortable 64-bit ids: milliseconds since the epoch, shifted left 16 bits,
plus a sequence. Newer things get larger ids, so ``ORDER BY id`` is time order and
pagination by id needs no second column. On the wire they are strings.

Imported history gets ids made from its original date (``id_for_time``), which
sorts it into the past instead of the top of anyone's timeline.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import datetime

_SEQUENCE_BITS = 16
MAX_ID = 2**63 - 1
# [0-9], not str.isdigit(): that also accepts "¹" and "①", which int() refuses.
_ID_TEXT = re.compile(r"[0-9]{1,19}")
_SEQUENCE_MASK = (1 << _SEQUENCE_BITS) - 1


class IdGenerator:
    def __init__(self, now_ms: object = None) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._now_ms = now_ms if callable(now_ms) else (lambda: int(time.time() * 1000))

    def next_id(self) -> int:
        """A new id, strictly larger than every id this generator gave before.

        Several processes may make ids at once; the random low bits make a
        collision between them as unlikely as a UUID's within one millisecond.
        """
        with self._lock:
            candidate = (self._now_ms() << _SEQUENCE_BITS) | secrets.randbelow(1 << 12)
            if candidate <= self._last:
                candidate = self._last + 1
            self._last = candidate
            return candidate


def id_for_time(moment: datetime, salt: int = 0) -> int:
    """An id that sorts at ``moment``; ``salt`` separates things made in one ms."""
    return (int(moment.timestamp() * 1000) << _SEQUENCE_BITS) | (salt & _SEQUENCE_MASK)


def min_id_for_time(moment: datetime) -> int:
    return int(moment.timestamp() * 1000) << _SEQUENCE_BITS


def id_from_text(text: str) -> int | None:
    """An id as the wire spells it (ASCII digits, 1 to 2**63-1), or None."""
    if not _ID_TEXT.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


_default = IdGenerator()


def new_id() -> int:
    return _default.next_id()
