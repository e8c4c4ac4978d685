"""docs/api.md's table of methods is the router's: it fails when they drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from roost import apidocs
from tests.conftest import Roost

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_docs_api_md_lists_exactly_the_routes_the_app_has(roost: Roost) -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert apidocs.BEGIN in page and apidocs.END in page, "docs/api.md lost its markers"
    expected = apidocs.with_table(page, apidocs.methods_table(roost.client.app))
    assert page == expected, "docs/api.md is out of date: run scripts/apidocs"


def test_given_a_new_route_then_the_table_changes_and_the_prose_stays(roost: Roost) -> None:
    app: Any = roost.client.app
    page = PAGE.read_text(encoding="utf-8")

    async def probe() -> list[str]:
        """A route added for this test."""
        return []

    app.router.add_api_route("/api/v1/docs_probe", probe, methods=["GET"])
    table = apidocs.methods_table(app)
    assert "| GET | `/api/v1/docs_probe` | none | A route added for this test. |" in table
    updated = apidocs.with_table(page, table)
    assert updated != page
    assert updated.split(apidocs.BEGIN)[0] == page.split(apidocs.BEGIN)[0]
