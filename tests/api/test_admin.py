"""The admin API for suspensions: /api/v1/admin/accounts, staff only (the other
actions: tests/api/test_admin_accounts.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Roost, User

ADMIN_SCOPES = "read write follow admin:read admin:write"


def ids(items: list[dict[str, Any]]) -> list[Any]:
    return [item["id"] for item in items]


def staff(roost: Roost, name: str = "staff", scopes: str = ADMIN_SCOPES) -> User:
    return roost.account(name, admin=True, scopes=scopes)


def counts(roost: Roost, user: User) -> tuple[int, int]:
    shown = roost.client.get(f"/api/v1/accounts/{user.id}").json()
    return shown["followers_count"], shown["following_count"]


def suspend(admin: User, target: User, **extra: str) -> Any:
    return admin.post(
        f"/api/v1/admin/accounts/{target.id}/action", data={"type": "suspend", **extra}
    )


def test_given_staff_when_they_suspend_an_account_then_its_posts_vanish_and_follows_stop_counting(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    admin = staff(roost)
    bob.follow(alice)
    alice.follow(bob)
    carol.follow(alice)
    bob.get("/api/v1/timelines/home")  # cached on the Redis store, fed by fan-out
    post = alice.post_status("soon gone #moderation")
    roost.drain_jobs()
    assert post["id"] in ids(bob.get("/api/v1/timelines/home").json())
    assert counts(roost, bob) == (1, 1) and counts(roost, carol) == (0, 1)

    answer = suspend(admin, alice, text="spam")
    roost.drain_jobs()

    assert answer.status_code == 200 and answer.json() == {}
    for viewer in (bob, carol):
        assert post["id"] not in ids(viewer.get("/api/v1/timelines/home").json())
        assert viewer.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    anonymous = roost.client
    assert post["id"] not in ids(anonymous.get("/api/v1/timelines/public").json())
    assert post["id"] not in ids(anonymous.get("/api/v1/timelines/tag/moderation").json())
    assert anonymous.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert anonymous.get(f"/api/v1/accounts/{alice.id}").status_code == 404
    assert bob.get(f"/api/v1/accounts/{alice.id}/statuses").status_code == 404
    # Their follows stop counting on both ends.
    assert counts(roost, bob) == (0, 0) and counts(roost, carol) == (0, 0)
    # Their tokens stop working.
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 401
    # Staff still see what they moderate, where they look for it; not mixed
    # into what they read.
    assert post["id"] not in ids(admin.get("/api/v1/timelines/public").json())
    assert post["id"] not in ids(admin.get("/api/v1/timelines/tag/moderation").json())
    seen = admin.get(f"/api/v1/admin/accounts/{alice.id}").json()
    assert seen["suspended"] is True and seen["account"]["id"] == alice.id
    assert seen["account"]["suspended"] is True
    assert ids(admin.get(f"/api/v1/accounts/{alice.id}/statuses").json()) == [post["id"]]
    assert admin.get(f"/api/v1/statuses/{post['id']}").status_code == 200

    lifted = admin.post(f"/api/v1/admin/accounts/{alice.id}/unsuspend")
    roost.drain_jobs()

    assert lifted.status_code == 200 and lifted.json()["suspended"] is False
    assert "suspended" not in lifted.json()["account"]
    assert counts(roost, bob) == (1, 1) and counts(roost, carol) == (0, 1)
    assert counts(roost, alice) == (2, 1)
    assert post["id"] in ids(bob.get("/api/v1/timelines/home").json())
    assert post["id"] in ids(anonymous.get("/api/v1/timelines/public").json())
    assert anonymous.get(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/{id}"), ("POST", "/{id}/action"), ("POST", "/{id}/unsuspend")],
)
def test_given_no_admin_or_no_admin_scope_when_calling_the_admin_api_then_403_before_anything(
    roost: Roost, method: str, suffix: str
) -> None:
    alice = roost.account("alice")
    not_staff = roost.account("bob", scopes=ADMIN_SCOPES)
    unscoped = staff(roost, "staff", scopes="read write follow")
    for target in (alice.id, "4242424242"):  # an account, and an id nobody has
        path = "/api/v1/admin/accounts" + suffix.replace("{id}", target)
        kwargs: dict[str, Any] = {"data": {"type": "suspend"}} if method == "POST" else {}
        for who in (not_staff, unscoped):
            response = roost.client.request(method, path, headers=who.headers, **kwargs)
            assert response.status_code == 403, (who.username, path, response.text)
            assert set(response.json()) == {"error"}
        assert roost.client.request(method, path, **kwargs).status_code == 401
    assert roost.client.get(f"/api/v1/accounts/{alice.id}").status_code == 200


def test_given_staff_when_the_action_is_unknown_then_422_and_none_is_accepted(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)
    path = f"/api/v1/admin/accounts/{alice.id}/action"
    supported = "none, sensitive, disable, silence, suspend"

    unknown_type = admin.post(path, data={"type": "frobnicate"})
    missing = admin.post(path, data={})
    none = admin.post(path, data={"type": "none", "text": "a warning"})

    assert unknown_type.status_code == 422 and supported in unknown_type.json()["error"]
    assert "frobnicate" in unknown_type.json()["error"]
    assert missing.status_code == 422 and supported in missing.json()["error"]
    assert none.status_code == 200 and none.json() == {}
    assert admin.get(f"/api/v1/admin/accounts/{alice.id}").json()["suspended"] is False
    unknown = admin.post("/api/v1/admin/accounts/4242424242/action", data={"type": "suspend"})
    assert unknown.status_code == 404
    assert admin.get("/api/v1/admin/accounts/4242424242").status_code == 404


def test_given_staff_when_suspending_twice_or_lifting_what_is_not_suspended_then_mastodon_answers(
    roost: Roost,
) -> None:
    alice, admin, other_admin = roost.account("alice"), staff(roost), staff(roost, "staff2")

    assert admin.post(f"/api/v1/admin/accounts/{alice.id}/unsuspend").status_code == 403
    assert suspend(admin, alice).status_code == 200
    assert suspend(admin, alice).status_code == 200  # already: nothing to do
    # An administrator is not suspended through the API (nor are you).
    for target in (other_admin, admin):
        refused = suspend(admin, target)
        assert refused.status_code == 403 and "roost accounts suspend" in refused.json()["error"]
    assert admin.get(f"/api/v1/admin/accounts/{other_admin.id}").json()["suspended"] is False


def test_given_accounts_when_staff_list_them_then_filters_and_paging_work(roost: Roost) -> None:
    people = [roost.account(n) for n in ("ann", "anna", "bert", "carl")]
    admin = staff(roost)
    suspend(admin, people[1])
    everyone = [admin.id, *[p.id for p in people][::-1]]

    listed = admin.get("/api/v1/admin/accounts").json()
    suspended = admin.get("/api/v1/admin/accounts", params={"status": "suspended"}).json()
    v1_suspended = admin.get("/api/v1/admin/accounts", params={"suspended": "true"}).json()
    active = admin.get("/api/v1/admin/accounts", params={"status": "active"}).json()
    named = admin.get("/api/v1/admin/accounts", params={"username": "AN"}).json()
    both = admin.get("/api/v1/admin/accounts", params={"username": "an", "status": "active"})
    remote = admin.get("/api/v1/admin/accounts", params={"remote": "true"}).json()
    bad = admin.get("/api/v1/admin/accounts", params={"status": "frozen"})

    assert ids(listed) == everyone
    shape = listed[0]
    assert shape["role"]["name"] == "Owner" and shape["email"] == "staff@example.org"
    assert shape["account"]["username"] == "staff" and shape["domain"] is None
    assert ids(suspended) == ids(v1_suspended) == [people[1].id]
    assert ids(active) == [i for i in everyone if i != people[1].id]
    assert ids(named) == [people[1].id, people[0].id]
    assert ids(both.json()) == [people[0].id]
    assert remote == []
    supported = "active, pending, disabled, silenced, suspended"
    assert bad.status_code == 422 and supported in bad.json()["error"]
    first = admin.get("/api/v1/admin/accounts", params={"limit": 2})
    assert ids(first.json()) == everyone[:2] and 'rel="next"' in first.headers["Link"]
    rest = admin.get("/api/v1/admin/accounts", params={"max_id": everyone[1]}).json()
    assert ids(rest) == everyone[2:]


def test_given_an_app_when_it_registers_admin_scopes_then_they_are_accepted(roost: Roost) -> None:
    response = roost.client.post(
        "/api/v1/apps",
        data={
            "client_name": "Moderation",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read admin:read:accounts admin:write:accounts",
        },
    )
    assert response.status_code == 200, response.text
    assert {"admin:read:accounts", "admin:write:accounts"} <= set(response.json()["scopes"])


def test_given_staff_who_follow_a_suspended_account_then_their_home_and_lists_leave_it_out(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    admin = staff(roost)
    admin.follow(alice)
    made = admin.post("/api/v1/lists", json={"title": "watch"})
    assert made.status_code == 200, made.text
    list_id = made.json()["id"]
    added = admin.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [alice.id]})
    assert added.status_code == 200, added.text
    admin.get("/api/v1/timelines/home")  # cached on the Redis store, fed by fan-out
    admin.get(f"/api/v1/timelines/list/{list_id}")
    post = alice.post_status("read, then moderated")
    roost.drain_jobs()
    assert post["id"] in ids(admin.get("/api/v1/timelines/home").json())
    assert post["id"] in ids(admin.get(f"/api/v1/timelines/list/{list_id}").json())

    assert suspend(admin, alice).status_code == 200
    roost.drain_jobs()

    assert post["id"] not in ids(admin.get("/api/v1/timelines/home").json())
    assert post["id"] not in ids(admin.get(f"/api/v1/timelines/list/{list_id}").json())
    assert admin.get(f"/api/v1/statuses/{post['id']}").status_code == 200
