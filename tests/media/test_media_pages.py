"""An account's posts with media (``only_media``): the page's work is bounded
by that account's posts, never by every attachment on the server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from roost.clock import utcnow
from roost.db.tables import media_attachments, statuses
from roost.domain.types import Visibility
from roost.ids import id_for_time
from tests.conftest import Roost, User


def _media_posts(roost: Roost, author: int, count: int, *, hours_ago: float) -> list[int]:
    """``count`` public posts by ``author`` with one ready image each, a
    second apart, written straight into the tables (thousands through the
    API would take minutes)."""
    start = utcnow() - timedelta(hours=hours_ago)
    posts: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    for n in range(count):
        moment = start + timedelta(seconds=n)
        post_id = id_for_time(moment, 2 * n)
        posts.append(
            {
                "id": post_id,
                "account_id": author,
                "visibility": int(Visibility.PUBLIC),
                "text": f"a picture {n}",
                "content": f"<p>a picture {n}</p>",
                "spoiler_text": "",
                "sensitive": False,
                "created_at": moment,
            }
        )
        media.append(
            {
                "id": id_for_time(moment, 2 * n + 1),
                "account_id": author,
                "status_id": post_id,
                "position": 0,
                "type": "image",
                "state": "ready",
                "content_type": "image/png",
                "file_key": f"bulk/{author}/{n}.png",
                "file_size": 100,
                "meta": {},
                "created_at": moment,
            }
        )

    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.conn.execute(insert(statuses), posts)
            await tx.conn.execute(insert(media_attachments), media)

    roost.run(write)
    return [p["id"] for p in posts]


def _page(user: User, reader: User) -> list[int]:
    answer = reader.get(f"/api/v1/accounts/{user.id}/statuses", params={"only_media": "true"})
    assert answer.status_code == 200, answer.text
    return [int(p["id"]) for p in answer.json()]


def _steps(roost: Roost, user: User, reader: User) -> int:
    """SQLite virtual machine steps (in hundreds) of the prepared reads of
    reading ``user``'s media page."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    async def connection() -> Any:
        async with roost.db.scope() as reads:
            return reads.fast._sqlite()

    conn = roost.run(connection)
    conn.set_progress_handler(count, 100)
    try:
        _page(user, reader)
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_given_many_pictures_by_others_when_an_account_media_page_is_read_then_work_stays(
    roost: Roost,
) -> None:
    # Given alice's 30 pictures, and 300 by others posted since.
    alice, bob, reader = (roost.account(n) for n in ("alice", "bob", "reader"))
    mine = _media_posts(roost, int(alice.id), 30, hours_ago=40)
    alice.post_status("words, no picture")
    _media_posts(roost, int(bob.id), 300, hours_ago=30)
    first = _page(alice, reader)
    small = _steps(roost, alice, reader)
    # When others post ten times as many pictures.
    _media_posts(roost, int(bob.id), 3000, hours_ago=20)
    # Then alice's media page is the same, and reading it takes about the
    # same work (with every attachment a candidate, it read all of them).
    assert first == _page(alice, reader) == sorted(mine, reverse=True)[:20]
    assert _steps(roost, alice, reader) < 2 * small + 20


def test_given_pictures_and_words_when_the_media_page_is_read_then_only_pictures_come(
    roost: Roost,
) -> None:
    # Given alice's posts with and without a picture, and bob's pictures.
    alice, bob, reader = (roost.account(n) for n in ("alice", "bob", "reader"))
    mine = _media_posts(roost, int(alice.id), 3, hours_ago=3)
    alice.post_status("words only")
    _media_posts(roost, int(bob.id), 5, hours_ago=2)
    # When the reader asks for alice's media page.
    # Then only alice's posts with a picture come, newest first.
    assert _page(alice, reader) == sorted(mine, reverse=True)
