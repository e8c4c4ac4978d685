"""The Profile API (GET/PATCH /api/v1/profile, Mastodon 4.6) and deleting the
avatar and header (DELETE /api/v1/profile/avatar, /header, Mastodon 4.2)."""

from __future__ import annotations

from tests.conftest import Roost
from tests.media import samples


def test_given_a_new_account_when_its_profile_is_read_then_no_images_and_its_settings(
    roost: Roost,
) -> None:
    alice = roost.account("alice", locked=True)

    profile = alice.get("/api/v1/profile").json()

    assert profile["id"] == alice.id
    assert profile["avatar"] is None and profile["header"] is None
    assert profile["locked"] is True and profile["bot"] is False
    assert profile["fields"] == [] and profile["featured_tags"] == []


def test_given_a_patch_when_the_profile_is_read_then_the_bio_and_fields_as_typed(
    roost: Roost,
) -> None:
    alice = roost.account("alice")

    patched = alice.patch(
        "/api/v1/profile",
        data={
            "display_name": "Alice",
            "note": "I grow #tomatoes",
            "bot": "true",
            "fields_attributes[0][name]": "site",
            "fields_attributes[0][value]": "https://example.org",
        },
        files={"avatar": ("a.png", samples.png(), "image/png")},
    )

    assert patched.status_code == 200, patched.text
    profile = alice.get("/api/v1/profile").json()
    assert profile == patched.json()
    assert profile["display_name"] == "Alice" and profile["bot"] is True
    assert profile["note"] == "I grow #tomatoes"  # the source, not rendered HTML
    assert profile["fields"][0]["name"] == "site"
    assert profile["avatar"] is not None and profile["header"] is None
    account = roost.client.get(f"/api/v1/accounts/{alice.id}").json()
    assert account["display_name"] == "Alice" and "<" in account["note"]


def test_given_a_featured_tag_when_the_profile_is_read_then_it_is_listed(roost: Roost) -> None:
    alice = roost.account("alice")
    alice.post_status("#roses are red")
    alice.post("/api/v1/featured_tags", json={"name": "roses"})

    profile = alice.get("/api/v1/profile").json()

    assert [t["name"] for t in profile["featured_tags"]] == ["roses"]


def test_given_a_header_when_deleted_then_the_credential_account_and_the_file_is_gone(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    me = alice.patch(
        "/api/v1/accounts/update_credentials",
        files={"header": ("h.png", samples.png(), "image/png")},
    ).json()
    assert roost.client.get(me["header"]).status_code == 200

    cleared = alice.delete("/api/v1/profile/header")

    assert cleared.status_code == 200
    assert cleared.json()["header"].endswith("/headers/original/missing.png")
    assert cleared.json()["source"]["privacy"] == "public"  # a CredentialAccount
    assert roost.client.get(me["header"]).status_code == 404
    assert alice.get("/api/v1/profile").json()["header"] is None


def test_given_no_token_then_the_profile_is_401(roost: Roost) -> None:
    assert roost.client.get("/api/v1/profile").status_code == 401
    assert roost.client.patch("/api/v1/profile", data={"note": "x"}).status_code == 401
