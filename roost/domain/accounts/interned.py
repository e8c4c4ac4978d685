"""One ``Account`` object per account as it stands, kept in this process.

The serializers cache an account's JSON by the object that renders it
(roost/api/mastodon/json_cache.py), so a page that makes a fresh ``Account``
from each row renders each afresh, and fills that cache with objects no
later page asks for, pushing out those that timelines share. A page of
notifications made 40 senders' objects and JSON per request this way. Rows
with the same values give the same object here; a change to the account
(any column) makes a new one. Bounded: the oldest go first. An erasure
drops them all in the process that runs it (roost/erasure/stores.py,
"account objects"); other processes' go as their bounded caches turn over,
as the rendered JSON that holds them does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy.engine import RowMapping

from roost.domain.types import ACCOUNT_COLUMNS, Account

CAPACITY = 10_000

_KEPT: dict[tuple[Any, ...], Account] = {}


def _key(row: Mapping[str, Any] | RowMapping) -> tuple[Any, ...]:
    # ``fields`` is a list (of dicts): its JSON stands for it in the key.
    return tuple(
        orjson.dumps(row[name]) if name == "fields" else row[name] for name in ACCOUNT_COLUMNS
    )


def interned(row: Mapping[str, Any] | RowMapping) -> Account:
    """The account of ``row`` (the columns of ``accounts``), the same object
    as for any earlier row with the same values still kept."""
    key = _key(row)
    found = _KEPT.get(key)
    if found is None:
        if len(_KEPT) >= CAPACITY:
            del _KEPT[next(iter(_KEPT))]
        found = _KEPT[key] = Account.from_row(row)
    return found


def forget_all() -> int:
    """Drop every kept object (erasure); how many there were."""
    count = len(_KEPT)
    _KEPT.clear()
    return count
