"""Lists: the owner's own, members they follow, a timeline, replies and exclusivity."""

from __future__ import annotations

from typing import Any

from tests.conftest import Roost, User


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def _new_list(user: User, title: str = "Friends", **fields: Any) -> dict[str, Any]:
    response = user.post("/api/v1/lists", json={"title": title, **fields})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_given_a_list_when_created_changed_and_deleted_then_each_step_shows(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    made = _new_list(alice, "Friends")
    assert made["replies_policy"] == "list" and made["exclusive"] is False
    changed = alice.put(
        f"/api/v1/lists/{made['id']}",
        data={"title": "Close friends", "replies_policy": "followed", "exclusive": "true"},
    ).json()
    assert changed == {
        **made,
        "title": "Close friends",
        "replies_policy": "followed",
        "exclusive": True,
    }
    assert alice.get("/api/v1/lists").json() == [changed]
    assert alice.delete(f"/api/v1/lists/{made['id']}").json() == {}
    assert alice.get(f"/api/v1/lists/{made['id']}").status_code == 404


def test_given_bad_input_when_creating_then_422_and_unknown_lists_404(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    assert alice.post("/api/v1/lists", json={"title": "  "}).status_code == 422
    assert alice.post("/api/v1/lists", json={"title": "a\x00b"}).status_code == 422
    bad_policy = alice.post("/api/v1/lists", json={"title": "x", "replies_policy": "all"})
    assert bad_policy.status_code == 422
    mine = _new_list(alice)
    for path in (
        f"/api/v1/lists/{mine['id']}",
        f"/api/v1/lists/{mine['id']}/accounts",
        f"/api/v1/timelines/list/{mine['id']}",
        "/api/v1/lists/123",
        "/api/v1/lists/x",
    ):
        assert bob.get(path).status_code == 404, path
    assert bob.delete(f"/api/v1/lists/{mine['id']}").status_code == 404
    assert alice.get(f"/api/v1/lists/{mine['id']}").status_code == 200


def test_given_members_then_only_followed_accounts_join_and_the_timeline_shows_them(
    roost: Roost,
) -> None:
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    alice.follow(bob)
    alice.follow(carol)
    friends = _new_list(alice)
    path = f"/api/v1/lists/{friends['id']}/accounts"
    assert alice.post(path, data={"account_ids[]": [dave.id]}).status_code == 404
    assert alice.post(path, data={"account_ids[]": [bob.id]}).json() == {}
    assert alice.post(path, json={"account_ids": [bob.id]}).status_code == 422
    assert [a["id"] for a in alice.get(path).json()] == [bob.id]
    in_list = bob.post_status("from bob")
    carol.post_status("from carol")
    dave.post_status("from dave")
    assert _ids(alice.get(f"/api/v1/timelines/list/{friends['id']}")) == [in_list["id"]]
    lists_of_bob = alice.get(f"/api/v1/accounts/{bob.id}/lists").json()
    assert [entry["id"] for entry in lists_of_bob] == [friends["id"]]
    # Unfollowing takes bob out of alice's lists.
    alice.post(f"/api/v1/accounts/{bob.id}/unfollow")
    assert alice.get(path).json() == []
    assert _ids(alice.get(f"/api/v1/timelines/list/{friends['id']}")) == []


def test_given_each_replies_policy_then_the_list_shows_those_replies(roost: Roost) -> None:
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    for other in (bob, carol, dave):
        alice.follow(other)
    parent_carol = carol.post_status("carol asks")
    parent_dave = dave.post_status("dave asks")
    stranger = roost.account("erin").post_status("erin asks")
    thread = bob.post_status("bob starts")
    to_carol = bob.post_status("to carol", in_reply_to_id=parent_carol["id"])
    to_dave = bob.post_status("to dave", in_reply_to_id=parent_dave["id"])
    to_erin = bob.post_status("to erin", in_reply_to_id=stranger["id"])
    own_thread = bob.post_status("bob continues", in_reply_to_id=thread["id"])
    seen: dict[str, list[str]] = {}
    for policy in ("followed", "list", "none"):
        made = _new_list(alice, policy, replies_policy=policy)
        alice.post(
            f"/api/v1/lists/{made['id']}/accounts", data={"account_ids[]": [bob.id, carol.id]}
        )
        seen[policy] = _ids(alice.get(f"/api/v1/timelines/list/{made['id']}"))
    assert seen["followed"] == [
        own_thread["id"],
        to_dave["id"],
        to_carol["id"],
        thread["id"],
        parent_carol["id"],
    ]
    assert seen["list"] == [own_thread["id"], to_carol["id"], thread["id"], parent_carol["id"]]
    assert seen["none"] == [own_thread["id"], thread["id"], parent_carol["id"]]
    assert all(to_erin["id"] not in ids for ids in seen.values())


def test_given_an_exclusive_list_then_its_members_leave_home(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    alice.follow(carol)
    from_bob = bob.post_status("bob here")
    from_carol = carol.post_status("carol here")
    mine = alice.post_status("alice here")
    made = _new_list(alice, "Bob only", exclusive=True)
    alice.post(f"/api/v1/lists/{made['id']}/accounts", data={"account_ids[]": [bob.id]})
    assert _ids(alice.get("/api/v1/timelines/home")) == [mine["id"], from_carol["id"]]
    assert _ids(alice.get(f"/api/v1/timelines/list/{made['id']}")) == [from_bob["id"]]
    alice.put(f"/api/v1/lists/{made['id']}", json={"exclusive": False})
    assert _ids(alice.get("/api/v1/timelines/home")) == [
        mine["id"],
        from_carol["id"],
        from_bob["id"],
    ]


def test_given_a_private_post_by_a_member_then_the_policy_still_decides(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob", locked=True)
    alice.follow(bob)  # a request only: bob is locked
    made = _new_list(alice)
    added = alice.post(f"/api/v1/lists/{made['id']}/accounts", data={"account_ids[]": [bob.id]})
    assert added.status_code == 404  # not followed yet
    bob.post(f"/api/v1/follow_requests/{alice.id}/authorize")
    alice.post(f"/api/v1/lists/{made['id']}/accounts", data={"account_ids[]": [bob.id]})
    secret = bob.post_status("followers only", visibility="private")
    assert _ids(alice.get(f"/api/v1/timelines/list/{made['id']}")) == [secret["id"]]
    bob.post(f"/api/v1/accounts/{alice.id}/remove_from_followers")
    assert _ids(alice.get(f"/api/v1/timelines/list/{made['id']}")) == []
