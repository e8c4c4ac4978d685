"""Posts found through interactions, by both of the SQLite index's ways of
matching them (intersecting few matches, or reading the posts' words)."""

from __future__ import annotations

import pytest

from roost.search import sqlite
from tests.conftest import Roost


@pytest.mark.parametrize("few_matches", [1000, 1], ids=["intersect", "read-words"])
def test_given_favourites_among_many_matches_then_exactly_the_favourited_are_found(
    roost: Roost, few_matches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "_FEW_MATCHES", few_matches)
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    posts = [alice.post_status(f"Harbour log entry {n} tide") for n in range(8)]
    alice.post_status("Harbour log without the other word")
    faved = [posts[1], posts[4], posts[6]]
    for post in faved:
        assert bob.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    roost.drain_jobs()
    response = bob.get("/api/v2/search", params={"q": "harbour tide", "type": "statuses"})
    assert [s["id"] for s in response.json()["statuses"]] == [p["id"] for p in reversed(faved)]
    limited = bob.get("/api/v2/search", params={"q": "tide", "type": "statuses", "limit": 2})
    assert [s["id"] for s in limited.json()["statuses"]] == [posts[6]["id"], posts[4]["id"]]
    none = bob.get("/api/v2/search", params={"q": "tide -harbour", "type": "statuses"})
    assert none.json()["statuses"] == []
