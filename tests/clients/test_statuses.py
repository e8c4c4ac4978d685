"""Mastodon.py posting and acting on posts: replies and threads, edits and their
history, boosts, favourites, bookmarks, and delete-and-redraft."""

from __future__ import annotations

import pytest
from mastodon import MastodonNotFoundError

from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.clients


def test_given_a_post_when_two_people_reply_in_turn_then_the_context_shows_the_thread(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("thread_a", "thread_b")

    root = alice.api.status_post("where shall we meet?")
    reply = bob.api.status_post(f"@{alice.username} by the old oak", in_reply_to_id=root)
    answer = alice.api.status_post(f"@{bob.username} see you there", in_reply_to_id=reply)
    unrelated = alice.api.status_post("something else entirely")

    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == alice.id
    assert [m["id"] for m in reply["mentions"]] == [alice.id]
    middle = bob.api.status_context(reply)
    assert [s["id"] for s in middle["ancestors"]] == [root["id"]]
    assert [s["id"] for s in middle["descendants"]] == [answer["id"]]
    top = alice.api.status_context(root)
    assert top["ancestors"] == []
    assert [s["id"] for s in top["descendants"]] == [reply["id"], answer["id"]]
    assert unrelated["id"] not in [s["id"] for s in top["descendants"]]
    assert alice.api.status(root)["replies_count"] == 1


def test_given_a_post_when_its_author_edits_it_then_history_shows_both_versions(
    live_server: LiveServer,
) -> None:
    (alice,) = live_server.people("editor")
    post = alice.api.status_post("the meeting is on Tuesday")

    edited = alice.api.status_update(post, "the meeting is on Wednesday")

    assert edited["id"] == post["id"]
    assert "Wednesday" in edited["content"]
    assert edited["edited_at"] is not None
    history = alice.api.status_history(post)
    assert len(history) == 2
    assert "Tuesday" in history[0]["content"]
    assert "Wednesday" in history[1]["content"]
    assert all(version["account"]["id"] == alice.id for version in history)
    assert alice.api.status_source(post)["text"] == "the meeting is on Wednesday"


def test_given_someone_elses_post_when_it_is_boosted_and_unboosted_then_counts_follow(
    live_server: LiveServer,
) -> None:
    alice, bob, carol = live_server.people("boosted", "booster", "boostee")
    carol.api.account_follow(bob.id)
    post = alice.api.status_post("worth sharing")

    boost = bob.api.status_reblog(post)

    assert boost["reblog"]["id"] == post["id"]
    assert boost["reblog"]["reblogged"] is True
    assert alice.api.status(post)["reblogs_count"] == 1
    assert [a["id"] for a in alice.api.status_reblogged_by(post)] == [bob.id]
    assert boost["id"] in [s["id"] for s in bob.api.account_statuses(bob.id)]
    (shown,) = carol.api.timeline_home()
    assert (shown["id"], shown["account"]["id"]) == (boost["id"], bob.id)
    assert shown["reblog"]["id"] == post["id"]

    undone = bob.api.status_unreblog(post)

    assert undone["id"] == post["id"]
    assert undone["reblogged"] is False
    assert alice.api.status(post)["reblogs_count"] == 0
    assert boost["id"] not in [s["id"] for s in bob.api.account_statuses(bob.id)]
    assert carol.api.timeline_home() == []


def test_given_a_post_when_it_is_favourited_and_unfavourited_then_the_favourites_list_follows(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("faved", "faver")
    post = alice.api.status_post("a lovely sunset tonight")

    liked = bob.api.status_favourite(post)

    assert liked["favourited"] is True
    assert liked["favourites_count"] == 1
    assert [s["id"] for s in bob.api.favourites()] == [post["id"]]
    assert [a["id"] for a in alice.api.status_favourited_by(post)] == [bob.id]
    assert alice.api.status(post)["favourited"] is False

    unliked = bob.api.status_unfavourite(post)

    assert unliked["favourited"] is False
    assert unliked["favourites_count"] == 0
    assert bob.api.favourites() == []


def test_given_posts_when_some_are_bookmarked_then_bookmarks_lists_them_newest_bookmark_first(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("marked", "marker")
    first = alice.api.status_post("a recipe to keep")
    second = alice.api.status_post("a reading list to keep")
    third = alice.api.status_post("not worth keeping")

    assert bob.api.status_bookmark(first)["bookmarked"] is True
    bob.api.status_bookmark(second)

    assert [s["id"] for s in bob.api.bookmarks()] == [second["id"], first["id"]]
    assert bob.api.status(third)["bookmarked"] is False
    assert alice.api.bookmarks() == []

    assert bob.api.status_unbookmark(first)["bookmarked"] is False
    assert [s["id"] for s in bob.api.bookmarks()] == [second["id"]]


def test_given_a_post_when_its_author_deletes_it_then_the_text_comes_back_for_redraft(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("deleter", "witness")
    post = alice.api.status_post("I will regret this #oops", spoiler_text="hot take")

    deleted = alice.api.status_delete(post)

    assert deleted["id"] == post["id"]
    assert deleted["text"] == "I will regret this #oops"
    assert deleted["spoiler_text"] == "hot take"
    for viewer in (alice, bob):
        with pytest.raises(MastodonNotFoundError):
            viewer.api.status(post)
    redraft = alice.api.status_post(deleted["text"], spoiler_text=deleted["spoiler_text"])
    assert redraft["id"] != post["id"]


def test_given_someone_elses_post_when_a_stranger_tries_to_delete_it_then_it_stays(
    live_server: LiveServer,
) -> None:
    alice, mallory = live_server.people("owner", "mallory")
    post = alice.api.status_post("mine, not yours")

    with pytest.raises(MastodonNotFoundError):
        mallory.api.status_delete(post)

    assert alice.api.status(post)["id"] == post["id"]
