"""Markers (where reading stopped) and preferences."""

from __future__ import annotations

from tests.conftest import Roost


def test_given_saved_positions_then_read_back_with_versions(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    assert alice.get("/api/v1/markers", params={"timeline[]": ["home"]}).json() == {}
    saved = alice.post("/api/v1/markers", data={"home[last_read_id]": "103206604258487607"})
    assert saved.status_code == 200
    home = saved.json()["home"]
    assert home["last_read_id"] == "103206604258487607" and home["version"] == 0
    again = alice.post(
        "/api/v1/markers",
        json={
            "home": {"last_read_id": "103206604258487699"},
            "notifications": {"last_read_id": "5"},
        },
    ).json()
    assert again["home"]["version"] == 1 and again["notifications"]["version"] == 0
    both = alice.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]}).json()
    assert both["home"]["last_read_id"] == "103206604258487699"
    assert both["notifications"]["last_read_id"] == "5"
    assert alice.get("/api/v1/markers").json() == {}
    # Each account has its own.
    assert bob.get("/api/v1/markers", params={"timeline[]": ["home"]}).json() == {}


def test_given_a_bad_marker_then_422_and_no_token_401(roost: Roost) -> None:
    alice = roost.account("alice")
    bad = alice.post("/api/v1/markers", data={"home[last_read_id]": "not-an-id"})
    assert bad.status_code == 422
    assert roost.client.get("/api/v1/markers").status_code == 401


def test_given_posting_defaults_when_changed_then_preferences_follow(roost: Roost) -> None:
    alice = roost.account("alice")
    alice.patch(
        "/api/v1/accounts/update_credentials",
        json={"source": {"privacy": "private", "sensitive": True, "language": "de"}},
    )
    prefs = alice.get("/api/v1/preferences").json()
    assert prefs["posting:default:visibility"] == "private"
    assert prefs["posting:default:sensitive"] is True
    assert prefs["posting:default:language"] == "de"
