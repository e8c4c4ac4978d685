"""Erasure of polls, votes, scheduled posts and quotes: nothing of the account
stays, and what others made shows what is left."""

from __future__ import annotations

from datetime import timedelta

from roost.clock import utcnow
from tests.conftest import Roost


def test_given_polls_votes_schedules_and_quotes_when_erased_then_the_scan_is_clean(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    poll = {"options": ["alice yes", "alice no"], "expires_in": 600}
    alice.post_status("alice asks", poll=poll)
    bobs = bob.post_status("bob asks", poll={"options": ["a", "b"], "expires_in": 600})
    alice.post(f"/api/v1/polls/{bobs['poll']['id']}/votes", json={"choices": [0]})
    later = (utcnow() + timedelta(hours=2)).isoformat()
    scheduled = alice.post(
        "/api/v1/statuses", json={"status": "alice later", "scheduled_at": later}
    )
    assert scheduled.status_code == 200, scheduled.text
    alices = alice.post_status("alice says", quote_approval_policy="followers")
    bob.follow(alice)
    quoting = bob.post(
        "/api/v1/statuses", json={"status": "bob quotes", "quoted_status_id": alices["id"]}
    ).json()
    alice.post("/api/v1/statuses", json={"status": "alice quotes", "quoted_status_id": bobs["id"]})
    roost.drain_jobs()

    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    live = {k: v for k, v in erased.json()["scan"].items() if k != "backups"}
    assert all(not hits for hits in live.values()), live

    shown = bob.get(f"/api/v1/polls/{bobs['poll']['id']}").json()
    assert shown["votes_count"] == 0
    assert bob.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"] == {
        "state": "deleted",
        "quoted_status": None,
    }
    assert bob.get(f"/api/v1/statuses/{bobs['id']}").json()["quotes_count"] == 0
    roost.drain_jobs()
