"""Sign-up, profiles, and following, through the Mastodon API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from roost.db.tables import accounts, email_tokens
from roost.domain.accounts.email_tokens import token_for
from tests.conftest import Roost


def _app_token(roost: Roost, scopes: str = "read write follow") -> dict[str, str]:
    app = roost.client.post(
        "/api/v1/apps",
        json={
            "client_name": "signup",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": scopes,
        },
    ).json()
    token = roost.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
        },
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def _sign_up(roost: Roost, username: str = "newbie") -> Any:
    return roost.client.post(
        "/api/v1/accounts",
        headers=_app_token(roost),
        data={
            "username": username,
            "email": f"{username}@example.org",
            "password": "long enough password",
            "agreement": "true",
        },
    )


def _confirm_by_link(roost: Roost, username: str) -> None:
    """Open the confirmation link the sign-up mailed (its token is derived
    from the link's row, as the mail job derives it)."""

    async def link() -> str:
        async with roost.db.read() as conn:
            row = (
                await conn.execute(
                    select(email_tokens.c.id)
                    .join(accounts, accounts.c.id == email_tokens.c.account_id)
                    .where(accounts.c.username == username)
                )
            ).one()
        return token_for(roost.settings.secret_key, row.id, "confirm")

    page = roost.client.get("/auth/confirmation", params={"token": roost.run(link)})
    assert page.status_code == 200, page.text


@pytest.mark.settings(registrations="open")
def test_given_open_registrations_when_someone_signs_up_then_their_token_works_once_confirmed(
    roost: Roost,
) -> None:
    response = _sign_up(roost)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    waiting = roost.client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert waiting.status_code == 403
    assert waiting.json()["error"] == "Your login is missing a confirmed e-mail address"
    _confirm_by_link(roost, "newbie")
    me = roost.client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert me.json()["username"] == "newbie"
    taken = _sign_up(roost)
    assert taken.status_code == 422 and "taken" in taken.json()["error"]


def test_given_approval_mode_when_someone_signs_up_then_they_wait_for_approval(
    roost: Roost,
) -> None:
    token = _sign_up(roost).json()["access_token"]
    _confirm_by_link(roost, "newbie")
    me = roost.client.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 403
    assert "pending approval" in me.json()["error"]


@pytest.mark.settings(registrations="closed")
def test_given_closed_registrations_when_someone_signs_up_then_403_and_no_account(
    roost: Roost,
) -> None:
    assert _sign_up(roost).status_code == 403
    assert roost.client.get("/api/v1/accounts/lookup", params={"acct": "newbie"}).status_code == 404


@pytest.mark.settings(registrations="open")
def test_given_a_bad_sign_up_when_submitted_then_422_and_nothing_written(roost: Roost) -> None:
    headers = _app_token(roost)
    cases = [
        {"username": "bad name", "email": "a@example.org", "password": "long enough!"},
        {"username": "ok", "email": "not-an-email", "password": "long enough!"},
        {"username": "ok", "email": "a@example.org", "password": "short"},
    ]
    for case in cases:
        response = roost.client.post(
            "/api/v1/accounts", headers=headers, json={**case, "agreement": True}
        )
        assert response.status_code == 422, case
        assert response.json()["error"].startswith("Validation failed")
    no_agreement = roost.client.post(
        "/api/v1/accounts",
        headers=headers,
        json={"username": "ok", "email": "a@example.org", "password": "long enough!"},
    )
    assert no_agreement.status_code == 422
    assert roost.client.get("/api/v1/accounts/lookup", params={"acct": "ok"}).status_code == 404


@pytest.mark.settings(registrations="open")
def test_given_a_sign_up_with_many_problems_then_422_details_name_each_with_mastodons_codes(
    roost: Roost,
) -> None:
    """Mastodon's 422 from POST /api/v1/accounts: ``error`` says it all in a
    sentence, ``details`` maps each field to its problems, coded."""
    headers = _app_token(roost)
    roost.account("taken", scopes="read")

    def problems(**form: Any) -> dict[str, list[str]]:
        response = roost.client.post("/api/v1/accounts", headers=headers, json=form)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"].startswith("Validation failed: ")
        for found in body["details"].values():
            assert all(p["description"] for p in found)
        return {field: [p["error"] for p in found] for field, found in body["details"].items()}

    assert problems() == {
        "username": ["ERR_BLANK"],
        "email": ["ERR_BLANK"],
        "password": ["ERR_BLANK"],
        "agreement": ["ERR_ACCEPTED"],
    }
    assert problems(
        username="bad name", email="not-an-email", password="short", agreement=True
    ) == {"username": ["ERR_INVALID"], "email": ["ERR_INVALID"], "password": ["ERR_TOO_SHORT"]}
    assert problems(
        username="x" * 31, email="taken@example.org", password="p" * 1001, agreement=True
    ) == {"username": ["ERR_TOO_LONG"], "email": ["ERR_TAKEN"], "password": ["ERR_TOO_LONG"]}
    assert problems(
        username="Taken", email="new@example.org", password="long enough!", agreement=True
    ) == {"username": ["ERR_TAKEN"]}
    assert problems(
        username="admin", email="new@example.org", password="long enough!", agreement=True
    ) == {"username": ["ERR_RESERVED"]}
    sentence = roost.client.post(
        "/api/v1/accounts",
        headers=headers,
        json={"username": "ok", "email": "ok@example.org", "password": "short"},
    ).json()["error"]
    assert sentence == (
        "Validation failed: Password is too short (minimum is 8 characters), "
        "Agreement must be accepted"
    )
    assert roost.client.get("/api/v1/accounts/lookup", params={"acct": "ok"}).status_code == 404


def test_given_a_profile_when_updated_then_verify_credentials_shows_it(roost: Roost) -> None:
    alice = roost.account("alice")
    response = alice.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "display_name": "Alice A.",
            "note": "I like https://example.org",
            "locked": "true",
            "bot": "false",
            "fields_attributes[0][name]": "Site",
            "fields_attributes[0][value]": "https://alice.example",
            "source[privacy]": "unlisted",
        },
    )
    assert response.status_code == 200, response.text
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["display_name"] == "Alice A." and me["locked"] is True
    assert 'href="https://example.org"' in me["note"]
    assert me["source"]["note"] == "I like https://example.org"
    assert me["source"]["privacy"] == "unlisted"
    assert me["fields"][0]["name"] == "Site"
    assert me["source"]["fields"][0]["value"] == "https://alice.example"
    post = alice.post_status("default visibility applies")
    assert post["visibility"] == "unlisted"


