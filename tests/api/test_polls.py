"""Polls through the Mastodon API: posting, voting, privacy, ending, editing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.tables import jobs, polls
from roost.domain.polls.actions import do_announce_end, do_vote
from roost.domain.types import Viewer
from roost.errors import Invalid
from tests.conftest import Roost, User

POLL = {"options": ["tea", "coffee", "water"], "expires_in": 3600}


def _poll_post(user: User, text: str = "what to drink?", **poll: Any) -> dict[str, Any]:
    return user.post_status(text, poll={**POLL, **poll})


def _end_polls(roost: Roost) -> None:
    """Move every poll's end (and its job) into the past, then run the jobs."""

    async def move() -> None:
        past = utcnow() - timedelta(seconds=1)
        async with roost.db.write() as tx:
            await tx.execute(update(polls).values(expires_at=past))
            await tx.execute(update(jobs).where(jobs.c.kind == "poll.ended").values(run_at=past))

    roost.run(move)
    roost.drain_jobs()


def test_given_a_post_with_a_poll_when_someone_votes_then_counts_and_marks_show(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    post = _poll_post(alice)
    poll = post["poll"]
    assert [o["title"] for o in poll["options"]] == ["tea", "coffee", "water"]
    assert poll["votes_count"] == 0 and poll["expired"] is False and poll["multiple"] is False
    assert poll["voters_count"] is None and poll["expires_at"].endswith("Z")

    voted = bob.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": ["1"]})
    assert voted.status_code == 200, voted.text
    assert voted.json()["voted"] is True and voted.json()["own_votes"] == [1]
    assert [o["votes_count"] for o in voted.json()["options"]] == [0, 1, 0]

    # Read by another viewer first, then by the voter: each sees their own marks.
    seen_by_carol = carol.get(f"/api/v1/statuses/{post['id']}").json()["poll"]
    seen_by_bob = bob.get(f"/api/v1/statuses/{post['id']}").json()["poll"]
    assert seen_by_carol["voted"] is False and seen_by_carol["own_votes"] == []
    assert seen_by_bob["voted"] is True and seen_by_bob["own_votes"] == [1]
    assert seen_by_carol["votes_count"] == 1
    by_author = alice.get(f"/api/v1/polls/{poll['id']}").json()
    assert by_author["voted"] is True and by_author["own_votes"] == []
    anonymous = roost.client.get(f"/api/v1/polls/{poll['id']}").json()
    assert "voted" not in anonymous and anonymous["votes_count"] == 1


def test_given_a_poll_in_a_form_post_when_multiple_then_several_choices_count(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    form = {
        "status": "pick any",
        "poll[options][]": ["a", "b", "c"],
        "poll[expires_in]": "600",
        "poll[multiple]": "true",
    }
    response = alice.post("/api/v1/statuses", data=form)
    assert response.status_code == 200, response.text
    poll_id = response.json()["poll"]["id"]
    assert response.json()["poll"]["multiple"] is True
    bob.post(f"/api/v1/polls/{poll_id}/votes", data={"choices[]": ["0", "2"]})
    carol.post(f"/api/v1/polls/{poll_id}/votes", data={"choices[]": ["2"]})
    shown = roost.client.get(f"/api/v1/polls/{poll_id}").json()
    assert [o["votes_count"] for o in shown["options"]] == [1, 0, 2]
    assert shown["votes_count"] == 3 and shown["voters_count"] == 2


def test_given_bad_polls_when_posted_then_422_names_the_problem(roost: Roost) -> None:
    alice = roost.account("alice")
    cases = [
        ({"options": ["only one"], "expires_in": 600}, "more than one"),
        ({"options": list("abcde"), "expires_in": 600}, "more than 4"),
        ({"options": ["a" * 51, "b"], "expires_in": 600}, "50 characters"),
        ({"options": ["a", "a"], "expires_in": 600}, "duplicate"),
        ({"options": ["a", "b"], "expires_in": 299}, "too short"),
        ({"options": ["a", "b"], "expires_in": 2629747}, "too long"),
        ({"options": ["a", "b"]}, "expires_in"),
    ]
    for poll, words in cases:
        response = alice.post("/api/v1/statuses", json={"status": "q", "poll": poll})
        assert response.status_code == 422, (poll, response.text)
        assert words in response.json()["error"], (poll, response.json())
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []


def test_given_a_poll_when_voting_wrongly_then_422_as_mastodon(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    poll_id = _poll_post(alice)["poll"]["id"]
    path = f"/api/v1/polls/{poll_id}/votes"
    own = alice.post(path, json={"choices": [0]})
    assert own.status_code == 422 and "own" in own.json()["error"]
    assert bob.post(path, json={"choices": [7]}).status_code == 422
    assert bob.post(path, json={"choices": [0, 1]}).status_code == 422
    assert bob.post(path, json={"choices": []}).status_code == 422
    assert bob.post(path, json={"choices": [0]}).status_code == 200
    again = bob.post(path, json={"choices": [1]})
    assert again.status_code == 422 and "already voted" in again.json()["error"]
    assert bob.post("/api/v1/polls/4242424242/votes", json={"choices": [0]}).status_code == 404


def test_given_a_followers_only_poll_when_a_stranger_asks_then_404(roost: Roost) -> None:
    alice, friend, stranger = (roost.account(n) for n in ("alice", "friend", "stranger"))
    friend.follow(alice)
    post = alice.post_status("friends only", visibility="private", poll=POLL)
    poll_id = post["poll"]["id"]
    assert stranger.get(f"/api/v1/polls/{poll_id}").status_code == 404
    assert roost.client.get(f"/api/v1/polls/{poll_id}").status_code == 404
    vote = stranger.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})
    assert vote.status_code == 404
    assert friend.get(f"/api/v1/polls/{poll_id}").status_code == 200
    assert friend.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}).status_code == 200


