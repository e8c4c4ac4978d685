"""Schema migrations, and the guard that keeps an old release off a newer schema.

Scenario 12 of the thread: a revert runs old code on data it does not
understand. Roost refuses to start when the database carries a revision this
release does not know, and says which.

A change of schema (up or down) is all or nothing: on PostgreSQL every pending
migration runs in one transaction (DDL is transactional there); on SQLite the
change is made on a copy of the file that replaces it only once it completed
(roost/db/swap.py). A migration that fails leaves the data and the schema as
they were.
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
from roost.db.swap import Step, change_a_copy, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

_HERE = Path(__file__).parent / "migrations"


class SchemaTooNew(Exception):
    """The database was migrated by a newer Roost than this one."""


class NotReversible(Exception):
    """A downgrade would pass a migration that cannot be undone."""

    def __init__(self, revision: str, reason: str) -> None:
        super().__init__(f"migration {revision} cannot be undone: {reason}")
        self.revision = revision
        self.reason = reason


class UnknownRevision(Exception):
    """A downgrade target that is not behind the database's revision."""


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

        await _change(db, _run)
    return await schema_status(db)


async def _change(db: Database, step: Step) -> None:
    """Run ``step`` so that it either completes or leaves the database as it was."""
    path = sqlite_file(db.url) if db.is_sqlite else None
    if path is None:
        async with db.engine.begin() as conn:
            await conn.run_sync(step)
        return
    # The file is replaced: no connection may stay open on the old one.
    await db.dispose()
    await change_a_copy(db.url, path, step)


def downgrade_steps(current: str, target: str) -> list[str]:
    """The revisions a downgrade from ``current`` to ``target`` undoes, newest first.

    Raises UnknownRevision when ``target`` is not an older revision on the
    database's line of descent."""
    scripts = _scripts()
    if target not in {rev.revision for rev in scripts.walk_revisions()}:
        raise UnknownRevision(f"{target} is not a schema revision this release knows")
    from alembic.script.revision import RevisionError

    try:
        steps = [rev.revision for rev in scripts.iterate_revisions(current, target)]
    except RevisionError:
        steps = []  # not an ancestor: a newer revision, or another line
    steps = [revision for revision in steps if revision != target]
    if target == current or not steps:
        raise UnknownRevision(f"the database is at {current}; {target} is not behind it")
    return steps


def irreversible_reason(revision: str) -> str | None:
    """Why the migration ``revision`` cannot be undone, or None if it can.

    A migration says so by raising NotImplementedError in its ``downgrade``,
    with the reason as the message."""
    script = _scripts().get_revision(revision)
    assert script is not None and script.path is not None
    tree = ast.parse(Path(script.path).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            for statement in node.body:
                if isinstance(statement, ast.Raise) and "NotImplementedError" in ast.unparse(
                    statement
                ):
                    call = statement.exc
                    if isinstance(call, ast.Call) and call.args:
                        try:
                            return str(ast.literal_eval(call.args[0]))
                        except ValueError:
                            pass
                    return "its downgrade is not written"
    return None


async def downgrade(db: Database, target: str) -> SchemaStatus:
    """Undo the migrations after ``target``, all or nothing.

    Raises NotReversible (before touching anything) when one of them cannot be
    undone, UnknownRevision for a target that is not behind the database."""
    before = await schema_status(db)
    if before.current is None:
        raise UnknownRevision("the database is empty: there is nothing to downgrade")
    if not before.known:
        raise SchemaTooNew(
            f"the database is at schema revision {before.current}, which this release of "
            "Roost does not know: downgrade it with the release that upgraded it"
        )
    for revision in downgrade_steps(before.current, target):
        reason = irreversible_reason(revision)
        if reason is not None:
            raise NotReversible(revision, reason)

    def _run(connection: Connection) -> Any:
        from alembic import command

        command.downgrade(_config(connection), target)

    try:
        await _change(db, _run)
    except NotImplementedError as error:
        raise NotReversible(target, str(error) or "its downgrade is not written") from None
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
