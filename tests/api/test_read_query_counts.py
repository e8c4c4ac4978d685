"""The read routes ask the database a bounded number of times, whatever the
size of what they answer: no query per post, per ancestor or per level of
replies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
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
        # The page, its accounts and (on SQLite) the index's reads are
        # prepared; the page's facts (polls, quotes, moves of authors) and, on
        # PostgreSQL, the index's one full-text query go through SQLAlchemy.
        index_query = 0 if roost.db.is_sqlite or "search" not in path else 1
        assert many_core <= 1 + index_query, path
    notified = alice.get("/api/v1/notifications?limit=40").json()
    assert len(notified) == 40
    assert {n["account"]["username"] for n in notified} == {"bob", "carol"}
    found = alice.get("/api/v2/search?type=statuses&q=garden&limit=40").json()["statuses"]
    assert [s["id"] for s in found] == posts[::-1][:40]


def test_given_a_search_of_posts_when_run_then_no_connection_is_checked_out_on_sqlite(
    roost: Roost,
) -> None:
    # Given posts found by their words, one through an interaction
    if not roost.db.is_sqlite:
        pytest.skip("on PostgreSQL the index's full-text query goes through SQLAlchemy")
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    liked = alice.post_status("a garden in spring")
    bob.post_status("my garden in autumn")
    assert bob.post(f"/api/v1/statuses/{liked['id']}/favourite").status_code == 200
    roost.drain_jobs()
    path = "/api/v2/search?type=statuses&q=garden"
    bob.get(path)
    checkouts: list[object] = []

    def on_checkout(*args: Any) -> None:
        checkouts.append(args)

    # When bob searches posts
    event.listen(roost.db.engine.sync_engine, "checkout", on_checkout)
    try:
        with counted(roost) as seen:
            response = bob.get(path)
    finally:
        event.remove(roost.db.engine.sync_engine, "checkout", on_checkout)

    # Then both are found by prepared reads alone, no connection checked out
    assert response.status_code == 200, response.text
    assert len(response.json()["statuses"]) == 2
    assert [s for s in seen if s != "prepared"] == []
    assert checkouts == []
