"""Roost's routes against Mastodon's documented client API.

``data/mastodon_methods.tsv`` lists every method Mastodon documents
(mastodon/documentation, content/en/methods) outside the admin API, less
those it marks deprecated or removed. Each must be a route of Roost's, or be
named in ``NOT_IMPLEMENTED`` with the reason; a method listed there that
Roost has gained fails the test too, so the list stays true.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from tests.conftest import Roost

METHODS = Path(__file__).parent / "data" / "mastodon_methods.tsv"

# Every documented method is served: none is left to explain.
NOT_IMPLEMENTED: dict[tuple[str, str], str] = {}


def documented() -> dict[tuple[str, str], str]:
    """(method, path with ``:`` for each parameter) -> the page and title."""
    found: dict[tuple[str, str], str] = {}
    for line in METHODS.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        method, path, page, title = line.split("\t")
        found[(method, re.sub(r":\w+", ":", path))] = f"{page}: {title}"
    return found


def served(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path with ``:`` for each parameter) of every route."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            inner = prefix + (getattr(context, "prefix", "") or "")
            found |= served(list(route.original_router.routes), inner)
        elif isinstance(route, Mount):
            found |= served(list(route.routes), prefix + route.path)
        elif isinstance(route, (APIRoute, Route)):
            path = re.sub(r"{[^}]+}", ":", prefix + route.path)
            found |= {(method, path) for method in route.methods or ()}
        elif isinstance(route, (APIWebSocketRoute, WebSocketRoute)):
            found.add(("GET", re.sub(r"{[^}]+}", ":", prefix + route.path)))
    return found


def test_given_mastodons_documented_methods_then_roost_serves_each_or_says_why_not(
    roost: Roost,
) -> None:
    app: Any = roost.client.app
    have = served(list(app.routes))
    wanted = documented()
    missing = {key: where for key, where in wanted.items() if key not in have}
    unexplained = sorted(
        f"{m} {p} ({where})" for (m, p), where in missing.items() if (m, p) not in NOT_IMPLEMENTED
    )
    assert unexplained == [], "documented by Mastodon, not served by Roost:\n" + "\n".join(
        unexplained
    )
    gained = sorted(f"{m} {p}" for (m, p) in NOT_IMPLEMENTED if (m, p) in have)
    assert gained == [], "served now: take them off NOT_IMPLEMENTED: " + ", ".join(gained)
    stale = sorted(f"{m} {p}" for (m, p) in NOT_IMPLEMENTED if (m, p) not in wanted)
    assert stale == [], "not documented by Mastodon: " + ", ".join(stale)