def test_given_profile_fields_when_shown_then_values_are_inline_html_as_on_mastodon(
    roost: Roost,
) -> None:
    """Mastodon renders a field value without a paragraph around it; links are
    made and anything else is escaped."""
    alice = roost.account("alice")
    response = alice.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "fields_attributes[0][name]": "Site",
            "fields_attributes[0][value]": "https://alice.example",
            "fields_attributes[1][name]": "Pronouns",
            "fields_attributes[1][value]": "she/her <b>bold</b>",
        },
    )
    assert response.status_code == 200, response.text

    fields = roost.client.get(f"/api/v1/accounts/{alice.id}").json()["fields"]

    site, pronouns = fields
    assert site["value"].startswith('<a href="https://alice.example"')
    assert site["value"].endswith(">https://alice.example</a>")
    assert pronouns["value"] == "she/her &lt;b&gt;bold&lt;/b&gt;"
    assert all("<p>" not in f["value"] for f in fields)
    source = alice.get("/api/v1/accounts/verify_credentials").json()["source"]["fields"]
    assert [f["value"] for f in source] == ["https://alice.example", "she/her <b>bold</b>"]


def test_given_fields_rendered_before_0009_when_migrated_then_their_values_lose_the_paragraph(
    roost: Roost,
) -> None:
    """The migration re-renders stored values: going back to 0008 renders them
    as that release did (in a paragraph), and forward again inline."""
    from alembic import command
    from sqlalchemy import select
    from sqlalchemy.engine import Connection

    from roost.db.migrate import _config
    from roost.db.tables import accounts

    alice = roost.account("alice")
    alice.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "fields_attributes[0][name]": "Site",
            "fields_attributes[0][value]": "https://a.example",
        },
    )

    def migrate(revision: str) -> list[str]:
        def run(conn: Connection) -> None:
            if revision == "0008":
                command.downgrade(_config(conn), revision)
            else:
                command.upgrade(_config(conn), revision)

        async def body() -> list[str]:
            async with roost.db.engine.begin() as conn:
                await conn.run_sync(run)
            async with roost.db.read() as conn:
                row = (
                    await conn.execute(
                        select(accounts.c.fields).where(accounts.c.id == int(alice.id))
                    )
                ).one()
            return [f["value_html"] for f in row.fields]

        return roost.run(body)

    try:
        assert migrate("0008")[0].startswith("<p><a href=")
    finally:
        upgraded = migrate("head")
    assert upgraded[0].startswith('<a href="https://a.example"') and "<p>" not in upgraded[0]


