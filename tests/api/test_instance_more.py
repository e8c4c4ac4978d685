"""What the instance tells apps beyond /api/v2/instance: its texts, languages,
weekly activity, peers, domain blocks; NodeInfo, /health, HEAD / and
/oauth/userinfo."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Roost


def _write(roost: Roost, name: str, text: str, when: datetime | None = None) -> None:
    folder = roost.settings.data_dir / "instance"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    if when is not None:
        os.utime(path, (when.timestamp(), when.timestamp()))


def test_given_operator_texts_then_the_instance_answers_them_and_404s_terms_until_written(
    roost: Roost,
) -> None:
    client = roost.client
    assert client.get("/api/v1/instance/extended_description").json() == {
        "updated_at": None,
        "content": "<p>A small, sturdy social network.</p>",
    }
    default = client.get("/api/v1/instance/privacy_policy").json()
    assert default["updated_at"] is None and "What is kept" in default["content"]
    assert client.get("/api/v1/instance/terms_of_service").status_code == 404

    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    _write(roost, "about.html", "<p>We <script>x()</script>garden.</p>", day)
    _write(roost, "terms.txt", "Be kind.\n\nNo spam.", day)
    _write(roost, "privacy.html", "<p>We keep little.</p>", day)

    about = client.get("/api/v1/instance/extended_description").json()
    assert about == {"updated_at": "2026-03-01T12:00:00.000Z", "content": "<p>We garden.</p>"}
    terms = client.get("/api/v1/instance/terms_of_service").json()
    assert terms == {
        "effective_date": "2026-03-01",
        "effective": True,
        "content": "<p>Be kind.</p><p>No spam.</p>",
        "succeeded_by": None,
    }
    assert client.get("/api/v1/instance/terms_of_service/2026-03-01").json() == terms
    assert client.get("/api/v1/instance/terms_of_service/2026-02-01").status_code == 404
    assert client.get("/api/v1/instance/terms_of_service/yesterday").status_code == 404
    policy = client.get("/api/v1/instance/privacy_policy").json()
    assert policy["content"] == "<p>We keep little.</p>"


def test_given_posts_and_sign_ups_then_weekly_activity_and_nodeinfo_count_them(
    roost: Roost,
) -> None:
    empty = roost.client.get("/api/v1/instance/activity").json()
    assert len(empty) == 12 and all(w["statuses"] == "0" for w in empty)
    monday = datetime.fromtimestamp(int(empty[0]["week"]), UTC)
    assert monday.weekday() == 0 and monday <= datetime.now(UTC) < monday + timedelta(weeks=1)
    assert int(empty[0]["week"]) - int(empty[1]["week"]) == 7 * 86400

    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post_status("one")
    alice.post_status("two")
    bob.post(f"/api/v1/statuses/{alice.post_status('three')['id']}/reblog")
    this_week = roost.client.get("/api/v1/instance/activity").json()[0]
    assert this_week["statuses"] == "3"  # boosts are not counted
    assert this_week["registrations"] == "2"
    assert this_week["logins"] == "2"  # both were given a token this week

    links = roost.client.get("/.well-known/nodeinfo").json()["links"]
    assert [link["href"].rsplit("/", 1)[1] for link in links] == ["2.0", "2.1"]
    for version in ("2.0", "2.1"):
        doc = roost.client.get(f"/nodeinfo/{version}")
        assert doc.headers["content-type"].startswith("application/json")
        info = doc.json()
        assert info["version"] == version and info["software"]["name"] == "roost"
        assert info["protocols"] == ["activitypub"]  # ROOST_FEDERATION is on by default
        assert info["usage"] == {
            "users": {"total": 2, "activeMonth": 2, "activeHalfyear": 2},
            "localPosts": 3,
        }
        assert info["openRegistrations"] is True  # approval mode counts as open
        assert info["metadata"]["upstream"]["name"] == "mastodon"
    assert roost.client.get("/api/v2/instance").json()["usage"]["users"]["active_month"] == 2


def test_languages_peers_translation_and_health_answer_as_mastodon(roost: Roost) -> None:
    client = roost.client
    languages = client.get("/api/v1/instance/languages").json()
    assert {"code": "en", "name": "English"} in languages and len(languages) > 150
    assert client.get("/api/v1/instance/translation_languages").json() == {}
    assert client.get("/api/v1/instance/peers").json() == []
    health = client.get("/health")
    assert (health.status_code, health.text) == (200, "OK")
    head = client.head("/")
    assert head.status_code == 200 and head.text == ""


@pytest.mark.settings(show_domain_blocks="users")
def test_given_domain_blocks_shown_to_users_then_visitors_are_refused(roost: Roost) -> None:
    assert roost.client.get("/api/v1/instance/domain_blocks").status_code == 401
    assert roost.account("alice").get("/api/v1/instance/domain_blocks").json() == []


@pytest.mark.settings(registrations="closed")
def test_given_closed_sign_ups_then_nodeinfo_says_registrations_are_not_open(
    roost: Roost,
) -> None:
    assert roost.client.get("/nodeinfo/2.1").json()["openRegistrations"] is False


@pytest.mark.settings(show_domain_blocks="disabled")
def test_given_domain_blocks_hidden_then_404(roost: Roost) -> None:
    assert roost.client.get("/api/v1/instance/domain_blocks").status_code == 404


def test_given_a_token_then_userinfo_names_its_account(roost: Roost) -> None:
    alice = roost.account("alice", scopes="profile")
    claims = alice.get("/oauth/userinfo").json()
    base = roost.settings.base_url
    assert claims["sub"] == f"{base}/users/alice"
    assert claims["preferred_username"] == "alice" and claims["profile"] == f"{base}/@alice"
    assert claims["iss"] == base + "/" and claims["picture"].startswith(base)
    assert roost.client.get("/oauth/userinfo").status_code == 401
    writer = roost.account("writer", scopes="write")
    assert writer.get("/oauth/userinfo").status_code == 403
