"""Mastodon.py with polls: posting one, voting, reading it back."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError

from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.clients


def test_given_a_poll_posted_with_mastodon_py_when_people_vote_then_it_counts_them(
    live_server: LiveServer,
) -> None:
    alice, bob, carol = live_server.people("pollster", "voter_b", "voter_c")
    poll = alice.api.make_poll(["left", "right", "straight on"], expires_in=600, multiple=True)
    post = alice.api.status_post("which way?", poll=poll)
    assert [o["title"] for o in post["poll"]["options"]] == ["left", "right", "straight on"]
    assert post["poll"]["multiple"] is True

    voted = bob.api.poll_vote(post["poll"]["id"], [0, 2])
    assert voted["voted"] is True and voted["own_votes"] == [0, 2]
    carol.api.poll_vote(post["poll"], 2)
    shown = alice.api.poll(post["poll"]["id"])
    assert [o["votes_count"] for o in shown["options"]] == [1, 0, 2]
    assert shown["votes_count"] == 3 and shown["voters_count"] == 2
    assert bob.api.status(post["id"])["poll"]["own_votes"] == [0, 2]
    with pytest.raises(MastodonAPIError):
        bob.api.poll_vote(post["poll"]["id"], [1])


def test_given_a_poll_edited_with_mastodon_py_then_votes_reset_and_the_history_shows_it(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("poll_editor", "poll_voter")
    post = alice.api.status_post("lunch?", poll=alice.api.make_poll(["soup", "salad"], 600))
    bob.api.poll_vote(post["poll"]["id"], [0])
    edited = alice.api.status_update(
        post["id"], "lunch, then?", poll=alice.api.make_poll(["soup", "bread"], 600)
    )
    assert edited["poll"]["votes_count"] == 0
    history = bob.api.status_history(post["id"])
    assert [[o["title"] for o in e["poll"]["options"]] for e in history] == [
        ["soup", "salad"],
        ["soup", "bread"],
    ]
