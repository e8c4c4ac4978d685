"""The layers hold where the code was moved to make them: stores below the
domain, the job queue below every kind of job, no import cycle in search."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

import roost

ROOST = Path(roost.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _wrong_imports(package: str, above: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in sorted((ROOST / package).glob("*.py")):
        wrong = sorted(name for name in _imports(path) if name.startswith(above))
        if wrong:
            found[f"{package}/{path.name}"] = wrong
    return found


def test_given_the_job_queue_then_it_imports_no_kind_of_job_nor_what_jobs_touch() -> None:
    above = ("roost.domain", "roost.importers", "roost.search", "roost.timelines")
    assert _wrong_imports("jobs", above) == {}


def test_given_the_timeline_and_search_stores_then_they_import_nothing_above_them() -> None:
    above = ("roost.domain", "roost.importers", "roost.jobs", "roost.services", "roost.api")
    assert _wrong_imports("timelines", above) == {}
    assert _wrong_imports("search", above) == {}


def test_given_the_search_modules_then_none_imports_itself_back() -> None:
    modules = {f"roost.search.{p.stem}": p for p in (ROOST / "search").glob("*.py")}
    graph = {name: _imports(path) & set(modules) for name, path in modules.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [name for name in sorted(graph) if reaches(name, name, {name})] == []


# The contracts themselves live in .importlinter and run in scripts/check
# (lint-imports). These tests show that they hold, and that they bite.

REPO = ROOST.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the ``roost`` package found under ``root``, with the
    project's contracts."""
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(REPO / ".importlinter")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_with(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the package with ``line`` added at the end of ``module``."""
    copy = tmp_path / "roost"
    shutil.copytree(ROOST, copy, ignore=shutil.ignore_patterns("__pycache__", "static"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{line}\n")
    return tmp_path


def test_given_the_code_as_it_is_then_every_import_contract_is_kept() -> None:
    run = _lint_imports(REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_given_the_domain_importing_the_api_then_the_layers_contract_breaks(
    tmp_path: Path,
) -> None:
    root = _copy_with(tmp_path, "domain/privacy.py", "import roost.api.errors  # noqa")
    run = _lint_imports(root)
    assert run.returncode == 1
    assert "roost.domain is not allowed to import roost.api" in run.stdout
    assert "roost.domain.privacy -> roost.api.errors" in run.stdout


def test_given_the_web_pages_importing_a_serializer_then_the_wire_format_contract_breaks(
    tmp_path: Path,
) -> None:
    root = _copy_with(tmp_path, "web/present.py", "import roost.api.mastodon.serializers  # noqa")
    run = _lint_imports(root)
    assert run.returncode == 1
    assert "Illegal imports of protected package roost.api.mastodon.serializers" in run.stdout
    assert "roost.web.present -> roost.api.mastodon.serializers" in run.stdout


def test_given_a_handler_importing_the_tables_then_the_handlers_contract_breaks(
    tmp_path: Path,
) -> None:
    root = _copy_with(tmp_path, "api/mastodon/markers.py", "import roost.db.tables  # noqa")
    run = _lint_imports(root)
    assert run.returncode == 1
    assert "roost.api is not allowed to import roost.db.tables" in run.stdout
    assert "roost.api.mastodon.markers -> roost.db.tables" in run.stdout


def test_given_two_store_modules_importing_each_other_then_the_cycle_contract_breaks(
    tmp_path: Path,
) -> None:
    root = _copy_with(tmp_path, "jobs/outbox.py", "import roost.jobs.runner  # noqa")
    run = _lint_imports(root)
    assert run.returncode == 1
    assert "No cycles are allowed in roost.jobs" in run.stdout


def test_given_every_module_then_none_imports_itself_back() -> None:
    """No import cycle anywhere, at the level of modules (a package may still
    use a sibling package that uses it back through other modules)."""
    graph = grimp.build_graph("roost")
    cycles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert cycles == []


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's strongly connected components of the module import graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            groups.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


LONG = 500
REASON = "Above 500 lines:"


def test_given_a_module_above_500_lines_then_its_docstring_says_why() -> None:
    """A long module is usually several concepts in one file; one that must be
    long says why at its top (``Above 500 lines: ...``)."""
    unexplained = []
    for path in sorted(ROOST.rglob("*.py")):
        text = path.read_text()
        if text.count("\n") <= LONG:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if REASON not in docstring:
            unexplained.append(f"{path.relative_to(ROOST)}: {text.count(chr(10))} lines")
    assert unexplained == []
