"""What every client relies on: error shapes, slashes, CORS, start-up calls."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from PIL import Image

from roost import __version__ as roost_version
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
    assert v2["version"] == f"4.5.0 (compatible; Roost {roost_version})"
    assert v2["configuration"]["statuses"]["max_characters"] == 500
    assert v2["registrations"]["approval_required"] is True
    assert v2["contact"]["account"]["username"] == "admin"
    v1 = roost.client.get("/api/v1/instance").json()
    assert v1["stats"]["user_count"] == 1 and v1["uri"] == "localhost:8000"


def _png_size(roost: Roost, url: str) -> tuple[int, int]:
    response = roost.client.get(urlsplit(url).path)
    assert response.status_code == 200, url
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        image.load()
        return image.size


def test_given_the_instance_when_asked_then_thumbnail_versions_and_icons_are_real_images(
    roost: Roost,
) -> None:
    """Mastodon's instance entity: ``thumbnail.versions`` (@1x, @2x) and ``icon``
    (a list of {src, size}); v1 gives the thumbnail as a string. Every address
    opens, as a PNG of the size it claims."""
    v2 = roost.client.get("/api/v2/instance").json()
    thumbnail = v2["thumbnail"]
    assert set(thumbnail["versions"]) == {"@1x", "@2x"}
    assert thumbnail["url"] == thumbnail["versions"]["@1x"]
    one, two = (_png_size(roost, thumbnail["versions"][v]) for v in ("@1x", "@2x"))
    assert two == (one[0] * 2, one[1] * 2)
    sizes = [icon["size"] for icon in v2["icon"]]
    assert "36x36" in sizes and "512x512" in sizes
    for icon in v2["icon"]:
        width, height = (int(n) for n in icon["size"].split("x"))
        assert _png_size(roost, icon["src"]) == (width, height)
    v1 = roost.client.get("/api/v1/instance").json()
    assert v1["thumbnail"] == thumbnail["url"]
    assert roost.client.get("/instance/icons/37x37.png").status_code == 404


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


def test_given_an_unknown_route_then_404_not_found_unlike_a_missing_record(roost: Roost) -> None:
    """Mastodon tells the two apart: no such route is "Not Found" (Rack's
    words), an id that names nothing is "Record not found"."""
    response = roost.client.get("/api/v1/nothing/here")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}
    missing = roost.client.get("/api/v1/statuses/12345")
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
    missing_account = roost.client.get("/api/v1/accounts/12345")
    assert missing_account.json() == {"error": "Record not found"}
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
