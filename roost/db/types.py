"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from roost.keys.ring import PREFIX, unseal

# SQLite only makes INTEGER PRIMARY KEY a rowid alias for the exact type name
# INTEGER; BigInteger elsewhere keeps PostgreSQL ids 64-bit.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC, always handed back timezone-aware (UTC).

    SQLite has no time zones; refusing naive datetimes on the way in keeps a
    local-time value from ever being stored by mistake.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        result: datetime = value.replace(tzinfo=UTC)
        return result


class Sealed(TypeDecorator[str]):
    """Text sealed under its author's key (roost/keys/ring.py), read as plain text.

    Writers store ``seal(account_id, text)``; every reader gets the plain text
    from the row, with no query (keys are cached per process), or ``""`` when
    an erasure destroyed the key. Anything not an envelope (an empty text, a
    row from before sealing) reads as it is stored. SQL cannot compare or
    search a sealed column: filter in Python, or on a blind index.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value  # type: ignore[no-any-return]
        return unseal(value)
