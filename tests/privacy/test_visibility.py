"""Who sees which post: followers-only, direct, unlisted, boosts, replies,
suspended accounts. A post one may not see answers 404, never 403."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from roost.clock import utcnow
from roost.db.fastread import IdList, id_list
from roost.db.tables import spam_holds, statuses
from roost.domain.graph.counts import do_suspend, do_unsuspend
from roost.domain.privacy import PolicyRead, Visible, hidden_by_own_block, visible_status_ids
from roost.domain.types import Viewer
from roost.visibility import Visibility
from tests.conftest import Roost, User

# Every route that names a post in its path, with its method.
STATUS_ROUTES = [
    ("GET", ""),
    ("GET", "/context"),
    ("GET", "/history"),
    ("GET", "/source"),
    ("GET", "/favourited_by"),
    ("GET", "/reblogged_by"),
    ("POST", "/favourite"),
    ("POST", "/unfavourite"),
    ("POST", "/bookmark"),
    ("POST", "/unbookmark"),
    ("POST", "/reblog"),
    ("POST", "/unreblog"),
    ("POST", "/mute"),
    ("POST", "/unmute"),
    ("POST", "/pin"),
    ("DELETE", ""),
    ("PUT", ""),
]


def ids(items: list[dict[str, object]]) -> list[object]:
    return [item["id"] for item in items]


def assert_hidden(roost: Roost, status_id: str, *viewers: User | None) -> None:
    """Every route about the post answers 404 to each viewer (None: anonymous)."""
    for viewer in viewers:
        for method, suffix in STATUS_ROUTES:
            path = f"/api/v1/statuses/{status_id}{suffix}"
            headers = viewer.headers if viewer is not None else {}
            kwargs = {"json": {"status": "edited"}} if method == "PUT" else {}
            response = roost.client.request(method, path, headers=headers, **kwargs)
            # Anonymous callers of routes that need an account are stopped first.
            expected = {401, 404} if viewer is None else {404}
            assert response.status_code in expected, (method, path, response.status_code)
            assert status_id not in response.text


def cleared(roost: Roost, viewer: User | None, *post_ids: str) -> set[int]:
    """Of ``post_ids``, those the policy itself clears for ``viewer`` (None:
    anonymous), asked directly rather than through a route."""

    async def ask() -> set[int]:
        who = Viewer(account_id=int(viewer.id) if viewer is not None else None)
        async with roost.db.read() as conn:
            return await visible_status_ids(conn, who, [int(i) for i in post_ids])

    return roost.run(ask)


def suspend(roost: Roost, user: User, suspended: bool = True) -> None:
    async def change() -> None:
        async with roost.db.write() as tx:
            if suspended:
                await do_suspend(tx, int(user.id))
            else:
                await do_unsuspend(tx, int(user.id))

    roost.run(change)


def test_given_a_followers_only_post_then_approved_followers_and_mentioned_see_it(
    roost: Roost,
) -> None:
    alice = roost.account("alice", locked=True)
    follower, pending, mentioned, stranger = (
        roost.account(name) for name in ("follower", "pending", "mentioned", "stranger")
    )
    follower.follow(alice)
    alice.post(f"/api/v1/follow_requests/{follower.id}/authorize")
    pending.follow(alice)  # asked, never approved

    post = alice.post_status("for my people, and @mentioned", visibility="private")

    for viewer in (alice, follower, mentioned):
        assert viewer.get(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert post["id"] in ids(follower.get("/api/v1/timelines/home").json())
    assert post["id"] in ids(follower.get(f"/api/v1/accounts/{alice.id}/statuses").json())
    assert_hidden(roost, post["id"], None, pending, stranger)
    assert post["id"] not in ids(roost.client.get("/api/v1/timelines/public").json())
    assert ids(stranger.get(f"/api/v1/accounts/{alice.id}/statuses").json()) == []


def test_given_a_direct_post_then_only_the_mentioned_see_it(roost: Roost) -> None:
    alice, bob, follower = roost.account("alice"), roost.account("bob"), roost.account("f")
    follower.follow(alice)
    dm = alice.post_status("@bob just us", visibility="direct")
    assert bob.get(f"/api/v1/statuses/{dm['id']}").status_code == 200
    assert_hidden(roost, dm["id"], None, follower)
    assert dm["id"] not in follower.get("/api/v1/timelines/home").text


def test_given_an_unlisted_post_then_it_stays_off_public_and_tag_timelines_only(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    quiet = alice.post_status("quietly #topic", visibility="unlisted")
    for viewer in (None, bob):
        client_get = roost.client.get if viewer is None else viewer.get
        assert quiet["id"] not in ids(client_get("/api/v1/timelines/public").json())
        assert quiet["id"] not in ids(client_get("/api/v1/timelines/tag/topic").json())
        assert client_get(f"/api/v1/statuses/{quiet['id']}").status_code == 200
        assert quiet["id"] in ids(client_get(f"/api/v1/accounts/{alice.id}/statuses").json())
    assert quiet["id"] in ids(bob.get("/api/v1/timelines/home").json())


def test_given_followers_only_and_direct_posts_when_boosted_then_only_the_author_boosts_hers(
    roost: Roost,
) -> None:
    """As on Mastodon: a followers-only post may be boosted by its author alone
    (the boost stays followers-only); a direct post by nobody."""
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    private = alice.post_status("followers only", visibility="private")
    dm = alice.post_status("@bob direct", visibility="direct")
    for booster in (alice, bob):
        assert booster.post(f"/api/v1/statuses/{dm['id']}/reblog").status_code == 422
    assert bob.post(f"/api/v1/statuses/{private['id']}/reblog").status_code == 422
    own = alice.post(f"/api/v1/statuses/{private['id']}/reblog")
    assert own.status_code == 200 and own.json()["visibility"] == "private"
    who = alice.get(f"/api/v1/statuses/{private['id']}/reblogged_by").json()
    assert [a["id"] for a in who] == [alice.id]
    public = alice.post_status("public")
    refused = bob.post(f"/api/v1/statuses/{public['id']}/reblog", json={"visibility": "direct"})
    assert refused.status_code == 422


def test_given_a_private_boost_then_only_the_boosters_followers_see_the_boost(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    carol.follow(bob)
    public = alice.post_status("public")
    boost = bob.post(f"/api/v1/statuses/{public['id']}/reblog", json={"visibility": "private"})
    boost_id = boost.json()["id"]
    assert carol.get(f"/api/v1/statuses/{boost_id}").status_code == 200
    assert_hidden(roost, boost_id, None, alice)


def test_given_a_public_boost_of_a_followers_only_post_then_only_her_followers_see_it(
    roost: Roost,
) -> None:
    """A boost is shown only where its original may be: the boost's own row
    cannot vouch for it (a remote server's Announce says what it likes)."""
    # Given alice's followers-only post, boosted by her, the boost's own row
    # saying public
    alice, follower, stranger = (roost.account(n) for n in ("alice", "follower", "stranger"))
    follower.follow(alice)
    private = alice.post_status("followers only", visibility="private")
    boost = alice.post(f"/api/v1/statuses/{private['id']}/reblog").json()

    async def made_public() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                statuses.update()
                .where(statuses.c.id == int(boost["id"]))
                .values(visibility=int(Visibility.PUBLIC))
            )

    roost.run(made_public)

    # When the policy is asked about both
    both = (boost["id"], private["id"])

    # Then her follower sees both, and neither a stranger nor a visitor sees either
    assert cleared(roost, follower, *both) == {int(boost["id"]), int(private["id"])}
    assert cleared(roost, stranger, *both) == set()
    assert cleared(roost, None, *both) == set()


