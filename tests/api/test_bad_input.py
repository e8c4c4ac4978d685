"""Input that once answered 500 answers a 4xx in Mastodon's shape.

Each test is named for what broke; the fuzzing that finds such input is
tests/api/test_ids.py (ids) and tests/api/test_schemathesis.py (everything).
"""

from __future__ import annotations

from tests.api.test_oauth import _app, _authorize, _form_fields
from tests.conftest import Roost


def test_given_a_negative_offset_when_searching_accounts_then_422_not_a_database_error(
    roost: Roost,
) -> None:
    """PostgreSQL refuses ``OFFSET -1``: the parameter must be refused first."""
    alice = roost.account("alice")
    for path in ("/api/v1/accounts/search", "/api/v2/search"):
        response = alice.get(path, params={"q": "a", "offset": "-359"})
        assert response.status_code == 422, (path, response.text)
        assert "offset" in response.json()["error"]


def test_given_a_mute_longer_than_a_date_can_hold_when_muting_then_422_not_an_overflow(
    roost: Roost,
) -> None:
    """``duration=10**15`` seconds is past timedelta's range: OverflowError."""
    alice, bob = roost.account("alice"), roost.account("bob")
    response = alice.post(f"/api/v1/accounts/{bob.id}/mute", data={"duration": str(10**15)})
    assert response.status_code == 422, response.text
    assert "duration" in response.json()["error"]
    week = alice.post(f"/api/v1/accounts/{bob.id}/mute", data={"duration": "604800"})
    assert week.status_code == 200 and week.json()["muting"] is True


def test_given_a_non_ascii_csrf_token_when_signing_in_then_403_not_a_comparison_error(
    roost: Roost,
) -> None:
    """hmac.compare_digest refuses str with non-ASCII characters (TypeError)."""
    roost.account("alice")
    fields = _form_fields(_authorize(roost, _app(roost)).text)
    fields["csrf_token"] = "é" * 64
    response = roost.client.post(
        "/oauth/authorize",
        data={**fields, "login": "alice", "password": "correct horse battery"},
    )
    assert response.status_code == 403
    assert "<html" in response.text.lower()


def test_given_an_erasure_request_that_is_not_json_when_sent_then_4xx_not_a_decode_error(
    roost: Roost,
) -> None:
    """The erase endpoint read its body with request.json(): a form or broken
    JSON raised JSONDecodeError. It reads parameters as every endpoint does."""
    alice = roost.account("alice")
    broken = roost.client.post(
        "/api/v1/roost/account/erase",
        content=b"password=",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400, broken.text
    wrong = alice.post("/api/v1/roost/account/erase", data={"password": "not the password"})
    assert wrong.status_code == 403, wrong.text
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200


def test_given_a_nul_character_in_a_text_parameter_when_sent_then_422_not_a_database_error(
    roost: Roost,
) -> None:
    """PostgreSQL stores no NUL character: ``types[]=%00`` reached the database."""
    alice = roost.account("alice")
    cases = [
        ("/api/v1/notifications/unread_count", {"exclude_types[]": "mention\x00"}, "exclude_types"),
        ("/api/v1/notifications", {"types[]": "\x00"}, "types"),
        ("/api/v1/timelines/tag/roost", {"all[]": "a\x00b"}, "all"),
        (f"/api/v1/accounts/{alice.id}/statuses", {"tagged": "a\x00"}, "tagged"),
        ("/api/v1/accounts/lookup", {"acct": "a\x00"}, "acct"),
    ]
    for path, params, name in cases:
        response = alice.get(path, params=params)
        assert response.status_code == 422, (path, response.text)
        assert name in response.json()["error"], (path, response.text)
    for path, fields, name in [
        ("/api/v1/statuses", {"status": "hi", "language": "e\x00"}, "language"),
        (f"/api/v1/accounts/{alice.id}/note", {"comment": "a\x00"}, "comment"),
    ]:
        response = alice.post(path, json=fields)
        assert response.status_code == 422, (path, response.text)
        assert name in response.json()["error"], (path, response.text)
    named = alice.patch("/api/v1/accounts/update_credentials", json={"display_name": "a\x00"})
    assert named.status_code == 422, named.text
    assert alice.get("/api/v1/timelines/tag/ro%00ost").status_code == 404


def test_given_a_nul_character_where_the_domain_removes_it_then_accepted_as_before(
    roost: Roost,
) -> None:
    """A post's text, a bio and a search deal with NUL themselves: still 200."""
    alice = roost.account("alice")
    assert alice.post("/api/v1/statuses", json={"status": "a\x00b"}).status_code == 200
    bio = alice.patch("/api/v1/accounts/update_credentials", json={"note": "a\x00b"})
    assert bio.status_code == 200, bio.text
    assert alice.get("/api/v2/search", params={"q": "a\x00"}).status_code == 200
