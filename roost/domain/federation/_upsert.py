"""Insert-if-absent for the federation tables, on either backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table

from roost.db.engine import Tx


def insert_absent(tx: Tx, table: Table, key: Column[Any]) -> Any:
    """``INSERT ... ON CONFLICT (key) DO NOTHING`` for ``table``."""
    if tx.conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(table).on_conflict_do_nothing(index_elements=[key])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=[key])
