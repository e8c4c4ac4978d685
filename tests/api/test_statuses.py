"""Posting, editing, deleting and acting on posts through the Mastodon API."""

from __future__ import annotations

from tests.conftest import Roost


def test_given_a_post_with_mentions_tags_and_links_when_published_then_html_is_rendered(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("hi @bob, see https://example.org/x?y=1 #Roost <b>not bold</b>")
    assert post["mentions"][0]["id"] == bob.id
    assert post["tags"] == [{"name": "roost", "url": "http://localhost:8000/tags/roost"}]
    assert 'href="https://example.org/x?y=1"' in post["content"]
    assert "<b>" not in post["content"] and "&lt;b&gt;" in post["content"]
    assert post["visibility"] == "public"
    assert post["account"]["statuses_count"] == 1


def test_given_an_empty_or_too_long_post_when_published_then_422_names_the_problem(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    empty = alice.post("/api/v1/statuses", json={"status": "   "})
    assert empty.status_code == 422 and "blank" in empty.json()["error"]
    long = alice.post("/api/v1/statuses", json={"status": "x" * 501})
    assert long.status_code == 422 and "500" in long.json()["error"]
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []


def test_given_a_long_link_when_counted_then_it_weighs_23_characters(roost: Roost) -> None:
    alice = roost.account("alice")
    text = "a" * 470 + " https://example.org/" + "p" * 200
    assert alice.post("/api/v1/statuses", json={"status": text}).status_code == 200


def test_given_an_unknown_or_malformed_id_when_fetched_then_404(roost: Roost) -> None:
    alice = roost.account("alice")
    for path in ("/api/v1/statuses/123", "/api/v1/statuses/abc"):
        response = alice.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "Record not found"}
    no_such_route = alice.get("/api/v1/statuses/9" * 3)
    assert no_such_route.status_code == 404
    assert no_such_route.json() == {"error": "Not Found"}


def test_given_the_same_idempotency_key_when_posted_twice_then_one_post(roost: Roost) -> None:
    alice = roost.account("alice")
    headers = {**alice.headers, "Idempotency-Key": "k-1"}
    first = roost.client.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    second = roost.client.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    assert len(alice.get(f"/api/v1/accounts/{alice.id}/statuses").json()) == 1


def test_given_a_thread_when_context_is_asked_then_ancestors_and_descendants(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    root = alice.post_status("root")
    reply = bob.post_status("reply", in_reply_to_id=root["id"])
    deeper = alice.post_status("deeper", in_reply_to_id=reply["id"])
    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == alice.id
    context = bob.get(f"/api/v1/statuses/{reply['id']}/context").json()
    assert [s["id"] for s in context["ancestors"]] == [root["id"]]
    assert [s["id"] for s in context["descendants"]] == [deeper["id"]]
    assert alice.get(f"/api/v1/statuses/{root['id']}").json()["replies_count"] == 1


def test_given_a_reply_to_a_missing_post_when_published_then_404_and_nothing_written(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    response = alice.post("/api/v1/statuses", json={"status": "x", "in_reply_to_id": "42"})
    assert response.status_code == 404
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []


def test_given_an_edited_post_when_history_is_asked_then_every_version_is_there(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    post = alice.post_status("first words")
    edited = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "second words"})
    assert edited.status_code == 200
    assert "second words" in edited.json()["content"]
    assert edited.json()["edited_at"] is not None
    history = alice.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert ["first" in h["content"] for h in history] == [True, False]
    source = alice.get(f"/api/v1/statuses/{post['id']}/source").json()
    assert source == {"id": post["id"], "text": "second words", "spoiler_text": ""}


def test_given_someone_elses_post_when_edited_or_deleted_then_404_and_unchanged(
    roost: Roost,
) -> None:
    alice, mallory = roost.account("alice"), roost.account("mallory")
    post = alice.post_status("mine")
    assert mallory.put(f"/api/v1/statuses/{post['id']}", json={"status": "x"}).status_code == 404
    assert mallory.delete(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert "mine" in alice.get(f"/api/v1/statuses/{post['id']}").json()["content"]


def test_given_a_boosted_post_when_deleted_then_it_answers_its_text_and_vanishes(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("to be redrafted")
    boost = bob.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    deleted = alice.delete(f"/api/v1/statuses/{post['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["text"] == "to be redrafted"
    assert alice.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert bob.get(f"/api/v1/statuses/{boost['id']}").status_code == 404
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["statuses_count"] == 0
    assert bob.get("/api/v1/accounts/verify_credentials").json()["statuses_count"] == 0


def test_given_my_boost_when_i_delete_it_by_its_id_then_the_boost_is_undone(
    roost: Roost,
) -> None:
    """Mastodon: DELETE /api/v1/statuses/:id with the id of one's own boost
    undoes it, answering the boost (its original as it now stands)."""
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    carol.follow(bob)
    post = alice.post_status("boost me")
    boost = bob.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    assert alice.delete(f"/api/v1/statuses/{boost['id']}").status_code == 404  # not hers

    response = bob.delete(f"/api/v1/statuses/{boost['id']}")

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["id"] == boost["id"] and answer["reblog"]["id"] == post["id"]
    assert answer["reblog"]["reblogged"] is False and answer["reblog"]["reblogs_count"] == 0
    assert bob.get(f"/api/v1/statuses/{boost['id']}").status_code == 404
    original = bob.get(f"/api/v1/statuses/{post['id']}").json()
    assert original["reblogged"] is False and original["reblogs_count"] == 0
    assert bob.get(f"/api/v1/statuses/{post['id']}/reblogged_by").json() == []
    assert carol.get("/api/v1/timelines/home").json() == []
    assert bob.get("/api/v1/accounts/verify_credentials").json()["statuses_count"] == 0
    assert alice.get("/api/v1/accounts/verify_credentials").json()["statuses_count"] == 1


def test_given_a_post_when_favourited_twice_and_undone_then_counts_stay_true(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("like me")
    path = f"/api/v1/statuses/{post['id']}"
    assert bob.post(path + "/favourite").json()["favourited"] is True
    again = bob.post(path + "/favourite").json()
    assert again["favourites_count"] == 1
    who = bob.get(path + "/favourited_by").json()
    assert [a["id"] for a in who] == [bob.id]
    assert [s["id"] for s in bob.get("/api/v1/favourites").json()] == [post["id"]]
    undone = bob.post(path + "/unfavourite").json()
    assert undone["favourited"] is False and undone["favourites_count"] == 0
    assert bob.get("/api/v1/favourites").json() == []


def test_given_a_post_when_boosted_then_the_boost_wraps_it_and_undo_removes_it(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    carol.follow(bob)
    post = alice.post_status("boost me")
    boost = bob.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    assert boost["reblog"]["id"] == post["id"] and boost["reblog"]["reblogged"] is True
    same = bob.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    assert same["id"] == boost["id"]
    home = carol.get("/api/v1/timelines/home").json()
    assert [s["reblog"]["id"] for s in home] == [post["id"]]
    who = alice.get(f"/api/v1/statuses/{post['id']}/reblogged_by").json()
    assert [a["id"] for a in who] == [bob.id]
    undone = bob.post(f"/api/v1/statuses/{post['id']}/unreblog").json()
    assert undone["reblogged"] is False and undone["reblogs_count"] == 0
    assert carol.get("/api/v1/timelines/home").json() == []


def test_given_a_followers_only_post_when_a_follower_boosts_it_then_refused(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    post = alice.post_status("only followers", visibility="private")
    response = bob.post(f"/api/v1/statuses/{post['id']}/reblog")
    assert response.status_code == 422
    assert "author only" in response.json()["error"]
    assert bob.get(f"/api/v1/statuses/{post['id']}").json()["reblogs_count"] == 0


def test_given_her_own_followers_only_post_when_the_author_boosts_it_then_the_boost_stays_private(
    roost: Roost,
) -> None:
    """Mastodon lets an author boost their own followers-only post; the boost
    keeps the post's visibility whatever was asked, so it reaches no one new."""
    alice, follower, stranger = (
        roost.account("alice"),
        roost.account("follower"),
        roost.account("stranger"),
    )
    follower.follow(alice)
    post = alice.post_status("only followers", visibility="private")

    response = alice.post(f"/api/v1/statuses/{post['id']}/reblog", json={"visibility": "public"})

    assert response.status_code == 200, response.text
    boost = response.json()
    assert boost["reblog"]["id"] == post["id"] and boost["visibility"] == "private"
    assert boost["reblog"]["reblogged"] is True and boost["reblog"]["reblogs_count"] == 1
    assert follower.get(f"/api/v1/statuses/{boost['id']}").status_code == 200
    assert stranger.get(f"/api/v1/statuses/{boost['id']}").status_code == 404
    public = stranger.get("/api/v1/timelines/public").json()
    assert boost["id"] not in [s["id"] for s in public]


def test_given_a_direct_post_when_even_its_author_boosts_it_then_refused(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status(f"@{bob.username} just us", visibility="direct")
    for who in (alice, bob):
        response = who.post(f"/api/v1/statuses/{post['id']}/reblog")
        assert response.status_code == 422, response.text
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["reblogs_count"] == 0


def test_given_bookmarks_when_listed_then_newest_bookmark_first(roost: Roost) -> None:
    alice = roost.account("alice")
    first, second = alice.post_status("one"), alice.post_status("two")
    alice.post(f"/api/v1/statuses/{second['id']}/bookmark")
    alice.post(f"/api/v1/statuses/{first['id']}/bookmark")
    listed = alice.get("/api/v1/bookmarks")
    assert [s["id"] for s in listed.json()] == [first["id"], second["id"]]
    assert all(s["bookmarked"] for s in listed.json())
    assert 'rel="next"' in listed.headers["link"]
    alice.post(f"/api/v1/statuses/{first['id']}/unbookmark")
    assert [s["id"] for s in alice.get("/api/v1/bookmarks").json()] == [second["id"]]


def test_given_pinned_posts_when_the_profile_asks_for_pinned_then_only_those(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    pinned, other = alice.post_status("pin me"), alice.post_status("not me")
    assert alice.post(f"/api/v1/statuses/{pinned['id']}/pin").json()["pinned"] is True
    listed = alice.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"})
    assert [s["id"] for s in listed.json()] == [pinned["id"]]
    assert other["pinned"] is False
    for _ in range(5):
        extra = alice.post_status("more")
        alice.post(f"/api/v1/statuses/{extra['id']}/pin")
    too_many = alice.post(f"/api/v1/statuses/{other['id']}/pin")
    assert too_many.status_code == 422


def test_given_my_followers_only_post_when_pinned_then_only_followers_see_it_pinned(
    roost: Roost,
) -> None:
    """Mastodon lets one pin one's own followers-only posts; direct messages not."""
    alice, follower, stranger = (
        roost.account("alice"),
        roost.account("follower"),
        roost.account("stranger"),
    )
    follower.follow(alice)
    private = alice.post_status("for my followers", visibility="private")
    direct = alice.post_status(f"@{follower.username} psst", visibility="direct")

    pinned = alice.post(f"/api/v1/statuses/{private['id']}/pin")

    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["pinned"] is True
    refused = alice.post(f"/api/v1/statuses/{direct['id']}/pin")
    assert refused.status_code == 422 and "Direct" in refused.json()["error"]
    profile = f"/api/v1/accounts/{alice.id}/statuses"
    seen = follower.get(profile, params={"pinned": "true"}).json()
    assert [s["id"] for s in seen] == [private["id"]]
    assert stranger.get(profile, params={"pinned": "true"}).json() == []
    assert roost.client.get(profile, params={"pinned": "true"}).json() == []


def test_given_private_and_direct_posts_then_only_those_allowed_see_them(roost: Roost) -> None:
    alice, follower, stranger, friend = (
        roost.account("alice"),
        roost.account("follower"),
        roost.account("stranger"),
        roost.account("friend"),
    )
    follower.follow(alice)
    private = alice.post_status("followers only", visibility="private")
    direct = alice.post_status("@friend secret", visibility="direct")
    assert follower.get(f"/api/v1/statuses/{private['id']}").status_code == 200
    assert stranger.get(f"/api/v1/statuses/{private['id']}").status_code == 404
    assert roost.client.get(f"/api/v1/statuses/{private['id']}").status_code == 404
    assert friend.get(f"/api/v1/statuses/{direct['id']}").status_code == 200
    assert follower.get(f"/api/v1/statuses/{direct['id']}").status_code == 404
    public = roost.client.get(f"/api/v1/accounts/{alice.id}/statuses").json()
    assert public == []
    assert roost.client.get("/api/v1/timelines/public").json() == []


def test_given_a_mention_and_a_favourite_when_jobs_run_then_each_notifies_once(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = bob.post_status("hello @alice")
    alice.post(f"/api/v1/statuses/{post['id']}/favourite")
    roost.drain_jobs()
    roost.drain_jobs()
    by_bob = {n["type"] for n in alice.get("/api/v1/notifications").json()}
    assert by_bob == {"mention"}
    assert [n["type"] for n in bob.get("/api/v1/notifications").json()] == ["favourite"]
    assert bob.get("/api/v1/notifications/unread_count").json() == {"count": 1}


def test_given_several_ids_when_fetched_together_then_only_visible_ones_come_back(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    shown = alice.post_status("shown")
    hidden = alice.post_status("hidden", visibility="direct")
    response = bob.get("/api/v1/statuses", params=[("id[]", shown["id"]), ("id[]", hidden["id"])])
    assert [s["id"] for s in response.json()] == [shown["id"]]
