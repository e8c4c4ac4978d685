"""A silenced account is heard only by those who follow it: its posts leave the
public, local and hashtag timelines, trends and search for everyone else, it
is not proposed in account search or the directory, and its notifications to
accounts that do not follow it are held back. Its posts stay readable on its
profile and by link, as on Mastodon; lifting the silence restores the rest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from roost.domain.trends.queries import forget_ranked
from tests.api.test_admin import ids, staff
from tests.conftest import Roost, User


@pytest.fixture(autouse=True)
def _fresh_ranking() -> Iterator[None]:
    forget_ranked()
    yield
    forget_ranked()


def silence(admin: User, target: User) -> None:
    answer = admin.post(f"/api/v1/admin/accounts/{target.id}/action", data={"type": "silence"})
    assert answer.status_code == 200, answer.text


def unsilence(admin: User, target: User) -> None:
    answer = admin.post(f"/api/v1/admin/accounts/{target.id}/unsilence")
    assert answer.status_code == 200, answer.text


def timelines(who: Any) -> dict[str, list[Any]]:
    get = who.get
    return {
        "public": ids(get("/api/v1/timelines/public").json()),
        "local": ids(get("/api/v1/timelines/public", params={"local": "true"}).json()),
        "tag": ids(get("/api/v1/timelines/tag/herons").json()),
    }


def found(who: Any, text: str) -> tuple[list[Any], list[Any]]:
    answer = who.get("/api/v2/search", params={"q": text, "resolve": "false"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return ids(body["statuses"]), [a["username"] for a in body["accounts"]]


def test_given_a_silenced_account_then_strangers_no_longer_come_across_its_posts(
    roost: Roost,
) -> None:
    admin = staff(roost)
    loud, follower, stranger = (roost.account(n) for n in ("loudmouth", "follower", "stranger"))
    follower.follow(loud)
    # Following someone else does not let the stranger hear the silenced one.
    stranger.follow(follower)
    post = loud.post_status("herons everywhere #herons")
    roost.drain_jobs()
    anonymous = roost.client
    for who in (anonymous, stranger, follower):
        assert all(post["id"] in shown for shown in timelines(who).values())

    silence(admin, loud)
    roost.drain_jobs()

    for who in (anonymous, stranger, admin):
        assert all(post["id"] not in shown for shown in timelines(who).values()), who
    # Those who follow it still hear it, and it hears itself.
    assert all(post["id"] in shown for shown in timelines(follower).values())
    assert all(post["id"] in shown for shown in timelines(loud).values())
    assert post["id"] in ids(follower.get("/api/v1/timelines/home").json())
    # Its posts stay readable on its profile and by link.
    for who in (anonymous, stranger):
        assert who.get(f"/api/v1/statuses/{post['id']}").status_code == 200
        assert post["id"] in ids(who.get(f"/api/v1/accounts/{loud.id}/statuses").json())
    assert stranger.get(f"/api/v1/accounts/{loud.id}").status_code == 200

    unsilence(admin, loud)
    for who in (anonymous, stranger):
        assert all(post["id"] in shown for shown in timelines(who).values())


def test_given_one_silenced_account_then_strangers_still_come_across_everyone_else(
    roost: Roost,
) -> None:
    """Silencing is about that account: the others' posts stay discoverable."""
    admin = staff(roost)
    loud, quiet, stranger = (roost.account(n) for n in ("loudmouth", "quiet", "stranger"))
    post = quiet.post_status("herons at dawn #herons")
    silence(admin, loud)
    roost.drain_jobs()
    for who in (roost.client, stranger):
        for name, seen in timelines(who).items():
            assert post["id"] in seen, (name, who)


def test_given_a_silenced_account_then_search_finds_it_only_for_its_followers(
    roost: Roost,
) -> None:
    admin = staff(roost)
    loud, follower, stranger = (roost.account(n) for n in ("loudheron", "follower", "stranger"))
    indexable = loud.patch("/api/v1/accounts/update_credentials", data={"indexable": "true"})
    assert indexable.status_code == 200
    follower.follow(loud)
    post = loud.post_status("the grey heron fishes")
    roost.drain_jobs()
    assert found(stranger, "heron fishes")[0] == [post["id"]]
    assert "loudheron" in found(stranger, "loudh")[1]

    silence(admin, loud)
    roost.drain_jobs()

    assert found(stranger, "heron fishes")[0] == []
    assert found(follower, "heron fishes")[0] == [post["id"]]
    # Not proposed by a prefix; its exact name still finds it.
    assert "loudheron" not in found(stranger, "loudh")[1]
    assert "loudheron" in found(follower, "loudh")[1]
    assert "loudheron" in found(stranger, "loudheron")[1]
    directory = stranger.get("/api/v1/directory", params={"local": "true"}).json()
    assert loud.id not in ids(directory)


def test_given_a_silenced_account_then_its_activity_never_trends(roost: Roost) -> None:
    admin = staff(roost)
    people = [roost.account(n) for n in ("ann", "bert")]  # two accounts: it may trend
    for user in people:
        user.post_status("dawn at the lake #Herons")
    review = admin.get("/api/v1/admin/trends/tags").json()
    assert [t["name"] for t in review] == ["Herons"]

    silence(admin, people[0])
    forget_ranked()

    assert admin.get("/api/v1/admin/trends/tags").json() == []  # one account alone never trends


