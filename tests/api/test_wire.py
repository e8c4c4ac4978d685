"""What every client relies on: error shapes, slashes, CORS, start-up calls."""

from __future__ import annotations

import pytest

from tests.conftest import Roost

STARTUP_CALLS = [
    "/api/v1/custom_emojis",
    "/api/v1/lists",
    "/api/v1/filters",
    "/api/v2/filters",
    "/api/v1/announcements",
    "/api/v1/notifications",
    "/api/v1/conversations",
    "/api/v1/follow_requests",
    "/api/v1/blocks",
    "/api/v1/mutes",
    "/api/v1/followed_tags",
    "/api/v1/bookmarks",
    "/api/v1/favourites",
    "/api/v1/timelines/home",
]


def test_given_a_fresh_account_when_an_app_starts_then_every_list_is_empty_not_an_error(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    for path in STARTUP_CALLS:
        response = alice.get(path)
        assert response.status_code == 200, path
        assert response.json() == [], path
    assert alice.get("/api/v1/markers").json() == {}
    prefs = alice.get("/api/v1/preferences").json()
    assert prefs["posting:default:visibility"] == "public"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/instance",
        "/api/v2/instance",
        "/api/v1/timelines/public",
        "/api/v1/custom_emojis",
        "/livez",
    ],
)
def test_given_a_trailing_slash_when_requested_then_the_same_answer(
    roost: Roost, path: str
) -> None:
    plain = roost.client.get(path)
    slashed = roost.client.get(path + "/", follow_redirects=False)
    assert slashed.status_code == plain.status_code == 200
    assert slashed.json() == plain.json()


def test_given_the_instance_then_version_and_limits_are_what_apps_expect(roost: Roost) -> None:
    roost.account("admin", admin=True)
    v2 = roost.client.get("/api/v2/instance").json()
    assert v2["version"] == "4.3.0 (compatible; Roost 0.1.0)"
    assert v2["configuration"]["statuses"]["max_characters"] == 500
    assert v2["registrations"]["approval_required"] is True
    assert v2["contact"]["account"]["username"] == "admin"
    v1 = roost.client.get("/api/v1/instance").json()
    assert v1["stats"]["user_count"] == 1 and v1["uri"] == "localhost:8000"


def test_given_malformed_json_when_posted_then_400_in_mastodons_shape(roost: Roost) -> None:
    alice = roost.account("alice")
    response = roost.client.post(
        "/api/v1/statuses",
        content=b"{not json",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "The request body is not valid JSON"}
    wrong_type = alice.post("/api/v1/statuses", json={"status": "x", "sensitive": "maybe"})
    assert wrong_type.status_code == 422 and "sensitive" in wrong_type.json()["error"]
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []


def test_given_an_unknown_route_then_404_json(roost: Roost) -> None:
    response = roost.client.get("/api/v1/nothing/here")
    assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    wrong_method = roost.client.delete("/api/v1/instance")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


def test_given_a_browser_client_then_cors_allows_it_and_exposes_link(roost: Roost) -> None:
    preflight = roost.client.options(
        "/api/v1/timelines/public",
        headers={
            "Origin": "https://elk.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in {"*", "https://elk.example"}
    response = roost.client.get(
        "/api/v1/timelines/public", headers={"Origin": "https://elk.example"}
    )
    assert "Link" in response.headers["access-control-expose-headers"]


def test_given_a_request_then_it_carries_a_request_id(roost: Roost) -> None:
    response = roost.client.get("/livez", headers={"X-Request-Id": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    assert len(roost.client.get("/livez").headers["x-request-id"]) == 16


def test_given_form_json_and_query_encodings_then_all_post_the_same(roost: Roost) -> None:
    alice = roost.account("alice")
    as_form = alice.post("/api/v1/statuses", data={"status": "form", "visibility": "unlisted"})
    as_json = alice.post("/api/v1/statuses", json={"status": "json", "visibility": "unlisted"})
    as_query = alice.post("/api/v1/statuses", params={"status": "query", "visibility": "unlisted"})
    assert {r.json()["visibility"] for r in (as_form, as_json, as_query)} == {"unlisted"}


def test_given_the_default_images_then_they_are_served(roost: Roost) -> None:
    avatar = roost.client.get("/avatars/original/missing.png")
    assert avatar.status_code == 200 and avatar.content.startswith(b"\x89PNG")
