"""The anonymous page cache: a page is served from memory until something it
shows changes, and is right at once after an edit, a delete, a profile
change or a suspension (the same purge paths as the post caches)."""

from __future__ import annotations

from urllib.parse import urlsplit

from roost.domain.accounts.moderation import do_suspend_account
from roost.streaming.events import STATUS_CREATED, StreamEvent
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


def test_given_a_created_event_that_does_not_name_the_parent_then_it_is_read(
    roost: Roost,
) -> None:
    # Given the thread page of alice's post is cached
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("a question")
    path = _path(post["url"])
    roost.client.get(path)
    reply = bob.post_status("@alice an answer", in_reply_to_id=post["id"])
    roost.client.get(path)
    pages = pages_for(roost.db)
    assert pages.get(path) is not None
    # When an event heard over the bus names the reply but not its parent
    event = StreamEvent(STATUS_CREATED, status_id=int(reply["id"]), author_id=int(bob.id))
    roost.run(lambda: _on_stream_event(event, roost.db))
    # Then the parent is read back and its thread's page forgotten
    assert pages.get(path) is None
