"""Migrations expand, then contract a release later (docs/operations.md).

While servers are upgraded one at a time, the previous release runs on the new
schema. So a migration of this release may add, but may not drop or rename a
table or column the previous release reads (its roost/db/tables.py, read from
git at the commit RELEASES records). Dropping or renaming anything at all is a
contract step: the migration's docstring says so on a line starting
``Contract:``, and it may only touch what the previous release no longer reads.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from roost.db import migrate
from tests.db.releases import previous_release, require_history, source_of

_SQL_DROP = re.compile(
    r"\b(?:DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?\"?(\w+)|ALTER\s+TABLE\s+\"?(\w+)\"?\s+"
    r"(?:DROP|RENAME))",
    re.IGNORECASE,
)
_MARKER = re.compile(r"^\s*Contract:", re.MULTILINE)


@dataclass(frozen=True)
class Removal:
    """A table (column None) or a column that an upgrade drops or renames."""

    table: str
    column: str | None
    how: str

    def __str__(self) -> str:
        name = self.table if self.column is None else f"{self.table}.{self.column}"
        return f"{self.how} {name}"


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def removals(source: str) -> list[Removal]:
    """What the ``upgrade()`` of a migration's source drops or renames."""
    tree = ast.parse(source)
    upgrade = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None
    )
    if upgrade is None:
        return []
    found: list[Removal] = []

    def visit(node: ast.AST, batch_table: str | None) -> None:
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == (
                    "batch_alter_table"
                ):
                    batch_table = _text(call.args[0]) if call.args else batch_table
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", "")
            args = [_text(a) for a in node.args]
            if name == "drop_table" and args and args[0]:
                found.append(Removal(args[0], None, "drops table"))
            elif name == "rename_table" and args and args[0]:
                found.append(Removal(args[0], None, "renames table"))
            elif name == "drop_column":
                if len(args) >= 2 and args[0] and args[1]:
                    found.append(Removal(args[0], args[1], "drops column"))
                elif args and args[0] and batch_table:
                    found.append(Removal(batch_table, args[0], "drops column"))
            elif name == "alter_column" and any(k.arg == "new_column_name" for k in node.keywords):
                table, column = (args[0], args[1]) if len(args) >= 2 else (batch_table, args[0])
                if table and column:
                    found.append(Removal(table, column, "renames column"))
            elif name == "execute" and args and args[0]:
                for match in _SQL_DROP.finditer(args[0]):
                    table = match.group(1) or match.group(2)
                    found.append(Removal(table, None, "alters by SQL"))
        for child in ast.iter_child_nodes(node):
            visit(child, batch_table)

    visit(upgrade, None)
    return found


def read_by(tables_source: str) -> dict[str, set[str]]:
    """Tables and their columns as a release's roost/db/tables.py declares them."""
    tables: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(tables_source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Table":
            name = _text(node.args[0]) if node.args else None
            if name is None:
                continue
            columns = {
                column
                for arg in node.args[1:]
                if isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "Column"
                for column in [_text(arg.args[0]) if arg.args else None]
                if column is not None
            }
            tables[name] = columns
    return tables


def violations(source: str, previous: dict[str, set[str]]) -> list[str]:
    docstring = ast.get_docstring(ast.parse(source)) or ""
    contract = bool(_MARKER.search(docstring))
    problems = []
    for removal in removals(source):
        read = removal.table in previous and (
            removal.column is None or removal.column in previous[removal.table]
        )
        if read:
            problems.append(
                f"{removal}, which the previous release reads: add the replacement now, "
                "and drop the old one a release later"
            )
        elif not contract:
            problems.append(f"{removal} without a 'Contract:' line in its docstring")
    return problems


def _new_migrations(since: str) -> list[Path]:
    scripts = migrate._scripts()
    head = scripts.get_current_head()
    assert head is not None
    paths = []
    for script in scripts.iterate_revisions(head, since):
        if script.revision != since:
            assert script.path is not None
            paths.append(Path(script.path))
    return paths


def test_given_this_releases_migrations_then_none_drops_what_the_previous_release_reads() -> None:
    release = previous_release()
    require_history(release)
    previous = read_by(source_of(release, "roost/db/tables.py"))
    assert "accounts" in previous and "username" in previous["accounts"]
    new = _new_migrations(release.schema)
    assert new, f"no migration after {release.schema}: RELEASES is out of date"
    problems = [
        f"{path.name}: {problem}"
        for path in new
        for problem in violations(path.read_text(encoding="utf-8"), previous)
    ]
    assert not problems, "\n".join(problems)


_PREVIOUS = {"accounts": {"id", "username", "note"}, "statuses": {"id", "text"}}


def test_given_a_migration_dropping_a_column_still_read_then_it_is_named() -> None:
    source = '''"""Tidy up."""
def upgrade():
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("note")
    op.alter_column("statuses", "text", new_column_name="body")
    op.execute("DROP TABLE IF EXISTS statuses")
'''
    assert violations(source, _PREVIOUS) == [
        "drops column accounts.note, which the previous release reads: add the replacement "
        "now, and drop the old one a release later",
        "renames column statuses.text, which the previous release reads: add the replacement "
        "now, and drop the old one a release later",
        "alters by SQL statuses, which the previous release reads: add the replacement now, "
        "and drop the old one a release later",
    ]


def test_given_a_contract_marker_then_only_what_the_previous_release_no_longer_reads_may_go() -> (
    None
):
    unmarked = '''"""Drop the old column."""
def upgrade():
    op.drop_column("accounts", "legacy_bio")
def downgrade():
    op.drop_column("accounts", "username")
'''
    assert violations(unmarked, _PREVIOUS) == [
        "drops column accounts.legacy_bio without a 'Contract:' line in its docstring"
    ]
    marked = unmarked.replace(
        '"""Drop the old column."""', '"""Drop it.\n\nContract: 0.1.0 stopped reading it."""'
    )
    assert violations(marked, _PREVIOUS) == []
    still_read = marked.replace('"legacy_bio"', '"note"', 1)
    assert len(violations(still_read, _PREVIOUS)) == 1