def test_given_hidden_totals_when_the_poll_runs_then_only_the_author_sees_counts(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    poll_id = _poll_post(alice, hide_totals=True)["poll"]["id"]
    voted = bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [2]}).json()
    assert [o["votes_count"] for o in voted["options"]] == [None, None, None]
    assert voted["votes_count"] == 1
    by_author = alice.get(f"/api/v1/polls/{poll_id}").json()
    assert [o["votes_count"] for o in by_author["options"]] == [0, 0, 1]
    _end_polls(roost)
    ended = bob.get(f"/api/v1/polls/{poll_id}").json()
    assert ended["expired"] is True
    assert [o["votes_count"] for o in ended["options"]] == [0, 0, 1]


def test_given_a_poll_when_it_ends_then_voters_and_author_are_told_once(roost: Roost) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    post = _poll_post(alice)
    poll_id = post["poll"]["id"]
    bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})
    roost.drain_jobs()
    assert alice.get("/api/v1/notifications", params={"types[]": "poll"}).json() == []
    _end_polls(roost)
    _end_polls(roost)  # a second run of the end tells nobody twice
    for user in (alice, bob):
        told = user.get("/api/v1/notifications", params={"types[]": "poll"}).json()
        assert [(n["type"], n["status"]["id"]) for n in told] == [("poll", post["id"])]
        assert told[0]["account"]["id"] == alice.id
        assert told[0]["status"]["poll"]["expired"] is True
    assert carol.get("/api/v1/notifications").json() == []
    late = carol.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})
    assert late.status_code == 422 and "ended" in late.json()["error"]


def test_given_votes_when_an_edit_changes_the_options_then_votes_reset(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = _poll_post(alice)
    poll_id = post["poll"]["id"]
    bob.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]})
    same = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "edited", "poll": POLL})
    assert same.status_code == 200, same.text
    assert same.json()["poll"]["votes_count"] == 1
    changed = {**POLL, "options": ["tea", "juice"]}
    edited = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "again", "poll": changed})
    assert edited.status_code == 200, edited.text
    poll = edited.json()["poll"]
    assert [o["title"] for o in poll["options"]] == ["tea", "juice"]
    assert poll["votes_count"] == 0
    assert bob.get(f"/api/v1/polls/{poll['id']}").json()["voted"] is False
    removed = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "no poll"})
    assert removed.json()["poll"] is None
    assert bob.get(f"/api/v1/polls/{poll['id']}").status_code == 404


