"""Schema migrations, and the guard that keeps an old release off a newer schema.

Scenario 12 of the thread: a revert runs old code on data it does not
understand. Roost refuses to start when the database carries a revision this
release does not know, and says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from roost.db.engine import Database

_HERE = Path(__file__).parent / "migrations"


class SchemaTooNew(Exception):
    """The database was migrated by a newer Roost than this one."""


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    pending: list[str]
    known: bool

    @property
    def up_to_date(self) -> bool:
        return self.known and not self.pending


def _config(connection: Connection | None = None) -> Config:
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("version_locations", str(_HERE / "versions"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def known_revisions() -> set[str]:
    """Every schema revision this release can run on or migrate from."""
    return {rev.revision for rev in _scripts().walk_revisions()}


def _status(connection: Connection) -> SchemaStatus:
    scripts = _scripts()
    head = scripts.get_current_head()
    assert head is not None
    current = MigrationContext.configure(connection).get_current_revision()
    known_revisions = {rev.revision for rev in scripts.walk_revisions()}
    known = current is None or current in known_revisions
    pending: list[str] = []
    if known:
        for rev in scripts.iterate_revisions(head, current):
            pending.append(rev.revision)
        pending.reverse()
    return SchemaStatus(current=current, head=head, pending=pending, known=known)


async def schema_status(db: Database) -> SchemaStatus:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_status)


async def upgrade(db: Database) -> SchemaStatus:
    """Apply every pending migration; refuse a schema newer than this release."""
    before = await schema_status(db)
    if not before.known:
        raise SchemaTooNew(
            f"the database is at schema revision {before.current}, which this release of "
            f"Roost does not know (newest known: {before.head}). It was upgraded by a newer "
            "release; run that release, or restore a backup taken before the upgrade."
        )
    if before.pending:

        def _run(connection: Connection) -> Any:
            command.upgrade(_config(connection), "head")

        async with db.engine.begin() as conn:
            await conn.run_sync(_run)
    return await schema_status(db)
