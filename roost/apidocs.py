"""docs/api.md's table of methods, made from the router.

``methods_table(app)`` lists every HTTP route of the API (the web pages
excepted): method, path, the token it needs and its scope, and the first line
of its handler's docstring. ``scripts/apidocs`` writes it into docs/api.md
between the two ``GENERATED`` markers, leaving the rest of the page as it was
written; tests/api/test_api_docs.py fails when the page and the router drift
apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from roost.web.errors import is_browser_path

BEGIN = "<!-- BEGIN GENERATED: methods (scripts/apidocs; do not edit by hand) -->"
END = "<!-- END GENERATED: methods -->"
_SKIPPED_METHODS = {"OPTIONS"}


def _routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            inner = prefix + (getattr(context, "prefix", "") or "")
            yield from _routes(list(route.original_router.routes), inner)
        elif isinstance(route, Mount):
            yield from _routes(list(route.routes), prefix + route.path)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def _token(route: APIRoute) -> str:
    """``user read:statuses``, ``optional read``, ``app``, or ``none``."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop(0)
        kind = getattr(dependency.call, "roost_auth", None)
        if kind is not None:
            scope: Any = getattr(dependency.call, "roost_scope", None)
            scopes = " or ".join(scope) if isinstance(scope, tuple) else (scope or "")
            return f"{kind} {scopes}".strip()
        pending += dependency.dependencies
    return "none"


def _summary(route: APIRoute) -> str:
    doc = (route.endpoint.__doc__ or "").strip()
    if doc:
        first = doc.split("\n\n", 1)[0]
        return " ".join(first.split()).replace("|", "\\|")
    return route.name.replace("_", " ").capitalize()


def methods_table(app: Any) -> str:
    rows = set()
    for path, route in _routes(list(app.routes)):
        if is_browser_path(path) and path != "/":
            continue
        for method in sorted(route.methods or ()):
            if method in _SKIPPED_METHODS or (method == "GET" and path == "/"):
                continue
            rows.add((path, method, _token(route), _summary(route)))
    lines = ["| Method | Path | Token | What it does |", "|---|---|---|---|"]
    for path, method, token, summary in sorted(rows):
        lines.append(f"| {method} | `{path}` | {token} | {summary} |")
    return "\n".join(lines) + "\n"


def with_table(page: str, table: str) -> str:
    """``page`` with the text between the markers replaced by ``table``
    (the markers appended at the end when the page has none yet)."""
    if BEGIN not in page or END not in page:
        return page.rstrip("\n") + f"\n\n## Every method\n\n{BEGIN}\n{table}{END}\n"
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def write(app: Any, page: Path) -> bool:
    """Bring ``page`` up to date; True when it changed."""
    before = page.read_text(encoding="utf-8")
    after = with_table(before, methods_table(app))
    if after != before:
        page.write_text(after, encoding="utf-8")
    return after != before
