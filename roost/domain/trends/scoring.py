"""How much something trends: distinct accounts, each counted once, each
worth less the longer ago it acted.

For an item (a hashtag, a link, a post) and the moment ``now``:

    score = sum over distinct accounts a of 2 ** (-(now - t_a) / HALF_LIFE)

where ``t_a`` is the latest time within ``WINDOW`` that account ``a`` used
the hashtag, shared the link (a post whose card it is) or favourited or
boosted the post. An account that acted just now adds 1, one that acted
``HALF_LIFE`` ago 0.5, one at the edge of the window 2**-12; an account
repeating itself adds nothing more, so no single account can make anything
trend. Items used by fewer than ``MIN_ACCOUNTS`` accounts in the window do
not trend at all. Ties go to the newer item (the larger id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

HALF_LIFE = timedelta(hours=6)
WINDOW = timedelta(days=3)
MIN_ACCOUNTS = 2


@dataclass(frozen=True, slots=True)
class Trend:
    subject_id: int
    score: float
    accounts: int


def decayed(age: timedelta) -> float:
    return float(2 ** (-max(age, timedelta(0)) / HALF_LIFE))


def rank(events: Iterable[tuple[int, int, datetime]], now: datetime) -> list[Trend]:
    """``events`` are (item, account, when) within the window, any order."""
    latest: dict[int, dict[int, datetime]] = {}
    for item, account, when in events:
        by_account = latest.setdefault(item, {})
        if account not in by_account or when > by_account[account]:
            by_account[account] = when
    trends = [
        Trend(item, sum(decayed(now - when) for when in uses.values()), len(uses))
        for item, uses in latest.items()
        if len(uses) >= MIN_ACCOUNTS
    ]
    trends.sort(key=lambda t: (t.score, t.subject_id), reverse=True)
    return trends