def test_given_a_blocked_authors_posts_then_only_the_public_ones_are_hidden_by_the_block_alone(
    roost: Roost,
) -> None:
    # Given bob, whom carol blocks, with a public, an unlisted and a
    # followers-only post
    bob, carol = roost.account("bob"), roost.account("carol")
    posts = {
        kind: int(bob.post_status(kind, visibility=kind)["id"])
        for kind in ("public", "unlisted", "private")
    }
    assert carol.post(f"/api/v1/accounts/{bob.id}/block").status_code == 200

    # When asked which of them carol misses only because of her own block
    async def own_block() -> set[int]:
        async with roost.db.read() as conn:
            return await hidden_by_own_block(conn, int(carol.id), posts.values())

    # Then the public and unlisted ones: the followers-only one was never hers
    assert roost.run(own_block) == {posts["public"], posts["unlisted"]}


def test_given_a_public_reply_to_a_hidden_post_then_the_parent_is_not_revealed(
    roost: Roost,
) -> None:
    alice = roost.account("alice", locked=True)
    friend, stranger = roost.account("friend"), roost.account("stranger")
    friend.follow(alice)
    alice.post(f"/api/v1/follow_requests/{friend.id}/authorize")
    secret = alice.post_status("secret plans", visibility="private")
    reply = friend.post_status("@alice count me in", in_reply_to_id=secret["id"])
    nested = friend.post_status("me too", in_reply_to_id=reply["id"])

    for viewer in (None, stranger):
        client_get = roost.client.get if viewer is None else viewer.get
        shown = client_get(f"/api/v1/statuses/{reply['id']}").json()
        assert shown["in_reply_to_id"] is None and shown["in_reply_to_account_id"] is None
        context = client_get(f"/api/v1/statuses/{nested['id']}/context").json()
        assert ids(context["ancestors"]) == [reply["id"]]
        assert secret["id"] not in client_get(f"/api/v1/statuses/{nested['id']}/context").text
        assert "secret plans" not in client_get("/api/v1/timelines/public").text
    assert_hidden(roost, secret["id"], None, stranger)
    # The follower sees the whole thread.
    full = friend.get(f"/api/v1/statuses/{nested['id']}/context").json()
    assert ids(full["ancestors"]) == [secret["id"], reply["id"]]
    assert friend.get(f"/api/v1/statuses/{reply['id']}").json()["in_reply_to_id"] == secret["id"]


