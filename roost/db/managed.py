"""The search index's tables are made by hand in the migrations, not from
roost/db/tables.py: SQLite's is an FTS5 virtual table (with shadow tables that
FTS5 owns), PostgreSQL's a table with a tsvector column and a GIN index. Neither
can be described by the shared metadata, so schema comparison (autogenerate and
the drift test) leaves every table named ``search_*`` alone.
"""

from __future__ import annotations

PREFIX = "search_"


# The key store's tables on PostgreSQL (roost/keys/store.py) make themselves
# and are no part of the schema either.
KEY_STORE_PREFIX = "roost_key"


def is_managed(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Alembic ``include_name`` hook: False for the search index's own objects
    and the key store's."""
    return not (
        type_ == "table" and name is not None and name.startswith((PREFIX, KEY_STORE_PREFIX))
    )
