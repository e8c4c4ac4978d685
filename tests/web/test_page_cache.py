"""The anonymous page cache: a page is served from memory until something it
shows changes, and is right at once after an edit, a delete, a profile
change or a suspension (the same purge paths as the post caches)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import pytest

from roost.db.engine import Database
from roost.domain import events as domain_events
from roost.domain.accounts.moderation import do_suspend_account
from roost.domain.statuses.actions import NewStatus, do_create_status
from roost.domain.types import Viewer
from roost.streaming.events import STATUS_CREATED, StreamEvent
from roost.web import cache
from roost.web.cache import _on_stream_event, pages_for
from tests.conftest import Roost


def _path(url: str) -> str:
    return urlsplit(url).path


def test_anonymous_pages_are_cached_publicly_and_signed_in_ones_are_private(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    post = alice.post_status("cache me")
    first = roost.client.get(_path(post["url"]))
    assert first.headers["cache-control"].startswith("public, max-age=")
    cache = pages_for(roost.db)
    hits = cache.hits
    second = roost.client.get(_path(post["url"]))
    assert second.text == first.text and cache.hits == hits + 1
    assert "set-cookie" not in second.headers


def test_given_a_cached_post_page_when_edited_or_deleted_then_the_next_view_is_current(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    post = alice.post_status("first words")
    path = _path(post["url"])
    assert "first words" in roost.client.get(path).text
    assert "first words" in roost.client.get("/@alice").text
    edited = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "second words"})
    assert edited.status_code == 200
    assert "second words" in roost.client.get(path).text
    assert "second words" in roost.client.get("/@alice").text
    alice.delete(f"/api/v1/statuses/{post['id']}")
    assert roost.client.get(path).status_code == 404
    assert "second words" not in roost.client.get("/@alice").text


def test_given_a_cached_thread_when_someone_replies_then_the_reply_shows_at_once(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("a question")
    path = _path(post["url"])
    assert "an answer" not in roost.client.get(path).text
    bob.post_status("@alice an answer", in_reply_to_id=post["id"])
    assert "an answer" in roost.client.get(path).text


def test_given_cached_pages_when_the_profile_changes_or_is_suspended_then_they_follow(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    post = alice.post_status("hello")
    path = _path(post["url"])
    roost.client.get("/@alice")
    roost.client.get(path)
    alice.patch("/api/v1/accounts/update_credentials", data={"display_name": "Alice Newname"})
    assert "Alice Newname" in roost.client.get("/@alice").text
    assert "Alice Newname" in roost.client.get(path).text

    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_suspend_account(tx, int(alice.id))

    roost.run(suspend)
    assert roost.client.get("/@alice").status_code == 404
    assert roost.client.get(path).status_code == 404


def test_given_a_cached_tag_page_when_a_new_post_uses_the_tag_then_it_shows(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    alice.post_status("one #garden post")
    roost.drain_jobs()
    assert "two" not in roost.client.get("/tags/garden").text
    alice.post_status("two #garden post")
    roost.drain_jobs()
    assert "two" in roost.client.get("/tags/garden").text


def test_given_an_event_from_a_newer_process_then_its_unknown_fields_are_ignored() -> None:
    # During a rolling upgrade an older process hears a newer one's events.
    newer = StreamEvent(STATUS_CREATED, status_id=8, author_id=2).to_dict() | {"shiny": 1}
    assert StreamEvent.from_dict(newer) == StreamEvent(STATUS_CREATED, status_id=8, author_id=2)


def _reply_made_elsewhere(roost: Roost, author_id: int, text: str, parent_id: int) -> int:
    """A reply written as another process writes it: through a database
    handle of its own, whose commit this process's listeners do not hear."""
    settings = roost.client.app.state.services.settings  # type: ignore[attr-defined]

    async def write() -> int:
        other = Database(settings)
        try:
            async with other.write() as tx:
                return await do_create_status(
                    tx,
                    Viewer(account_id=author_id),
                    NewStatus(text=text, in_reply_to_id=parent_id),
                    base_url=settings.base_url,
                    max_chars=settings.max_post_chars,
                )
        finally:
            await other.dispose()

    return roost.run(write)


def test_given_a_reply_made_elsewhere_when_its_event_is_heard_then_its_parent_is_read(
    roost: Roost,
) -> None:
    # Given the thread page of alice's post is cached
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("a question")
    path = _path(post["url"])
    roost.client.get(path)
    pages = pages_for(roost.db)
    assert pages.get(path) is not None
    # When another process writes bob's reply and its event (which names the
    # reply but not its parent) is heard over the bus
    reply_id = _reply_made_elsewhere(roost, int(bob.id), "an answer", int(post["id"]))
    event = StreamEvent(STATUS_CREATED, status_id=reply_id, author_id=int(bob.id))
    roost.run(lambda: _on_stream_event(event, roost.db))
    # Then the parent is read back and its thread's page forgotten
    assert pages.get(path) is None
    assert "an answer" in roost.client.get(path).text