def test_given_a_silenced_account_then_its_notifications_to_strangers_are_held_back(
    roost: Roost,
) -> None:
    admin = staff(roost)
    loud, friend, stranger = (roost.account(n) for n in ("loud", "friend", "stranger"))
    friend.follow(loud)
    silence(admin, loud)

    loud.post_status("@stranger @friend hello both")
    loud.follow(stranger)
    roost.drain_jobs()

    heard = [n["type"] for n in friend.get("/api/v1/notifications").json()]
    held = [n["type"] for n in stranger.get("/api/v1/notifications").json()]
    assert heard == ["mention"]
    assert held == []
    requests = stranger.get("/api/v1/notifications/requests").json()
    assert [r["account"]["id"] for r in requests] == [loud.id]
    # Its own strike still reaches it, never held back.
    assert "moderation_warning" in [n["type"] for n in loud.get("/api/v1/notifications").json()]


def test_given_a_silenced_reporter_then_staff_still_hear_of_the_report(roost: Roost) -> None:
    admin = staff(roost)
    reporter, reported = roost.account("reporter"), roost.account("reported")
    silence(admin, reporter)

    filed = reporter.post("/api/v1/reports", data={"account_id": reported.id, "comment": "x"})
    assert filed.status_code == 200, filed.text
    roost.drain_jobs()

    told = admin.get("/api/v1/notifications", params={"types[]": "admin.report"}).json()
    assert [n["report"]["id"] for n in told] == [filed.json()["id"]]


def test_given_a_silenced_author_then_both_spellings_of_heard_keep_their_posts_for_followers_only(
    roost: Roost,
) -> None:
    # Given a silenced author followed by one account, and another author
    from roost.domain import privacy
    from roost.domain.types import Viewer

    admin = staff(roost)
    loud, follower, stranger = (roost.account(n) for n in ("loudheron", "follower", "stranger"))
    quiet = roost.account("quietheron")
    follower.follow(loud)
    asked = [
        int(quiet.post_status("first")["id"]),
        int(loud.post_status("second")["id"]),
        int(quiet.post_status("third")["id"]),
    ]
    silence(admin, loud)

    # When search keeps the posts each viewer may come across, by the
    # SQLAlchemy query and by the prepared read
    async def heard(account_id: int) -> tuple[list[int], list[int]]:
        viewer = Viewer(account_id=account_id)
        async with roost.db.read() as conn:
            by_query = await privacy.heard_status_ids(conn, viewer, asked)
        by_read = await privacy.heard_status_ids_read(roost.db.fast, viewer, asked)
        return by_query, by_read

    # Then both keep the order asked, and the silenced post for its follower only
    assert roost.run(lambda: heard(int(follower.id))) == (asked, asked)
    without = [asked[0], asked[2]]
    assert roost.run(lambda: heard(int(stranger.id))) == (without, without)
    assert roost.run(lambda: privacy.heard_status_ids_read(roost.db.fast, Viewer(None), [])) == []


def test_given_a_suspended_account_then_the_prepared_account_read_lists_only_those_asked_and_shown(
    roost: Roost,
) -> None:
    # Given three accounts, one of them suspended by staff
    from roost.domain import privacy
    from roost.domain.types import Viewer

    admin = staff(roost)
    shown, gone, other = (roost.account(n) for n in ("shown", "gone", "other"))
    stranger = roost.account("stranger")
    answer = admin.post(f"/api/v1/admin/accounts/{gone.id}/action", data={"type": "suspend"})
    assert answer.status_code == 200, answer.text

    # When a stranger's page asks for two of them by id
    async def listed() -> list[int]:
        found, moves = await privacy.listed_accounts_by_ids(
            roost.db.fast, Viewer(account_id=int(stranger.id)), [int(shown.id), int(gone.id)]
        )
        assert moves == {}  # neither moved
        return sorted(int(v.value["id"]) for v in found)

    # Then only the one asked for and not suspended comes back (not the other)
    assert roost.run(listed) == [int(shown.id)]
    assert int(other.id) not in roost.run(listed)


def test_given_a_moved_account_then_the_prepared_account_read_names_where_it_went(
    roost: Roost,
) -> None:
    # Given alice, who moved to alice2, and bob, who did not
    from roost.domain import privacy
    from roost.domain.types import Viewer
    from tests.api.test_account_moves import PASSWORD

    alice, alice2, bob = (roost.account(n) for n in ("alice", "alice2", "bob"))
    stranger = roost.account("stranger")
    assert alice2.post("/api/v1/roost/aliases", json={"acct": "alice"}).status_code == 200
    moved = alice.post("/api/v1/roost/account/move", json={"acct": "alice2", "password": PASSWORD})
    assert moved.status_code == 200, moved.text
    roost.drain_jobs()

    # When a page asks for all three by id
    async def listed() -> tuple[list[int], dict[int, int]]:
        found, moves = await privacy.listed_accounts_by_ids(
            roost.db.fast,
            Viewer(account_id=int(stranger.id)),
            [int(alice.id), int(alice2.id), int(bob.id)],
        )
        return sorted(int(v.value["id"]) for v in found), moves

    # Then all three are listed, and only alice's move is named, by her id
    found, moves = roost.run(listed)
    assert found == sorted([int(alice.id), int(alice2.id), int(bob.id)])
    assert moves == {int(alice.id): int(alice2.id)}
