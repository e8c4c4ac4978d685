"""The read routes ask the database a bounded number of times, whatever the
size of what they answer: no query per post, per ancestor or per level of
replies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from roost.db.fastread import FastReader
from tests.conftest import Roost, User


@contextmanager
def counted(roost: Roost) -> Iterator[list[str]]:
    """Every statement run while inside: through SQLAlchemy and as prepared reads."""
    seen: list[str] = []
    engine = roost.db.engine.sync_engine

    def on_execute(*args: Any) -> None:
        seen.append(str(args[2]))

    plain_all = FastReader.all

    async def counting_all(self: FastReader, prepared: Any, **kwargs: Any) -> Any:
        seen.append("prepared")
        return await plain_all(self, prepared, **kwargs)

    event.listen(engine, "before_cursor_execute", on_execute)
    FastReader.all = counting_all  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        FastReader.all = plain_all  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", on_execute)


@contextmanager
def checkouts(roost: Roost) -> Iterator[list[object]]:
    """Every SQLAlchemy connection checked out of the pool while inside."""
    seen: list[object] = []

    def on_checkout(*args: Any) -> None:
        seen.append(args)

    event.listen(roost.db.engine.sync_engine, "checkout", on_checkout)
    try:
        yield seen
    finally:
        event.remove(roost.db.engine.sync_engine, "checkout", on_checkout)


def _statements(roost: Roost, user: User, path: str) -> int:
    user.get(path)  # caches warm, as on a running server
    with counted(roost) as seen:
        response = user.get(path)
    assert response.status_code == 200, response.text
    return len(seen)


def _chain(author: User, other: User, root_id: str, depth: int) -> list[str]:
    ids = [root_id]
    for n in range(depth):
        who = author if n % 2 else other
        name = other.username if who is author else author.username
        ids.append(who.post_status(f"@{name} reply {n}", in_reply_to_id=ids[-1])["id"])
    return ids


def test_given_threads_of_3_and_of_24_replies_when_context_is_asked_then_the_same_number_of_queries(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    short = _chain(alice, bob, alice.post_status("a short thread")["id"], 3)
    long = _chain(alice, bob, alice.post_status("a long thread")["id"], 24)
    roost.drain_jobs()

    middle_short = _statements(roost, alice, f"/api/v1/statuses/{short[2]}/context")
    middle_long = _statements(roost, alice, f"/api/v1/statuses/{long[12]}/context")

    assert middle_long == middle_short
    context = alice.get(f"/api/v1/statuses/{long[12]}/context").json()
    assert [s["id"] for s in context["ancestors"]] == long[:12]
    assert [s["id"] for s in context["descendants"]] == long[13:]


def test_given_many_posts_when_pages_of_5_and_40_are_read_then_the_same_number_of_queries(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    posts = [alice.post_status(f"post {n} #garden")["id"] for n in range(45)]
    for post in posts[::3]:
        bob.post(f"/api/v1/statuses/{post}/favourite")
        bob.post(f"/api/v1/statuses/{post}/bookmark")
    roost.drain_jobs()

    for path in (
        f"/api/v1/accounts/{alice.id}/statuses",
        f"/api/v1/accounts/{alice.id}/statuses?exclude_replies=true",
        "/api/v1/timelines/tag/garden",
        "/api/v1/favourites",
        "/api/v1/bookmarks",
    ):
        few = _statements(roost, bob, f"{path}{'&' if '?' in path else '?'}limit=5")
        many = _statements(roost, bob, f"{path}{'&' if '?' in path else '?'}limit=40")
        assert many == few, path
        assert many <= 8, path
    page = bob.get(f"/api/v1/accounts/{alice.id}/statuses?limit=40").json()
    assert [s["id"] for s in page] == posts[::-1][:40]


def test_given_pages_without_polls_quotes_or_moves_when_read_then_no_connection_is_checked_out(
    roost: Roost,
) -> None:
    # A page's facts (polls, quotes, moves) are a prepared read; SQLAlchemy's
    # connection (on PostgreSQL a checkout, its check, a transaction and its
    # rollback) is opened only when they name something more to read.
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    post = alice.post_status("a plain post #garden")["id"]
    alice.post_status("a reply", in_reply_to_id=post)
    bob.post(f"/api/v1/statuses/{post}/favourite")
    roost.drain_jobs()

    for path in (
        "/api/v1/timelines/home",
        f"/api/v1/accounts/{alice.id}/statuses",
        f"/api/v1/statuses/{post}/context",
        "/api/v1/timelines/tag/garden",
        "/api/v1/favourites",
    ):
        bob.get(path)
        with counted(roost) as seen:
            response = bob.get(path)
        assert response.status_code == 200, response.text
        assert response.json(), path
        assert [s for s in seen if s != "prepared"] == [], path


def _through_sqlalchemy(roost: Roost, user: User, path: str) -> tuple[int, int]:
    """(every statement, those through SQLAlchemy's execution) of one read."""
    user.get(path)
    with counted(roost) as seen:
        response = user.get(path)
    assert response.status_code == 200, response.text
    return len(seen), sum(1 for s in seen if s != "prepared" and s != "BEGIN")


def test_given_many_notifications_and_matches_when_pages_of_5_and_40_are_read_then_prepared_reads(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    posts = [alice.post_status(f"garden post {n}")["id"] for n in range(45)]
    for n, post in enumerate(posts):
        (bob if n % 2 else carol).post(f"/api/v1/statuses/{post}/favourite")
    alice.post(f"/api/v1/statuses/{posts[3]}/bookmark")
    roost.drain_jobs()

    for path in ("/api/v1/notifications", "/api/v2/search?type=statuses&q=garden"):
        few, _ = _through_sqlalchemy(roost, alice, f"{path}{'&' if '?' in path else '?'}limit=5")
        many, many_core = _through_sqlalchemy(
            roost, alice, f"{path}{'&' if '?' in path else '?'}limit=40"
        )
        assert many == few, path
        # The page, its accounts, its posts and their facts, and the index's
        # reads (FTS5 on SQLite, the full-text query on PostgreSQL) are all
        # prepared reads.
        assert many_core == 0, path
    notified = alice.get("/api/v1/notifications?limit=40").json()
    assert len(notified) == 40
    assert {n["account"]["username"] for n in notified} == {"bob", "carol"}
    found = alice.get("/api/v2/search?type=statuses&q=garden&limit=40").json()["statuses"]
    assert [s["id"] for s in found] == posts[::-1][:40]


def test_given_a_search_of_posts_when_run_then_no_connection_is_checked_out(
    roost: Roost,
) -> None:
    # Given posts found by their words, one through an interaction
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    liked = alice.post_status("a garden in spring")
    bob.post_status("my garden in autumn")
    assert bob.post(f"/api/v1/statuses/{liked['id']}/favourite").status_code == 200
    roost.drain_jobs()
    path = "/api/v2/search?type=statuses&q=garden"
    bob.get(path)

    # When bob searches posts
    with checkouts(roost) as checked_out, counted(roost) as seen:
        response = bob.get(path)

    # Then both are found by prepared reads alone (on PostgreSQL the index's
    # full-text query too), no connection checked out
    assert response.status_code == 200, response.text
    assert len(response.json()["statuses"]) == 2
    assert [s for s in seen if s != "prepared"] == []
    assert checked_out == []


def _notified(roost: Roost) -> tuple[User, str]:
    """alice's favourites, boosts, mentions (one in a followers-only post, one
    a reply), a follow and a post by someone she is subscribed to; and
    notifications from a muted and from a blocked account, and about a post
    she may no longer see (its id returned), that she is not shown."""
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    dave, erin, frank = roost.account("dave"), roost.account("erin"), roost.account("frank")
    muted, blocked = roost.account("muted"), roost.account("blocked")
    alice.follow(dave)
    for subscribed in (carol, frank):
        answer = alice.post(f"/api/v1/accounts/{subscribed.id}/follow", json={"notify": True})
        assert answer.status_code == 200, answer.text
    post = alice.post_status("a garden in spring")
    bob.post(f"/api/v1/statuses/{post['id']}/favourite")
    carol.post(f"/api/v1/statuses/{post['id']}/reblog")
    dave.post_status("@alice between us", visibility="private")
    bob.post_status("@alice lovely", in_reply_to_id=post["id"])
    carol.post_status("something new")
    erin.follow(alice)
    muted.post(f"/api/v1/statuses/{post['id']}/favourite")
    blocked.post_status("@alice hey")
    gone = frank.post_status("for my followers", visibility="private")
    roost.drain_jobs()
    roost.drain_jobs()
    assert alice.post(f"/api/v1/accounts/{muted.id}/mute").status_code == 200
    assert alice.post(f"/api/v1/accounts/{blocked.id}/block").status_code == 200
    assert alice.post(f"/api/v1/accounts/{frank.id}/unfollow").status_code == 200
    return alice, gone["id"]


_SHOWN = [
    ("favourite", "bob"),
    ("follow", "erin"),
    ("mention", "bob"),
    ("mention", "dave"),
    ("reblog", "carol"),
    ("status", "carol"),
]


def test_given_common_notifications_when_read_then_no_connection_is_checked_out(
    roost: Roost,
) -> None:
    # Given notifications of every common kind, and some alice is not shown
    alice, gone = _notified(roost)
    alice.get("/api/v1/notifications")  # caches warm, as on a running server

    # When alice reads her notifications
    with checkouts(roost) as checked_out, counted(roost) as seen:
        response = alice.get("/api/v1/notifications")

    # Then those she may see are there, read by prepared reads alone
    assert response.status_code == 200, response.text
    notified = response.json()
    assert sorted((n["type"], n["account"]["username"]) for n in notified) == _SHOWN
    assert gone not in {(n.get("status") or {}).get("id") for n in notified}
    assert [s for s in seen if s != "prepared"] == []
    # Five: the page; its posts; the parent one replies to; the accounts (the
    # senders with the posts' mentions, and their moves); the posts' facts.
    assert len(seen) <= 5, seen
    assert checked_out == []


def test_given_common_notifications_when_grouped_then_no_connection_is_checked_out(
    roost: Roost,
) -> None:
    # Given notifications of every common kind, and some alice is not shown
    alice, gone = _notified(roost)
    alice.get("/api/v2/notifications")

    # When alice reads them grouped
    with checkouts(roost) as checked_out, counted(roost) as seen:
        response = alice.get("/api/v2/notifications")

    # Then the same are there, one group each, read by prepared reads alone
    assert response.status_code == 200, response.text
    data = response.json()
    names = {a["id"]: a["username"] for a in data["accounts"]}
    groups = data["notification_groups"]
    assert sorted((g["type"], names[g["sample_account_ids"][0]]) for g in groups) == _SHOWN
    assert all(g["notifications_count"] == 1 for g in groups)
    assert gone not in {s["id"] for s in data["statuses"]}
    assert [s for s in seen if s != "prepared"] == []
    # The senders come with the posts' mentions, not in a read of their own.
    assert len(seen) <= 8, seen
    assert checked_out == []
