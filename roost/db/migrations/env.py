"""Alembic runs migrations on the connection roost.db.migrate hands it."""

from alembic import context

from roost.db.managed import is_managed
from roost.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
    # The search index is made by hand (see roost/db/managed.py).
    include_name=is_managed,
)
with context.begin_transaction():
    context.run_migrations()