def test_given_a_hidden_post_when_replied_to_by_a_stranger_then_404(roost: Roost) -> None:
    alice, stranger = roost.account("alice"), roost.account("stranger")
    secret = alice.post_status("only followers", visibility="private")
    response = stranger.post(
        "/api/v1/statuses", json={"status": "guess", "in_reply_to_id": secret["id"]}
    )
    assert response.status_code == 404
    assert stranger.get(f"/api/v1/accounts/{stranger.id}").json()["statuses_count"] == 0


def test_given_a_suspended_account_then_its_posts_and_profile_vanish_except_for_staff(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    staff = roost.account("staff", admin=True)
    bob.follow(alice)
    alice.follow(bob)
    post = alice.post_status("soon gone #tag")
    boost = bob.post(f"/api/v1/statuses/{post['id']}/reblog").json()

    suspend(roost, alice)

    assert_hidden(roost, post["id"], None, bob)
    assert bob.get(f"/api/v1/statuses/{boost['id']}").status_code == 404
    assert roost.client.get(f"/api/v1/accounts/{alice.id}").status_code == 404
    # Her posts' list is not there either, to anyone but staff.
    for reader in (bob, roost.client):
        assert reader.get(f"/api/v1/accounts/{alice.id}/statuses").status_code == 404
    assert post["id"] in ids(staff.get(f"/api/v1/accounts/{alice.id}/statuses").json())
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/tag"):
        assert post["id"] not in roost.client.get(path).text
    assert post["id"] not in bob.get("/api/v1/timelines/home").text
    assert staff.get(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert staff.get(f"/api/v1/accounts/{alice.id}").status_code == 200
    # ...but not mixed into what staff read (timeline_reader).
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/tag"):
        assert post["id"] not in ids(staff.get(path).json()), path
    # Their follows stop counting...
    me = bob.get("/api/v1/accounts/verify_credentials").json()
    assert me["followers_count"] == 0 and me["following_count"] == 0
    assert bob.get(f"/api/v1/accounts/{bob.id}/followers").json() == []

    suspend(roost, alice, suspended=False)

    # ...and count again when the suspension is lifted.
    me = bob.get("/api/v1/accounts/verify_credentials").json()
    assert me["followers_count"] == 1 and me["following_count"] == 1
    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 200


def test_given_code_outside_the_policy_when_it_clears_a_value_itself_then_it_is_refused() -> None:
    """Serializers accept only ``Visible``: if anyone could make one, a route
    could show a post without asking the policy."""
    with pytest.raises(TypeError, match=r"only roost\.domain\.privacy may clear"):
        Visible({"id": 1}, Viewer(account_id=None))
    with pytest.raises(TypeError):
        Visible({"id": 1}, Viewer(account_id=None), object())


def test_given_one_suspended_account_then_everyone_elses_posts_stay_visible(
    roost: Roost,
) -> None:
    """A suspension hides that account only: its neighbours' posts, profiles
    and timelines are untouched."""
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    bob.follow(carol)
    hidden = alice.post_status("soon gone")
    boost = bob.post(f"/api/v1/statuses/{hidden['id']}/reblog").json()
    post = carol.post_status("still here #tag")
    suspend(roost, alice)
    # A boost shows only if the very post it boosts does, not any other: in
    # the policy itself, not only in what the API builds around it.
    assert bob.get(f"/api/v1/statuses/{boost['id']}").status_code == 404

    assert cleared(roost, bob, boost["id"], post["id"]) == {int(post["id"])}
    assert boost["id"] not in ids(roost.client.get("/api/v1/timelines/public").json())
    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert roost.client.get(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert roost.client.get(f"/api/v1/accounts/{carol.id}").status_code == 200
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/tag"):
        assert post["id"] in ids(roost.client.get(path).json()), path
    assert post["id"] in ids(bob.get("/api/v1/timelines/home").json())


def test_given_a_post_held_as_spam_after_it_was_boosted_then_the_boost_is_hidden_too(
    roost: Roost,
) -> None:
    """A hold (roost/domain/spam) hides the post from all but its author, and a
    boost made before the hold must not carry it to anyone else."""
    spammer, booster, reader = (roost.account(n) for n in ("spammer", "booster", "reader"))
    reader.follow(booster)
    unasked = reader.post_status("visible to all, but not asked about")
    post = spammer.post_status("cheap watches")
    boost = booster.post(f"/api/v1/statuses/{post['id']}/reblog").json()

    async def hold() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                spam_holds.insert().values(
                    status_id=int(post["id"]),
                    account_id=int(spammer.id),
                    cluster_id=1,
                    held_at=utcnow(),
                )
            )

    roost.run(hold)
    for viewer in (reader, booster):
        assert viewer.get(f"/api/v1/statuses/{post['id']}").status_code == 404
        assert viewer.get(f"/api/v1/statuses/{boost['id']}").status_code == 404
        assert boost["id"] not in ids(viewer.get("/api/v1/timelines/home").json())
    assert roost.client.get(f"/api/v1/statuses/{boost['id']}").status_code == 404
    assert spammer.get(f"/api/v1/statuses/{post['id']}").status_code == 200

    # The policy alone hides the boost (not only the API's second look at the
    # boosted post): a link to it, say a reply's parent, is not named either.
    assert cleared(roost, reader, boost["id"], post["id"]) == set()
    # Its author still sees it, and so the boost of it (and only what was
    # asked about is answered).
    assert cleared(roost, spammer, boost["id"], post["id"]) == {int(post["id"]), int(boost["id"])}
    assert int(unasked["id"]) not in cleared(roost, spammer, boost["id"], post["id"])


def test_given_a_suspended_account_when_followed_or_unfollowed_then_counts_stay_right(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    suspend(roost, alice)
    assert bob.post(f"/api/v1/accounts/{alice.id}/unfollow").status_code == 404
    suspend(roost, alice, suspended=False)
    bob.post(f"/api/v1/accounts/{alice.id}/unfollow")
    assert bob.get("/api/v1/accounts/verify_credentials").json()["following_count"] == 0
    assert roost.client.get(f"/api/v1/accounts/{alice.id}").json()["followers_count"] == 0


def test_given_a_bookmarked_and_favourited_post_when_it_turns_invisible_then_lists_drop_it(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    private = alice.post_status("for followers", visibility="private")
    bob.post(f"/api/v1/statuses/{private['id']}/bookmark")
    bob.post(f"/api/v1/statuses/{private['id']}/favourite")
    assert ids(bob.get("/api/v1/bookmarks").json()) == [private["id"]]

    alice.post(f"/api/v1/accounts/{bob.id}/remove_from_followers")

    assert bob.get("/api/v1/bookmarks").json() == []
    assert bob.get("/api/v1/favourites").json() == []


def test_given_blocks_when_following_then_refused_across_a_block_either_way_and_only_there(
    roost: Roost,
) -> None:
    alice, bob, carol, dave, erin = (
        roost.account(n) for n in ("alice", "bob", "carol", "dave", "erin")
    )
    assert alice.post(f"/api/v1/accounts/{bob.id}/block").status_code == 200
    assert carol.post(f"/api/v1/accounts/{erin.id}/block").status_code == 200

    # Across a block, whoever made it: refused both ways.
    assert alice.post(f"/api/v1/accounts/{bob.id}/follow").status_code == 403
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 403
    # Someone's block of a third account refuses nobody else: not the one
    # who blocked following others, not others following the one blocked.
    assert alice.post(f"/api/v1/accounts/{dave.id}/follow").status_code == 200
    assert dave.post(f"/api/v1/accounts/{erin.id}/follow").status_code == 200
    assert erin.post(f"/api/v1/accounts/{dave.id}/follow").status_code == 200
    assert bob.post(f"/api/v1/accounts/{carol.id}/follow").status_code == 200


# A prepared read of the policy, built once here as modules build theirs.
_CREATED = PolicyRead(
    lambda viewer: select(statuses.c.id, statuses.c.created_at).where(id_list(statuses.c.id, "ids"))
)


def test_given_a_prepared_policy_read_then_its_rows_come_converted_unless_asked_raw(
    roost: Roost,
) -> None:
    # Given a public post
    alice = roost.account("alice")
    post = alice.post_status("a dated post")

    # When a reader asks for it through a prepared read, as callers do
    async def read(**raw: bool) -> list[Visible[tuple[object, ...]]]:
        return await _CREATED.rows(
            roost.db.fast, Viewer(account_id=None), ids=IdList([int(post["id"])]), **raw
        )

    # Then its date is a date, as SQLAlchemy would give it, unless raw was asked
    [row] = roost.run(read)
    created = row.value[1]
    assert isinstance(created, datetime) and created.tzinfo is not None
    assert created.isoformat()[:19] == post["created_at"][:19]
    [raw] = roost.run(lambda: read(raw=True))
    assert int(raw.value[0]) == int(post["id"])
