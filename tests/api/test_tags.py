"""Hashtags: one tag, following it, and followed tags on the home timeline."""

from __future__ import annotations

from typing import Any

from tests.conftest import Roost


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def test_given_a_tag_when_shown_then_its_week_of_use_and_following(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post_status("Fresh #Bread today")
    bob.post_status("More #bread")
    bob.post_status("Secret #bread", visibility="private")
    shown = alice.get("/api/v1/tags/BREAD").json()
    assert shown["name"] == "Bread" and shown["url"].endswith("/tags/bread")
    assert shown["following"] is False
    assert len(shown["history"]) == 7
    # Only public posts count: a count must not reveal private ones.
    assert shown["history"][0]["uses"] == "2" and shown["history"][0]["accounts"] == "2"
    assert "following" not in roost.client.get("/api/v1/tags/bread").json()


def test_given_unknown_or_malformed_names_then_empty_tag_or_404(roost: Roost) -> None:
    alice = roost.account("alice")
    unused = alice.get("/api/v1/tags/nobodyusedthis").json()
    assert unused["name"] == "nobodyusedthis" and unused["history"][0]["uses"] == "0"
    assert alice.get("/api/v1/tags/not-a-tag").status_code == 404
    assert alice.post("/api/v1/tags/not%20a%20tag/follow").status_code == 404


def test_given_follow_and_unfollow_then_idempotent_and_listed(roost: Roost) -> None:
    alice = roost.account("alice")
    for _ in range(2):
        followed = alice.post("/api/v1/tags/Cooking/follow")
        assert followed.status_code == 200 and followed.json()["following"] is True
    alice.post("/api/v1/tags/baking/follow")
    names = [t["name"] for t in alice.get("/api/v1/followed_tags").json()]
    assert names == ["baking", "Cooking"]
    page = alice.get("/api/v1/followed_tags", params={"limit": 1})
    assert [t["name"] for t in page.json()] == ["baking"]
    next_url = page.headers["link"].split(";")[0].strip("<>").replace("http://testserver", "")
    assert [t["name"] for t in alice.get(next_url).json()] == ["Cooking"]
    for _ in range(2):
        assert alice.post("/api/v1/tags/cooking/unfollow").json()["following"] is False
    assert [t["name"] for t in alice.get("/api/v1/followed_tags").json()] == ["baking"]


def test_given_a_followed_tag_then_public_posts_with_it_reach_home(roost: Roost) -> None:
    alice, stranger, muted = roost.account("alice"), roost.account("stranger"), roost.account("m")
    alice.post("/api/v1/tags/knitting/follow")
    alice.post(f"/api/v1/accounts/{muted.id}/mute")
    public = stranger.post_status("My #knitting project")
    stranger.post_status("Quiet #knitting", visibility="unlisted")
    stranger.post_status("Private #knitting", visibility="private")
    stranger.post_status("No tag, just knitting")
    muted.post_status("Muted #knitting")
    assert _ids(alice.get("/api/v1/timelines/home")) == [public["id"]]
    alice.post("/api/v1/tags/knitting/unfollow")
    assert _ids(alice.get("/api/v1/timelines/home")) == []
