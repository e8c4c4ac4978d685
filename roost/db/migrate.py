"""Schema migrations, and the guard that keeps an old release off a newer schema.

Scenario 12 of the thread: a revert runs old code on data it does not
understand. Roost refuses to start when the database carries a revision this
release does not know, and says which.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from roost.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

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
    # Alembic is loaded only when a schema is checked in full: a tenth of a
    # second of every start otherwise (see ``upgrade``).
    from alembic.config import Config

    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE))
    config.set_main_option("version_locations", str(_HERE / "versions"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def known_revisions() -> set[str]:
    """Every schema revision this release can run on or migrate from."""
    return {rev.revision for rev in _scripts().walk_revisions()}


def _status(connection: Connection) -> SchemaStatus:
    from alembic.runtime.migration import MigrationContext

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
    head = _head_from_files()
    if head is not None and await _stored_revisions(db) == [head]:
        # Already at the newest revision: the usual start, answered without
        # loading alembic. Anything else takes the full path below.
        return SchemaStatus(current=head, head=head, pending=[], known=True)
    before = await schema_status(db)
    if not before.known:
        raise SchemaTooNew(
            f"the database is at schema revision {before.current}, which this release of "
            f"Roost does not know (newest known: {before.head}). It was upgraded by a newer "
            "release; run that release, or restore a backup taken before the upgrade."
        )
    if before.pending:

        def _run(connection: Connection) -> Any:
            from alembic import command

            command.upgrade(_config(connection), "head")

        async with db.engine.begin() as conn:
            await conn.run_sync(_run)
    return await schema_status(db)


_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.*)$", re.MULTILINE)


def _head_from_files() -> str | None:
    """The newest revision, read from the version files without alembic.

    Only for a plain chain (each file one ``revision`` and one ``down_revision``,
    literal strings, every file on one line of descent from the head to the
    root); anything else answers None and the caller asks alembic, so a file
    this reader misunderstands can only cost time.
    """
    parents: dict[str, str | None] = {}
    for path in sorted((_HERE / "versions").glob("*.py")):
        if path.name.startswith("__"):
            continue
        lines = _REVISION_LINE.findall(path.read_text(encoding="utf-8"))
        if Counter(name for name, _value in lines) != Counter(["revision", "down_revision"]):
            return None
        try:
            values = {name: ast.literal_eval(value.strip()) for name, value in lines}
        except (ValueError, SyntaxError):
            return None
        revision, parent = values["revision"], values["down_revision"]
        if not isinstance(revision, str) or revision in parents:
            return None
        if parent is not None and not isinstance(parent, str):
            return None
        parents[revision] = parent
    children = set(parents.values())
    heads = [revision for revision in parents if revision not in children]
    roots = [revision for revision, parent in parents.items() if parent is None]
    if len(heads) != 1 or len(roots) != 1:
        return None
    chain: list[str] = []
    step: str | None = heads[0]
    while step is not None and step in parents and len(chain) <= len(parents):
        chain.append(step)
        step = parents[step]
    if step is not None or sorted(chain) != sorted(parents):
        return None
    return heads[0]


async def _stored_revisions(db: Database) -> list[str] | None:
    """The revisions recorded in the database; None when it has no record yet."""
    try:
        async with db.engine.connect() as conn:
            rows = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            return [str(row[0]) for row in rows]
    except DBAPIError:
        return None
