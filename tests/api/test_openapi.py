"""The OpenAPI document builds (it lists every API method, and no file route)."""

from __future__ import annotations

from tests.conftest import Roost


def test_given_the_app_when_the_openapi_document_is_asked_then_it_builds(roost: Roost) -> None:
    response = roost.client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/statuses" in paths
    assert not any(path.startswith("/media/") for path in paths)
