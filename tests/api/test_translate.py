"""POST /api/v1/statuses/:id/translate, with no translation service, and an
async refresh id Roost never issued (annual reports issue the real ones:
tests/api/test_annual_reports.py)."""

from __future__ import annotations

from tests.conftest import Roost


def test_given_a_visible_post_when_translation_asked_then_404_as_mastodon_without_a_service(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("bonjour tout le monde", language="fr")

    response = bob.post(f"/api/v1/statuses/{post['id']}/translate", data={"lang": "en"})

    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}
    instance = roost.client.get("/api/v2/instance").json()
    assert instance["configuration"]["translation"]["enabled"] is False
    assert roost.client.get("/api/v1/instance/translation_languages").json() == {}


def test_given_a_post_the_viewer_may_not_see_then_translation_is_the_same_404(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    private = alice.post_status("only for followers", visibility="private")

    hidden = bob.post(f"/api/v1/statuses/{private['id']}/translate")
    missing = bob.post("/api/v1/statuses/4242424242/translate")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_given_no_token_then_translation_is_401(roost: Roost) -> None:
    alice = roost.account("alice")
    post = alice.post_status("hello")

    assert roost.client.post(f"/api/v1/statuses/{post['id']}/translate").status_code == 401


def test_given_any_id_then_the_async_refresh_is_404_not_found(roost: Roost) -> None:
    alice = roost.account("alice")

    response = alice.get("/api/v1_alpha/async_refreshes/ImNvbnRleHQ6MSI--abc")

    assert response.status_code == 404 and response.json() == {"error": "Not Found"}
    assert roost.client.get("/api/v1_alpha/async_refreshes/x").status_code == 401