def test_given_a_too_long_display_name_when_updated_then_422_and_unchanged(roost: Roost) -> None:
    alice = roost.account("alice")
    response = alice.patch("/api/v1/accounts/update_credentials", json={"display_name": "x" * 31})
    assert response.status_code == 422
    assert alice.get("/api/v1/accounts/verify_credentials").json()["display_name"] == ""


def test_given_an_account_when_looked_up_by_name_or_id_then_found(roost: Roost) -> None:
    alice = roost.account("alice")
    by_name = roost.client.get("/api/v1/accounts/lookup", params={"acct": "@ALICE"})
    assert by_name.json()["id"] == alice.id
    assert roost.client.get(f"/api/v1/accounts/{alice.id}").json()["acct"] == "alice"
    assert roost.client.get("/api/v1/accounts/999").status_code == 404
    found = roost.client.get("/api/v1/accounts/search", params={"q": "ali"}).json()
    assert [a["id"] for a in found] == [alice.id]


def test_given_a_follow_when_undone_then_counts_relationships_and_lists_follow(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    relationship = alice.follow(bob)
    assert relationship["following"] is True and relationship["showing_reblogs"] is True
    rels = bob.get("/api/v1/accounts/relationships", params={"id[]": alice.id}).json()
    assert rels[0]["followed_by"] is True and rels[0]["following"] is False
    followers = roost.client.get(f"/api/v1/accounts/{bob.id}/followers").json()
    assert [a["id"] for a in followers] == [alice.id]
    following = roost.client.get(f"/api/v1/accounts/{alice.id}/following").json()
    assert [a["id"] for a in following] == [bob.id]
    assert roost.client.get(f"/api/v1/accounts/{bob.id}").json()["followers_count"] == 1
    alice.follow(bob)
    assert roost.client.get(f"/api/v1/accounts/{bob.id}").json()["followers_count"] == 1
    undone = alice.post(f"/api/v1/accounts/{bob.id}/unfollow").json()
    assert undone["following"] is False
    assert roost.client.get(f"/api/v1/accounts/{bob.id}").json()["followers_count"] == 0
    roost.drain_jobs()
    # An undone follow takes its notification with it (as in Mastodon).
    assert bob.get("/api/v1/notifications").json() == []


def test_given_oneself_when_followed_then_422_and_nothing_changes(roost: Roost) -> None:
    alice = roost.account("alice")
    response = alice.post(f"/api/v1/accounts/{alice.id}/follow")
    assert response.status_code == 422
    assert alice.get("/api/v1/accounts/verify_credentials").json()["following_count"] == 0


def test_given_a_locked_account_when_followed_then_a_request_waits_for_approval(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice", locked=True), roost.account("bob")
    relationship = bob.follow(alice)
    assert relationship["requested"] is True and relationship["following"] is False
    private = alice.post_status("for followers", visibility="private")
    assert bob.get(f"/api/v1/statuses/{private['id']}").status_code == 404
    requests = alice.get("/api/v1/follow_requests").json()
    assert [a["id"] for a in requests] == [bob.id]
    assert alice.post(f"/api/v1/follow_requests/{bob.id}/authorize").status_code == 200
    assert bob.get(f"/api/v1/statuses/{private['id']}").status_code == 200
    missing = alice.post(f"/api/v1/follow_requests/{bob.id}/authorize")
    assert missing.status_code == 404


def test_given_posts_of_every_kind_when_the_profile_filters_then_each_filter_holds(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    other = bob.post_status("bob's")
    own = alice.post_status("plain #tagged")
    thread = alice.post_status("thread", in_reply_to_id=own["id"])
    reply = alice.post_status("reply to bob", in_reply_to_id=other["id"])
    boost = alice.post(f"/api/v1/statuses/{other['id']}/reblog").json()
    path = f"/api/v1/accounts/{alice.id}/statuses"

    def ids(**params: str) -> list[str]:
        return [s["id"] for s in roost.client.get(path, params=params).json()]

    assert ids() == [boost["id"], reply["id"], thread["id"], own["id"]]
    assert ids(exclude_replies="true") == [boost["id"], thread["id"], own["id"]]
    assert ids(exclude_reblogs="true") == [reply["id"], thread["id"], own["id"]]
    assert ids(tagged="tagged") == [own["id"]]
