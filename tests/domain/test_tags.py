"""One hashtag, however it is typed and whichever path brings it in: a post,
an imported archive, a follow (roost/domain/tags/lookup.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from roost.db.tables import followed_tags, status_tags, tags
from roost.domain.statuses.actions import NewStatus, do_create_status
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Viewer
from tests.conftest import Roost, User
from tests.importers.builder import ArchiveBuilder
from tests.importers.conftest import count, rows, run_import

FULL_WIDTH_CAFE = "\uff23\uff21\uff26\uff25"  # CAFE in full-width letters
COMBINING_CAFE = "cafe\u0301"  # é written as e and a combining acute accent


def _tag_rows(roost: Roost) -> list[dict[str, Any]]:
    return rows(roost, select(tags).order_by(tags.c.id))


def test_given_names_typed_differently_then_their_keys_are_one() -> None:
    assert tag_key(FULL_WIDTH_CAFE) == tag_key("#Cafe ") == tag_key("cafe") == "cafe"
    assert tag_key(COMBINING_CAFE) == tag_key("Café") == "café"
    assert tag_key("not-a-tag") is None and tag_key("") is None
    for name in (FULL_WIDTH_CAFE, COMBINING_CAFE, "İstanbul", "Straße"):
        key = tag_key(name)
        assert key is not None and tag_key(key) == key


def test_given_one_tag_typed_three_ways_when_posted_imported_and_followed_then_it_is_one_tag(
    roost: Roost, tmp_path: Path
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    posted = alice.post_status(f"Morning #{FULL_WIDTH_CAFE}")
    archive = ArchiveBuilder()
    archive.tweet("An old one about #Cafe")
    run_import(roost, alice, archive.write_folder(tmp_path / "archive"))
    assert bob.post("/api/v1/tags/cafe/follow").status_code == 200
    roost.drain_jobs()

    found = _tag_rows(roost)
    assert [t["name_key"] for t in found] == ["cafe"]
    tag_id = found[0]["id"]
    assert count(roost, status_tags, status_tags.c.tag_id == tag_id) == 2
    assert count(roost, followed_tags, followed_tags.c.tag_id == tag_id) == 1
    timeline = bob.get("/api/v1/timelines/tag/CAFE").json()
    assert len(timeline) == 2 and timeline[0]["id"] == posted["id"]


def test_given_a_tag_with_an_accent_when_followed_with_a_combining_accent_then_it_is_that_tag(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("Lunch at the #café")
    followed = bob.post(f"/api/v1/tags/{quote(COMBINING_CAFE)}/follow")
    assert followed.status_code == 200, followed.text
    roost.drain_jobs()

    assert [t["name_key"] for t in _tag_rows(roost)] == ["café"]
    assert [s["id"] for s in bob.get("/api/v1/timelines/home").json()] == [post["id"]]


def test_given_two_spellings_of_one_tag_in_a_post_then_it_carries_the_tag_once(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    post = alice.post_status(f"#{FULL_WIDTH_CAFE} or #cafe")
    assert [t["name"] for t in post["tags"]] == ["cafe"]
    assert len(_tag_rows(roost)) == 1


def _write_posts(roost: Roost, writers: list[User], text: str) -> None:
    """One post per writer, each in its own transaction, all at once: the
    first holds its transaction open (its new tag not yet committed) until
    the others are under way."""
    started = asyncio.Event()

    async def write(writer: User, first: bool) -> None:
        if not first:
            await started.wait()
        async with roost.db.write() as tx:
            await do_create_status(
                tx,
                Viewer(account_id=int(writer.id)),
                NewStatus(text=text),
                base_url=roost.settings.base_url,
                max_chars=roost.settings.max_post_chars,
            )
            if first:
                started.set()
                await asyncio.sleep(0.3)

    async def race() -> None:
        await asyncio.gather(*(write(w, n == 0) for n, w in enumerate(writers)))

    roost.run(race)


def test_given_many_posts_bringing_one_new_tag_at_once_then_one_row_and_no_error(
    roost: Roost,
) -> None:
    writers = [roost.account(f"writer{n}") for n in range(6)]
    _write_posts(roost, writers, "All at once: #brandnew")

    found = _tag_rows(roost)
    assert [t["name_key"] for t in found] == ["brandnew"]
    assert count(roost, status_tags, status_tags.c.tag_id == found[0]["id"]) == len(writers)
