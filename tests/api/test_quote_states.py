"""Quote posts, per viewer and per author: the state a quote shows each
viewer (blocked, muted, hidden, deleted), and an account's default quote
policy (``source[quote_policy]``) for posts that name none."""

from __future__ import annotations

from typing import Any

from roost.clock import utcnow
from roost.db.tables import spam_holds
from roost.domain.graph.counts import do_suspend
from roost.domain.privacy import hidden_by_own_block
from tests.conftest import Roost, User


def _quote(user: User, quoted: dict[str, Any], text: str = "look", **fields: Any) -> Any:
    return user.post(
        "/api/v1/statuses", json={"status": text, "quoted_status_id": quoted["id"], **fields}
    )


def test_given_a_quote_when_the_viewer_blocks_the_quoted_author_then_it_shows_blocked_account(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    original = alice.post_status("something carol would rather not read")
    quoting = _quote(bob, original, "plain words").json()
    assert carol.post(f"/api/v1/accounts/{alice.id}/block").status_code == 200
    shown = carol.get(f"/api/v1/statuses/{quoting['id']}").json()
    assert shown["quote"] == {"state": "blocked_account", "quoted_status": None}
    assert original["id"] not in carol.get(f"/api/v1/statuses/{quoting['id']}").text
    # The other way round the quoted author hides the post: unauthorized.
    assert alice.post(f"/api/v1/accounts/{bob.id}/block").status_code == 200
    dave = roost.account("dave")
    assert alice.post(f"/api/v1/accounts/{dave.id}/block").status_code == 200
    again = _quote(roost.account("erin"), original, "more").json()
    as_dave = dave.get(f"/api/v1/statuses/{again['id']}").json()
    assert as_dave["quote"] == {"state": "unauthorized", "quoted_status": None}
    # Unblocking brings the quote back.
    carol.post(f"/api/v1/accounts/{alice.id}/unblock")
    back = carol.get(f"/api/v1/statuses/{quoting['id']}").json()
    assert back["quote"]["state"] == "accepted"
    assert back["quote"]["quoted_status"]["id"] == original["id"]


def test_given_a_quote_of_a_private_post_when_the_viewer_blocks_its_author_then_unauthorized(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    bob.follow(alice)
    private = alice.post_status("followers only", visibility="private")
    alice.put(
        f"/api/v1/statuses/{private['id']}/interaction_policy",
        json={"quote_approval_policy": "followers"},
    )
    own = _quote(alice, private, "my own quote", visibility="private").json()
    carol.post(f"/api/v1/accounts/{alice.id}/block")
    # carol could not see the post without the block either: nothing more is said.
    assert carol.get(f"/api/v1/statuses/{own['id']}").status_code == 404


def test_given_a_quote_when_the_viewer_mutes_the_quoted_author_then_it_shows_muted_account(
    roost: Roost,
) -> None:
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    original = alice.post_status("loud words")
    quoting = _quote(bob, original).json()
    outer = _quote(dave, quoting).json()
    assert carol.post(f"/api/v1/accounts/{alice.id}/mute").status_code == 200
    shown = carol.get(f"/api/v1/statuses/{quoting['id']}").json()
    assert shown["quote"]["state"] == "muted_account"
    assert shown["quote"]["quoted_status"]["id"] == original["id"]
    nested = carol.get(f"/api/v1/statuses/{outer['id']}").json()["quote"]["quoted_status"]
    assert nested["quote"] == {"state": "muted_account", "quoted_status_id": original["id"]}
    as_dave = dave.get(f"/api/v1/statuses/{quoting['id']}").json()
    assert as_dave["quote"]["state"] == "accepted"
    carol.post(f"/api/v1/accounts/{alice.id}/unmute")
    assert carol.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"]["state"] == "accepted"


def test_given_a_default_quote_policy_then_new_posts_without_one_take_it(roost: Roost) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    bob.follow(alice)
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["source"]["quote_policy"] == "public"
    assert alice.get("/api/v1/preferences").json()["posting:default:quote_policy"] == "public"
    changed = alice.patch(
        "/api/v1/accounts/update_credentials", data={"source[quote_policy]": "followers"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["source"]["quote_policy"] == "followers"
    assert alice.get("/api/v1/preferences").json()["posting:default:quote_policy"] == "followers"

    post = alice.post_status("followers may quote this")
    assert post["quote_approval"]["automatic"] == ["followers"]
    assert _quote(carol, post).status_code == 403
    assert _quote(bob, post).status_code == 200
    named = alice.post_status("anyone may", quote_approval_policy="public")
    assert named["quote_approval"]["automatic"] == ["public"]
    assert _quote(carol, named).status_code == 200

    wrong = alice.patch(
        "/api/v1/accounts/update_credentials", data={"source[quote_policy]": "everyone"}
    )
    assert wrong.status_code == 422 and "error" in wrong.json()
    still = alice.get("/api/v1/accounts/verify_credentials").json()
    assert still["source"]["quote_policy"] == "followers"


def test_given_a_default_of_nobody_then_only_the_author_may_quote_new_posts(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.patch("/api/v1/accounts/update_credentials", json={"source": {"quote_policy": "nobody"}})
    post = alice.post_status("closed by default")
    assert post["quote_approval"] == {"automatic": [], "manual": [], "current_user": "automatic"}
    assert _quote(bob, post).status_code == 403
    assert _quote(alice, post).status_code == 200


def test_given_a_quote_when_viewer_and_quoted_author_block_each_other_then_unauthorized(
    roost: Roost,
) -> None:
    """The author's block wins: the viewer is not told it is their own."""
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    original = alice.post_status("not for carol")
    quoting = _quote(bob, original).json()
    assert carol.post(f"/api/v1/accounts/{alice.id}/block").status_code == 200
    assert alice.post(f"/api/v1/accounts/{carol.id}/block").status_code == 200

    shown = carol.get(f"/api/v1/statuses/{quoting['id']}").json()

    assert shown["quote"] == {"state": "unauthorized", "quoted_status": None}


def test_given_a_quote_when_the_blocked_quoted_author_is_suspended_then_unauthorized(
    roost: Roost,
) -> None:
    """A suspended account's posts are hidden from everyone: a viewer who
    also blocks it is not told that their block is why."""
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    original = alice.post_status("soon suspended")
    quoting = _quote(bob, original).json()
    assert carol.post(f"/api/v1/accounts/{alice.id}/block").status_code == 200

    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_suspend(tx, int(alice.id))

    roost.run(suspend)
    shown = carol.get(f"/api/v1/statuses/{quoting['id']}").json()

    assert shown["quote"] == {"state": "unauthorized", "quoted_status": None}


def test_given_posts_of_a_blocked_account_then_only_those_asked_about_are_answered(
    roost: Roost,
) -> None:
    alice, carol = roost.account("alice"), roost.account("carol")
    first, second = alice.post_status("one"), alice.post_status("two")
    assert carol.post(f"/api/v1/accounts/{alice.id}/block").status_code == 200

    async def ask() -> set[int]:
        async with roost.db.read() as conn:
            return await hidden_by_own_block(conn, int(carol.id), [int(first["id"])])

    assert roost.run(ask) == {int(first["id"])}
    assert int(second["id"]) not in roost.run(ask)


def test_given_a_quote_of_a_post_held_as_spam_then_others_see_it_unauthorized(
    roost: Roost,
) -> None:
    """Hidden for a reason of its own, not a block of the viewer's: the quote
    does not say blocked_account."""
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    original = alice.post_status("cheap watches")
    quoting = _quote(bob, original).json()

    async def hold() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                spam_holds.insert().values(
                    status_id=int(original["id"]),
                    account_id=int(alice.id),
                    cluster_id=1,
                    held_at=utcnow(),
                )
            )

    roost.run(hold)
    shown = carol.get(f"/api/v1/statuses/{quoting['id']}").json()

    assert shown["quote"] == {"state": "unauthorized", "quoted_status": None}
