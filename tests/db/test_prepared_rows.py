"""Prepared reads (roost/db/fastread.py) hand back rows as SQLAlchemy would:
only the columns whose type converts (dates, JSON, booleans on SQLite) are
converted, every other value is passed on as the driver gave it, and a row
of the wrong width is refused rather than read into the wrong columns."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, MetaData, String, Table, select
from sqlalchemy.schema import CreateTable

from roost.config import load_settings
from roost.db.engine import Database
from roost.db.fastread import Prepared
from roost.db.types import UTCDateTime

metadata = MetaData()
notes = Table(
    "prepared_rows_notes",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("title", String(40)),
    Column("made_at", UTCDateTime()),
    Column("shown", Boolean),
    Column("extra", JSON),
    Column("count", Integer),
)
_ALL = Prepared(lambda: select(notes).order_by(notes.c.id))

rows = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.none() | st.text(max_size=12),
            "made_at": st.none()
            | st.datetimes(
                min_value=datetime(2000, 1, 1),
                max_value=datetime(2099, 1, 1),
                timezones=st.just(UTC),
            ).map(lambda d: d.replace(microsecond=0)),
            "shown": st.none() | st.booleans(),
            "extra": st.none()
            | st.dictionaries(st.text(max_size=4), st.integers(-9, 9), max_size=3),
            "count": st.none() | st.integers(-(2**31), 2**31 - 1),
        }
    ),
    max_size=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(written=rows)
def test_given_any_rows_when_read_prepared_then_they_are_what_sqlalchemy_reads(
    tmp_path_factory: pytest.TempPathFactory, written: list[dict[str, Any]]
) -> None:
    where: Path = tmp_path_factory.mktemp("prepared")

    async def main() -> tuple[list[Any], list[Any], list[Any]]:
        db = Database(load_settings(data_dir=where, database_url="", redis_url="", domain="x"))
        try:
            async with db.write() as tx:
                await tx.execute(CreateTable(notes, if_not_exists=True))
                for number, row in enumerate(written, start=1):
                    await tx.execute(notes.insert().values(id=number, **row))
            async with db.read() as conn:
                expected = [
                    tuple(r) for r in await conn.execute(select(notes).order_by(notes.c.id))
                ]
            prepared = await db.fast.all(_ALL)
            compiled = db.fast.compiled(_ALL)
            raw = await db.fast.all(_ALL, raw=True)
            one_by_one = [compiled.process(r) for r in raw]
            return expected, prepared, one_by_one
        finally:
            await db.dispose()

    expected, prepared, one_by_one = asyncio.run(main())
    assert prepared == expected
    assert one_by_one == expected
    # What the app writes comes back as written (dates aware, JSON parsed).
    assert [dict(zip(notes.c.keys()[1:], r[1:], strict=True)) for r in prepared] == written


def test_given_a_row_of_the_wrong_width_when_processed_then_it_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(load_settings(data_dir=tmp_path, database_url="", redis_url="", domain="x"))
        try:
            compiled = db.fast.compiled(_ALL)
            with pytest.raises(ValueError, match="columns"):
                compiled.rows([(1, "a", None, True, None)])
            with pytest.raises(ValueError, match="columns"):
                compiled.process((1, "a", None, True, None, 3, "one too many"))
            # ``start`` names where the values begin: the rest of a row.
            assert compiled.process(("a", None, 1, None, 3), start=1) == ("a", None, True, None, 3)
        finally:
            await db.dispose()

    asyncio.run(main())
