"""Directory, suggestions, featured tags, endorsements, familiar followers,
several accounts at once, and user domain blocks (Mastodon semantics)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from roost.db.tables import (
    account_domain_blocks,
    accounts,
    featured_accounts,
    featured_tags,
    suggestion_dismissals,
)
from roost.domain.discovery import suggestions
from tests.conftest import Roost


def _set(roost: Roost, account_id: str, **values: object) -> None:
    async def change() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(accounts).where(accounts.c.id == int(account_id)).values(**values)
            )

    roost.run(change)


def test_given_discoverable_accounts_when_the_directory_is_read_then_order_and_opt_out_hold(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    _set(roost, carol.id, discoverable=False)
    alice.post_status("an old post")
    bob.post_status("a newer post")
    roost.drain_jobs()

    active = roost.client.get("/api/v1/directory", params={"order": "active"}).json()
    assert [a["username"] for a in active] == ["bob", "alice"]
    new = roost.client.get("/api/v1/directory", params={"order": "new", "local": "true"}).json()
    assert [a["username"] for a in new] == ["bob", "alice"]
    page = roost.client.get("/api/v1/directory", params={"offset": 1, "limit": 1}).json()
    assert [a["username"] for a in page] == ["alice"]
    # A block hides either side from the other.
    alice.post(f"/api/v1/accounts/{bob.id}/block")
    assert [a["username"] for a in bob.get("/api/v1/directory").json()] == ["bob"]
    assert roost.client.get("/api/v1/directory", params={"order": "old"}).status_code == 422


def test_given_friends_of_friends_and_a_featured_account_then_both_are_suggested_until_dismissed(
    roost: Roost,
) -> None:
    me, friend, fof, star, hidden_friend, secret = (
        roost.account(n) for n in ("me", "friend", "fof", "star", "hider", "secret")
    )
    me.follow(friend)
    me.follow(hidden_friend)
    friend.follow(fof)
    _set(roost, hidden_friend.id, hide_collections=True)
    hidden_friend.follow(secret)  # must not be revealed through a suggestion

    fof_account = me.get(f"/api/v1/accounts/{fof.id}").json()
    assert me.get("/api/v2/suggestions").json() == [
        {"source": "past_interactions", "sources": ["friends_of_friends"], "account": fof_account}
    ]

    async def feature() -> None:
        async with roost.db.write() as tx:
            await suggestions.do_feature_account(tx, "star")

    roost.run(feature)
    v2 = me.get("/api/v2/suggestions").json()
    assert [(s["account"]["username"], s["source"], s["sources"]) for s in v2] == [
        ("star", "staff", ["featured"]),
        ("fof", "past_interactions", ["friends_of_friends"]),
    ]
    assert [a["username"] for a in me.get("/api/v1/suggestions").json()] == ["star", "fof"]
    # Never oneself, never someone already followed.
    assert [a["username"] for a in star.get("/api/v1/suggestions").json()] == []

    assert me.delete(f"/api/v1/suggestions/{star.id}").json() == {}
    assert [a["username"] for a in me.get("/api/v1/suggestions").json()] == ["fof"]
    me.follow(fof)
    assert me.get("/api/v1/suggestions").json() == []
    assert me.delete("/api/v1/suggestions/4242424242").status_code == 404


def test_given_tags_in_posts_when_featured_then_profiles_show_them_with_public_counts(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post_status("#Birds one")
    alice.post_status("#birds two")
    alice.post_status("#birds hidden", visibility="private")
    alice.post_status("#cats")
    roost.drain_jobs()

    suggested = alice.get("/api/v1/featured_tags/suggestions").json()
    assert [t["name"].lower() for t in suggested] == ["birds", "cats"]
    assert all(t["featuring"] is False for t in suggested)

    created = alice.post("/api/v1/featured_tags", json={"name": "#birds"})
    assert created.status_code == 200, created.text
    tag = created.json()
    assert tag["name"].lower() == "birds" and tag["statuses_count"] == "2"
    assert tag["last_status_at"] and len(tag["last_status_at"]) == 10
    assert alice.post("/api/v1/featured_tags", json={"name": "birds"}).json()["id"] == tag["id"]
    assert alice.post("/api/v1/featured_tags", json={"name": "not a tag!"}).status_code == 422

    shown = roost.client.get(f"/api/v1/accounts/{alice.id}/featured_tags").json()
    assert [t["id"] for t in shown] == [tag["id"]]
    assert [t["name"].lower() for t in alice.get("/api/v1/featured_tags/suggestions").json()] == [
        "cats"
    ]
    by_name = alice.post("/api/v1/tags/cats/feature").json()
    assert by_name["featuring"] is True and by_name["following"] is False
    assert len(alice.get("/api/v1/featured_tags").json()) == 2
    assert alice.post("/api/v1/tags/cats/unfeature").json()["featuring"] is False

    assert bob.delete(f"/api/v1/featured_tags/{tag['id']}").status_code == 404
    assert alice.delete(f"/api/v1/featured_tags/{tag['id']}").json() == {}
    assert alice.get("/api/v1/featured_tags").json() == []


def test_given_ten_featured_tags_then_an_eleventh_is_refused(roost: Roost) -> None:
    alice = roost.account("alice")
    for n in range(10):
        assert alice.post("/api/v1/featured_tags", json={"name": f"t{n}"}).status_code == 200
    eleventh = alice.post("/api/v1/featured_tags", json={"name": "t10"})
    assert eleventh.status_code == 422 and "10" in eleventh.json()["error"]


def test_given_an_endorsement_then_the_profile_lists_it_and_the_relationship_says_so(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    assert alice.post(f"/api/v1/accounts/{bob.id}/endorse").status_code == 422  # not followed
    alice.follow(bob)
    rel = alice.post(f"/api/v1/accounts/{bob.id}/endorse").json()
    assert rel["endorsed"] is True
    assert [a["id"] for a in carol.get(f"/api/v1/accounts/{alice.id}/endorsements").json()] == [
        bob.id
    ]
    assert [a["id"] for a in alice.get("/api/v1/endorsements").json()] == [bob.id]
    _set(roost, alice.id, hide_collections=True)
    assert carol.get(f"/api/v1/accounts/{alice.id}/endorsements").json() == []
    assert len(alice.get(f"/api/v1/accounts/{alice.id}/endorsements").json()) == 1
    assert alice.post(f"/api/v1/accounts/{bob.id}/unendorse").json()["endorsed"] is False
    assert alice.get("/api/v1/endorsements").json() == []


def test_given_follows_when_familiar_followers_and_many_accounts_are_asked_then_they_answer(
    roost: Roost,
) -> None:
    me, friend, shy, target, other = (
        roost.account(n) for n in ("me", "friend", "shy", "target", "other")
    )
    for followed in (friend, shy):
        me.follow(followed)
        followed.follow(target)
    _set(roost, shy.id, hide_collections=True)
    answer = me.get(
        "/api/v1/accounts/familiar_followers", params={"id[]": [target.id, other.id]}
    ).json()
    assert [(f["id"], [a["username"] for a in f["accounts"]]) for f in answer] == [
        (target.id, ["friend"]),
        (other.id, []),
    ]
    many = roost.client.get(
        "/api/v1/accounts", params={"id[]": [other.id, "4242424242", target.id]}
    ).json()
    assert [a["username"] for a in many] == ["other", "target"]


def test_given_domain_blocks_then_they_are_stored_normalised_and_listed(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    assert alice.get("/api/v1/domain_blocks").json() == []
    assert alice.post("/api/v1/domain_blocks", data={"domain": "Spam.Example."}).json() == {}
    assert alice.post("/api/v1/domain_blocks", json={"domain": "bücher.example"}).json() == {}
    assert alice.post("/api/v1/domain_blocks", json={"domain": "spam.example"}).status_code == 200
    assert alice.get("/api/v1/domain_blocks").json() == ["xn--bcher-kva.example", "spam.example"]
    assert bob.get("/api/v1/domain_blocks").json() == []
    for bad in ("", "no_dots", "a..b", "-x.example"):
        assert alice.post("/api/v1/domain_blocks", json={"domain": bad}).status_code == 422
    assert alice.delete("/api/v1/domain_blocks", params={"domain": "spam.example"}).json() == {}
    assert alice.get("/api/v1/domain_blocks").json() == ["xn--bcher-kva.example"]
    assert alice.get("/api/v1/domain_blocks", params={"limit": 1}).headers.get("Link")


def test_given_discovery_rows_on_both_sides_when_an_account_is_erased_then_none_remain(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post_status("#erasable words")
    alice.post("/api/v1/featured_tags", json={"name": "erasable"})
    alice.post("/api/v1/domain_blocks", json={"domain": "spam.example"})
    alice.delete(f"/api/v1/suggestions/{bob.id}")
    bob.delete(f"/api/v1/suggestions/{alice.id}")

    async def feature() -> None:
        async with roost.db.write() as tx:
            await suggestions.do_feature_account(tx, "alice")

    roost.run(feature)
    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    live = {k: v for k, v in erased.json()["scan"].items() if k != "backups"}
    assert all(not hits for hits in live.values()), live

    async def remaining() -> list[int]:
        async with roost.db.read() as conn:
            counts = []
            for table in (featured_tags, featured_accounts, suggestion_dismissals):
                query = select(func.count()).select_from(table)
                counts.append(int((await conn.execute(query)).scalar_one()))
            domains = select(func.count()).select_from(account_domain_blocks)
            counts.append(int((await conn.execute(domains)).scalar_one()))
            return counts

    assert roost.run(remaining) == [0, 0, 0, 0]
    assert bob.get("/api/v1/suggestions").json() == []
