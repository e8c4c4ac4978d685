"""Mastodon.py walking home and public timelines page by page, the way an app
scrolls down (Link rel=next, max_id) and loads newer posts (rel=prev, min_id)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients.conftest import LiveServer, Person

pytestmark = pytest.mark.clients

POSTS = 45
PAGE = 10


def _ids(page: Any) -> list[str]:
    return [str(s["id"]) for s in page]


def _post_many(writer: Person, count: int) -> list[str]:
    """Post ``count`` statuses; returns their ids newest first."""
    return [str(writer.api.status_post(f"post number {n}")["id"]) for n in range(count)][::-1]


@pytest.fixture(scope="module")
def followed_writer(live_server: LiveServer) -> tuple[Person, Person, list[str]]:
    reader, writer = live_server.people("reader", "writer")
    reader.api.account_follow(writer.id)
    return reader, writer, _post_many(writer, POSTS)


def test_given_45_posts_when_home_is_walked_with_next_links_then_every_post_comes_once_newest_first(
    followed_writer: tuple[Person, Person, list[str]],
) -> None:
    reader, _, expected = followed_writer

    pages = [reader.api.timeline_home(limit=PAGE)]
    while (following := reader.api.fetch_next(pages[-1])) is not None and following:
        pages.append(following)

    seen = [i for page in pages for i in _ids(page)]
    assert seen == expected
    assert [len(p) for p in pages] == [10, 10, 10, 10, 5]


def test_given_a_page_deep_in_home_when_walking_back_with_prev_links_then_it_meets_the_top(
    followed_writer: tuple[Person, Person, list[str]],
) -> None:
    reader, _, expected = followed_writer
    page = reader.api.timeline_home(limit=PAGE, max_id=expected[29])
    assert _ids(page) == expected[30:40]

    walked_back = []
    while (newer := reader.api.fetch_previous(page)) is not None and newer:
        walked_back.append(_ids(newer))
        page = newer

    assert walked_back == [expected[20:30], expected[10:20], expected[0:10]]


def test_given_a_read_home_when_the_writer_posts_again_then_prev_from_the_top_returns_only_that(
    live_server: LiveServer,
) -> None:
    reader, writer = live_server.people("catchup_reader", "catchup_writer")
    reader.api.account_follow(writer.id)
    _post_many(writer, 3)
    top = reader.api.timeline_home(limit=PAGE)

    fresh = writer.api.status_post("news just in")

    newer = reader.api.fetch_previous(top)
    assert newer is not None
    assert _ids(newer) == [str(fresh["id"])]
    assert reader.api.timeline_home(since_id=fresh["id"]) == []


def test_given_many_public_posts_when_walked_with_max_id_then_no_gaps_no_duplicates_newest_first(
    live_server: LiveServer, followed_writer: tuple[Person, Person, list[str]]
) -> None:
    """The public timeline also holds other tests' posts: the writer's posts must
    appear in order, whole, and every page must continue where the last ended."""
    reader, _, expected = followed_writer

    seen: list[str] = []
    page = reader.api.timeline_public(limit=PAGE)
    while page:
        seen += _ids(page)
        page = reader.api.timeline_public(limit=PAGE, max_id=seen[-1])

    assert len(seen) == len(set(seen)), "a post came twice"
    assert seen == sorted(seen, key=int, reverse=True), "not newest first"
    assert [i for i in seen if i in set(expected)] == expected
    anonymous = live_server.client().timeline_public(limit=40)
    assert _ids(anonymous) == seen[:40]


def test_given_a_person_when_their_own_posts_are_paged_then_the_pages_join_up(
    followed_writer: tuple[Person, Person, list[str]],
) -> None:
    reader, writer, expected = followed_writer

    first = reader.api.account_statuses(writer.id, limit=20)
    second = reader.api.fetch_next(first)
    third = reader.api.fetch_next(second)

    assert _ids(first) + _ids(second) + _ids(third) == expected