class _Handle:
    """Stands for a database handle: the key of a page cache of its own."""


def _entry(accounts: set[int], statuses: set[int]) -> cache.Entry:
    return cache.Entry(
        body=b"page",
        headers={},
        media_type="text/html",
        stored_at=time.monotonic(),
        accounts=frozenset(accounts),
        statuses=frozenset(statuses),
        listing=False,
    )


def test_given_a_post_this_process_announced_when_its_event_comes_back_then_nothing_is_purged_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given bob's reply 30 to post 20, purged for by this process when it
    # committed, and the thread page kept since (showing both)
    handle = _Handle()
    pages = pages_for(handle)  # type: ignore[arg-type]
    pages.forget_post(30, 2, 20)
    pages.announced(30)
    pages.put("/@alice/20", _entry({1, 2}, {20, 30}))
    read: list[int] = []

    async def parent_of(_db: object, status_id: int) -> int | None:
        read.append(status_id)
        return 20

    monkeypatch.setattr(cache, "_parent_of", parent_of)
    event = StreamEvent(STATUS_CREATED, status_id=30, author_id=2)
    # When the reply's own event comes back over the bus
    asyncio.run(_on_stream_event(event, handle))  # type: ignore[arg-type]
    # Then the page stays and nothing was read
    assert pages.get("/@alice/20") is not None and read == []
    # And a second hearing of it (not this process's to skip) purges as any
    asyncio.run(_on_stream_event(event, handle))  # type: ignore[arg-type]
    assert pages.get("/@alice/20") is None


def test_given_this_process_commits_a_post_then_its_listener_notes_it_before_the_bus_hears(
    roost: Roost,
) -> None:
    # Given the listeners of a server's database, in the order they run
    listeners = roost.db.listeners
    handle = _Handle()
    pages = pages_for(handle)  # type: ignore[arg-type]
    own = cache.page_cache_listener(handle)  # type: ignore[arg-type]
    # When this process's listener hears its own new post
    asyncio.run(own(domain_events.StatusCreated(30, 2, 20, parent_known=True)))
    # Then the post is noted (its echo from the bus will be skipped once)
    assert pages.purged_already(30) and not pages.purged_already(30)
    # And the page cache's listener runs before the one that publishes
    names = [getattr(f, "__qualname__", "") for f in listeners]
    assert names[0].startswith("page_cache_listener")
    assert any(name.startswith("bus_listener") for name in names[1:])


def test_given_a_page_showing_only_the_parent_when_a_reply_is_heard_then_the_parent_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a kept page that shows post 20 but neither the reply nor its author
    handle = _Handle()
    pages = pages_for(handle)  # type: ignore[arg-type]
    pages.put("/@alice/20", _entry({1}, {20}))
    pages.put("/@carol/50", _entry({3}, {50}))

    async def parent_of(_db: object, status_id: int) -> int | None:
        return 20 if status_id == 30 else None

    monkeypatch.setattr(cache, "_parent_of", parent_of)
    # When another process's reply 30 to it is heard
    event = StreamEvent(STATUS_CREATED, status_id=30, author_id=2)
    asyncio.run(_on_stream_event(event, handle))  # type: ignore[arg-type]
    # Then the parent's page goes, and the unrelated one stays
    assert pages.get("/@alice/20") is None
    assert pages.get("/@carol/50") is not None


def test_given_no_kept_page_shows_a_post_when_a_reply_is_heard_then_no_parent_is_read(
    roost: Roost, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given only a listing is kept (the hashtag page with no post on it)
    alice = roost.account("alice")
    post = alice.post_status("a question")
    roost.client.get("/tags/nothinghere")
    pages = pages_for(roost.db)
    assert pages.get("/tags/nothinghere") is not None and not pages.shows_posts()
    read: list[int] = []

    async def parent_of(_db: Database, status_id: int) -> int | None:
        read.append(status_id)
        return int(post["id"])

    monkeypatch.setattr(cache, "_parent_of", parent_of)
    # When another process's reply is heard
    event = StreamEvent(STATUS_CREATED, status_id=10**15, author_id=int(alice.id))
    roost.run(lambda: _on_stream_event(event, roost.db))
    # Then the listing is forgotten, and no parent was read for it
    assert pages.get("/tags/nothinghere") is None and read == []