def test_given_a_followed_poll_when_the_timeline_is_read_then_it_shows_the_voters_marks(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    post = _poll_post(alice)
    boost = bob.post(f"/api/v1/statuses/{post['id']}/reblog").json()
    roost.drain_jobs()
    bob.post(f"/api/v1/polls/{post['poll']['id']}/votes", json={"choices": [0]})
    home = bob.get("/api/v1/timelines/home").json()
    by_id = {s["id"]: s for s in home}
    assert by_id[post["id"]]["poll"]["own_votes"] == [0]
    assert by_id[boost["id"]]["reblog"]["poll"]["own_votes"] == [0]
    public = alice.get("/api/v1/timelines/public").json()
    assert {s["id"]: s for s in public}[post["id"]]["poll"]["own_votes"] == []


def test_given_a_poll_post_when_deleted_then_the_poll_goes(roost: Roost) -> None:
    alice = roost.account("alice")
    post = _poll_post(alice)
    assert alice.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert alice.get(f"/api/v1/polls/{post['poll']['id']}").status_code == 404
    roost.drain_jobs()


def test_given_one_voter_when_voting_twice_at_once_then_one_vote_counts(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    poll_id = int(_poll_post(alice)["poll"]["id"])
    voter = Viewer(account_id=int(bob.id))

    async def vote(choice: int) -> str:
        try:
            async with roost.db.write() as tx:
                await do_vote(tx, voter, poll_id, [choice])
        except Invalid:
            return "refused"
        return "counted"

    async def both() -> list[str]:
        return list(await asyncio.gather(vote(0), vote(1)))

    assert sorted(roost.run(both)) == ["counted", "refused"]
    assert roost.client.get(f"/api/v1/polls/{poll_id}").json()["votes_count"] == 1


def test_given_an_edited_poll_when_the_history_is_read_then_each_version_has_its_options(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = _poll_post(alice)
    unedited = bob.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert [e["poll"] for e in unedited] == [
        {"options": [{"title": "tea"}, {"title": "coffee"}, {"title": "water"}]}
    ]
    bob.post(f"/api/v1/polls/{post['poll']['id']}/votes", json={"choices": [0]})
    changed = {**POLL, "options": ["tea", "juice"]}
    edited = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "again", "poll": changed})
    assert edited.json()["poll"]["votes_count"] == 0
    alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "no poll now"})
    history = bob.get(f"/api/v1/statuses/{post['id']}/history")
    assert history.status_code == 200, history.text
    versions = [
        (e["content"], None if e["poll"] is None else [o["title"] for o in e["poll"]["options"]])
        for e in history.json()
    ]
    assert versions == [
        ("<p>what to drink?</p>", ["tea", "coffee", "water"]),
        ("<p>again</p>", ["tea", "juice"]),
        ("<p>no poll now</p>", None),
    ]
    plain = alice.post_status("no poll ever")
    alice.put(f"/api/v1/statuses/{plain['id']}", json={"status": "still none"})
    assert [e["poll"] for e in bob.get(f"/api/v1/statuses/{plain['id']}/history").json()] == [
        None,
        None,
    ]


def test_given_a_poll_with_voters_when_it_ends_then_each_is_told_by_a_job_of_their_own(
    roost: Roost,
) -> None:
    """The end's own write only queues: a poll with many voters does not hold
    the database for all of their notifications at once."""
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    poll_id = _poll_post(alice)["poll"]["id"]
    for voter in (bob, carol):
        voter.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})
    roost.drain_jobs()

    async def end() -> tuple[int, list[int]]:
        async with roost.db.write() as tx:
            await tx.execute(update(polls).values(expires_at=utcnow() - timedelta(seconds=1)))
            queued = await do_announce_end(tx, int(poll_id))
        async with roost.db.read() as conn:
            rows = await conn.execute(select(jobs.c.payload).where(jobs.c.kind == "notify"))
            told = [int(r.payload["account_id"]) for r in rows]
        return queued, sorted(told)

    queued, told = roost.run(end)
    assert queued == 3 and told == sorted(int(u.id) for u in (alice, bob, carol))
    assert bob.get("/api/v1/notifications", params={"types[]": "poll"}).json() == []
    roost.drain_jobs()
    for user in (alice, bob, carol):
        [ended] = user.get("/api/v1/notifications", params={"types[]": "poll"}).json()
        assert ended["status"]["poll"]["expired"] is True
