"""The migrations and roost/db/tables.py describe the same schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from roost.db.managed import is_managed
from roost.db.tables import metadata
from tests.conftest import Roost


def test_given_a_migrated_database_then_it_matches_the_tables_module(roost: Roost) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": is_managed}
        )
        return list(compare_metadata(context, metadata))

    async def compare() -> list[Any]:
        async with roost.db.engine.connect() as conn:
            return await conn.run_sync(diff)

    assert roost.run(compare) == []
