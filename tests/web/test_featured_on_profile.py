"""Featured hashtags on the profile page, each linking to the account's posts
with that tag."""

from __future__ import annotations

from tests.conftest import Roost


def test_given_featured_tags_then_the_profile_shows_them_and_their_pages_list_the_posts(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    alice.post_status("wrens at dawn #Birds")
    alice.post_status("nothing tagged here")
    alice.post_status("#birds but only for followers", visibility="private")
    alice.post("/api/v1/featured_tags", json={"name": "Birds"})
    roost.drain_jobs()

    profile = roost.client.get("/@alice").text  # also cached for the next visitor
    assert 'href="/@alice/tagged/birds"' in profile and "1 posts" in profile
    tagged = roost.client.get("/@alice/tagged/birds")
    assert tagged.status_code == 200
    assert "wrens at dawn" in tagged.text and "nothing tagged here" not in tagged.text
    assert "only for followers" not in tagged.text
    assert roost.client.get("/@alice/tagged/not%20a%20tag").status_code == 404

    alice.post("/api/v1/tags/cats/feature")
    again = roost.client.get("/@alice").text
    assert 'href="/@alice/tagged/cats"' in again  # the cached page was dropped
    featured_id = alice.get("/api/v1/featured_tags").json()[0]["id"]
    alice.delete(f"/api/v1/featured_tags/{featured_id}")
    assert 'href="/@alice/tagged/birds"' not in roost.client.get("/@alice").text
