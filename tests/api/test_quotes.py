"""Quote posts through the Mastodon API (4.5): quoting, policies, revoking,
notifications, and the rule that a quote never shows a post the viewer may not see."""

from __future__ import annotations

import json
from typing import Any

from roost.domain.graph.counts import do_suspend
from tests.conftest import Roost, User


def _quote(user: User, quoted: dict[str, Any], text: str = "look", **fields: Any) -> Any:
    return user.post(
        "/api/v1/statuses", json={"status": text, "quoted_status_id": quoted["id"], **fields}
    )


def _types(user: User, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = user.get("/api/v1/notifications", params={"types[]": kind}).json()
    return found


def test_given_a_public_post_when_quoted_then_the_quote_shows_it_and_its_author_hears(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    original = alice.post_status("an original thought")
    response = _quote(bob, original, "well said")
    assert response.status_code == 200, response.text
    quoting = response.json()
    assert quoting["quote"]["state"] == "accepted"
    assert quoting["quote"]["quoted_status"]["id"] == original["id"]
    assert quoting["quote"]["quoted_status"]["content"] == "<p>an original thought</p>"
    link = f"http://localhost:8000/@alice/{original['id']}"
    assert quoting["content"].startswith(f'<p class="quote-inline">RE: <a href="{link}">')
    assert quoting["content"].endswith("<p>well said</p>")
    roost.drain_jobs()
    told = _types(alice, "quote")
    assert [(n["account"]["id"], n["status"]["id"]) for n in told] == [(bob.id, quoting["id"])]
    seen = bob.get(f"/api/v1/statuses/{original['id']}").json()
    assert seen["quotes_count"] == 1
    assert seen["quote"] is None
    assert seen["quote_approval"] == {
        "automatic": ["public"],
        "manual": [],
        "current_user": "automatic",
    }
    linked = _quote(bob, original, f"see {link}").json()
    assert not linked["content"].startswith('<p class="quote-inline">')


def test_given_a_quote_when_the_viewer_may_not_see_the_quoted_post_then_nothing_of_it_shows(
    roost: Roost,
) -> None:
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    original = alice.post_status("only for those alice lets see")
    alice.post(f"/api/v1/accounts/{carol.id}/block")
    quoting = _quote(bob, original, "quoting alice").json()
    link_free = _quote(bob, original, "again").json()
    roost.drain_jobs()
    # The blocked one reads first, then someone else: each sees what is theirs to see.
    for path in (f"/api/v1/statuses/{quoting['id']}", "/api/v1/timelines/public"):
        body = carol.get(path).text
        assert original["id"] not in body, path
        assert "only for those alice lets see" not in body
    as_carol = carol.get(f"/api/v1/statuses/{link_free['id']}").json()
    assert as_carol["quote"] == {"state": "unauthorized", "quoted_status": None}
    public = {s["id"]: s for s in carol.get("/api/v1/timelines/public").json()}
    assert public[quoting["id"]]["quote"]["state"] == "unauthorized"
    as_dave = dave.get(f"/api/v1/statuses/{link_free['id']}").json()
    assert as_dave["quote"]["quoted_status"]["id"] == original["id"]
    assert as_dave["content"].startswith('<p class="quote-inline">RE: ')
    public = {s["id"]: s for s in dave.get("/api/v1/timelines/public").json()}
    assert public[quoting["id"]]["quote"]["quoted_status"]["id"] == original["id"]

    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_suspend(tx, int(alice.id))

    roost.run(suspend)
    gone = dave.get(f"/api/v1/statuses/{link_free['id']}").json()
    assert gone["quote"] == {"state": "unauthorized", "quoted_status": None}


def test_given_a_quoted_post_when_deleted_then_the_quote_shows_deleted(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    original = alice.post_status("soon gone")
    quoting = _quote(bob, original).json()
    alice.delete(f"/api/v1/statuses/{original['id']}")
    shown = bob.get(f"/api/v1/statuses/{quoting['id']}").json()
    assert shown["quote"] == {"state": "deleted", "quoted_status": None}


def test_given_quote_policies_then_only_those_allowed_may_quote(roost: Roost) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    closed = alice.post_status("nobody quotes this", quote_approval_policy="nobody")
    friends = alice.post_status("followers may", quote_approval_policy="followers")
    bob.follow(alice)
    assert closed["quote_approval"]["automatic"] == []
    assert closed["quote_approval"]["current_user"] == "automatic"  # its author
    assert bob.get(f"/api/v1/statuses/{closed['id']}").json()["quote_approval"] == {
        "automatic": [],
        "manual": [],
        "current_user": "denied",
    }
    refused = _quote(bob, closed)
    assert refused.status_code == 403 and "error" in refused.json()
    assert _quote(alice, closed).status_code == 200
    assert carol.get(f"/api/v1/statuses/{friends['id']}").json()["quote_approval"] == {
        "automatic": ["followers"],
        "manual": [],
        "current_user": "denied",
    }
    assert _quote(carol, friends).status_code == 403
    assert _quote(bob, friends).status_code == 200
    assert (
        alice.post(
            "/api/v1/statuses", json={"status": "x", "quote_approval_policy": "everyone"}
        ).status_code
        == 422
    )

    opened = alice.put(
        f"/api/v1/statuses/{closed['id']}/interaction_policy",
        json={"quote_approval_policy": "public"},
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["quote_approval"]["automatic"] == ["public"]
    assert _quote(carol, closed).status_code == 200
    not_hers = bob.put(
        f"/api/v1/statuses/{closed['id']}/interaction_policy",
        json={"quote_approval_policy": "nobody"},
    )
    assert not_hers.status_code == 403


def test_given_followers_only_posts_when_quoted_then_only_their_author_may_and_it_stays_private(
    roost: Roost,
) -> None:
    alice, bob, stranger = (roost.account(n) for n in ("alice", "bob", "stranger"))
    bob.follow(alice)
    private = alice.post_status("between us", visibility="private")
    assert private["quote_approval"]["automatic"] == []
    assert _quote(bob, private).status_code == 403
    assert _quote(stranger, private).status_code == 404
    own = _quote(alice, private, "me again", visibility="public").json()
    assert own["visibility"] == "private"
    direct = alice.post_status("to bob", visibility="direct", mentions=[])
    assert _quote(alice, direct).status_code == 403


def test_given_a_quote_when_the_quoted_author_revokes_it_then_it_shows_revoked(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    original = alice.post_status("mine")
    quoting = _quote(bob, original).json()
    path = f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke"
    assert carol.post(path).status_code == 403
    assert bob.post(path).status_code == 403
    wrong = alice.post(f"/api/v1/statuses/{original['id']}/quotes/4242424242/revoke")
    assert wrong.status_code == 404
    revoked = alice.post(path)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["id"] == quoting["id"]
    assert revoked.json()["quote"] == {"state": "revoked", "quoted_status": None}
    assert carol.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"]["state"] == "revoked"
    assert carol.get(f"/api/v1/statuses/{original['id']}").json()["quotes_count"] == 0


def test_given_quotes_of_a_post_when_listed_then_only_visible_accepted_ones(
    roost: Roost,
) -> None:
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    original = alice.post_status("quote me")
    first = _quote(bob, original, "one").json()
    hidden = _quote(carol, original, "two", visibility="private").json()
    listed = dave.get(f"/api/v1/statuses/{original['id']}/quotes")
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [first["id"]]
    mine = carol.get(f"/api/v1/statuses/{original['id']}/quotes").json()
    assert [s["id"] for s in mine] == [hidden["id"], first["id"]]
    assert roost.client.get(f"/api/v1/statuses/{original['id']}/quotes").status_code == 401


def test_given_a_quoted_post_when_edited_then_each_quoter_hears_of_each_edit(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    original = alice.post_status("first words")
    quoting = _quote(bob, original).json()
    roost.drain_jobs()
    alice.put(f"/api/v1/statuses/{original['id']}", json={"status": "second words"})
    roost.drain_jobs()
    alice.put(f"/api/v1/statuses/{original['id']}", json={"status": "third words"})
    roost.drain_jobs()
    told = _types(bob, "quoted_update")
    assert [(n["account"]["id"], n["status"]["id"]) for n in told] == [
        (alice.id, quoting["id"]),
        (alice.id, quoting["id"]),
    ]
    assert told[0]["status"]["quote"]["quoted_status"]["content"] == "<p>third words</p>"
    edited = bob.put(f"/api/v1/statuses/{quoting['id']}", json={"status": "quoting still"})
    assert edited.json()["content"].startswith('<p class="quote-inline">')


def test_given_a_quote_of_a_quote_then_the_inner_quote_is_named_not_shown(roost: Roost) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    original = alice.post_status("root")
    middle = _quote(bob, original).json()
    outer = _quote(carol, middle).json()
    inner = outer["quote"]["quoted_status"]
    assert inner["id"] == middle["id"]
    assert inner["quote"] == {"state": "accepted", "quoted_status_id": original["id"]}
    assert json.dumps(outer).count('"content": "<p>root</p>"') == 0


def test_given_the_instance_then_it_reports_the_api_version_of_quotes(roost: Roost) -> None:
    v2 = roost.client.get("/api/v2/instance").json()
    assert v2["api_versions"]["mastodon"] >= 7
    assert v2["version"].startswith("4.5.")
