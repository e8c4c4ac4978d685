"""Posts' shared parts cached in Redis for every process (roost/timelines/redis_posts.py).

A process with an empty cache of its own (just started, or after a fleet
reboot) takes them from Redis instead of the database; an edit, a delete or an
erasure purges them; an entry that outlived an edit is never served; and the
words in Redis are sealed as they are in the database.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from roost.api.mastodon import json_cache
from roost.domain.statuses import shared
from roost.domain.statuses.shared import SHARED, Shared
from roost.ops.derived import derived_stores
from tests.conftest import User
from tests.timelines.conftest import Scaled


def _entry_key(scaled: Scaled, status_id: str) -> str:
    return scaled.services.redis.key("post", status_id)  # type: ignore[union-attr]


def _as_a_fresh_process() -> None:
    """What a process that just started holds: nothing of its own."""
    SHARED.clear()
    json_cache.forget_cached()


def _home(user: User) -> list[dict[str, Any]]:
    response = user.get("/api/v1/timelines/home")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()
    return data


def _followed_post(scaled: Scaled, text: str) -> tuple[User, User, dict[str, Any]]:
    """alice follows bob, who posts ``text``: (alice, bob, the post)."""
    alice, bob = scaled.roost.account("alice"), scaled.roost.account("bob")
    alice.follow(bob)
    return alice, bob, bob.post_status(text)


def _no_database_loads(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Record (and refuse) every load of shared parts from the database."""
    asked: list[list[int]] = []

    async def refuse(_reads: Any, ids: list[int]) -> dict[int, Any]:
        asked.append(ids)
        return {}

    monkeypatch.setattr(shared, "_load_shared", refuse)
    return asked


def test_given_a_post_read_once_when_a_fresh_process_reads_it_then_redis_answers(
    scaled: Scaled, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bob's post (a mention, a spoiler, a hashtag), read once by alice.
    alice, bob = scaled.roost.account("alice"), scaled.roost.account("bob")
    alice.follow(bob)
    post = bob.post_status("sealed canary words @alice #roost", spoiler_text="careful")
    first = _home(alice)
    assert [p["id"] for p in first] == [post["id"]]
    stored = scaled.redis.get(_entry_key(scaled, post["id"]))
    assert stored is not None
    # The words are in Redis only sealed, as in the database.
    assert b"canary" not in stored and b"careful" not in stored

    # When a process with an empty cache of its own reads the same home...
    _as_a_fresh_process()
    asked = _no_database_loads(monkeypatch)
    again = _home(alice)

    # ...then the post came from Redis, exactly as it was shown before.
    assert asked == []
    assert again == first
    assert scaled.counter("roost_post_cache_lookups_total", result="found") == 1
    assert again[0]["mentions"][0]["username"] == "alice"
    assert again[0]["tags"][0]["name"] == "roost"


def test_given_a_cached_post_when_edited_then_its_entry_goes_and_no_old_one_is_served(
    scaled: Scaled,
) -> None:
    alice, bob, post = _followed_post(scaled, "before the edit")
    _home(alice)
    key = _entry_key(scaled, post["id"])
    old = scaled.redis.get(key)
    assert old is not None

    # When bob edits it, the entry is purged as the edit commits.
    edited = bob.put(f"/api/v1/statuses/{post['id']}", json={"status": "after the edit"})
    assert edited.status_code == 200
    assert scaled.redis.get(key) is None

    # Even if the old entry were back (a purge lost with Redis away, a slow
    # writer), a fresh process shows the new version: entries carry theirs.
    scaled.redis.set(key, old)
    _as_a_fresh_process()
    assert _home(alice)[0]["content"] == "<p>after the edit</p>"
    # ...and the entry now describes the new version.
    _as_a_fresh_process()
    assert _home(alice)[0]["content"] == "<p>after the edit</p>"
    assert scaled.redis.get(key) != old


def test_given_a_cached_post_when_deleted_then_its_entry_goes(scaled: Scaled) -> None:
    alice, bob, post = _followed_post(scaled, "short-lived")
    _home(alice)
    assert scaled.redis.get(_entry_key(scaled, post["id"])) is not None

    assert bob.delete(f"/api/v1/statuses/{post['id']}").status_code == 200

    assert scaled.redis.get(_entry_key(scaled, post["id"])) is None
    _as_a_fresh_process()
    assert _home(alice) == []


def test_given_cached_posts_when_an_account_is_erased_then_its_entries_go(
    scaled: Scaled,
) -> None:
    alice, bob, carol = (scaled.roost.account(n) for n in ("alice", "bob", "carol"))
    alice.follow(bob)
    alice.follow(carol)
    own = bob.post_status("bob's words")
    naming = carol.post_status("carol mentions @bob")
    assert _home(alice)[0]["mentions"][0]["username"] == "bob"
    assert scaled.redis.get(_entry_key(scaled, own["id"])) is not None
    kept = scaled.redis.get(_entry_key(scaled, naming["id"]))
    # Carol's entry names bob by id only.
    assert kept is not None and b"bob" not in kept

    # When bob erases his account...
    erased = bob.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text

    # ...his posts' entries are gone, and carol's post no longer names him.
    assert scaled.redis.get(_entry_key(scaled, own["id"])) is None
    assert "dropped from the shared cache" in erased.json()["stores"]["post caches"]
    _as_a_fresh_process()
    shown = _home(alice)
    assert [p["id"] for p in shown] == [naming["id"]]
    assert shown[0]["mentions"] == []


def test_given_a_restore_then_the_shared_cache_is_emptied(scaled: Scaled) -> None:
    alice, _bob, post = _followed_post(scaled, "before the restore")
    _home(alice)
    assert scaled.redis.get(_entry_key(scaled, post["id"])) is not None

    # When a restore rebuilds the derived stores (roost/ops/derived.py)...
    stores = {store.name: store for store in derived_stores()}
    rebuild = stores["redis post cache"].rebuild
    assert rebuild is not None
    scaled.roost.run(lambda: rebuild(scaled.services))

    # ...no entry of the replaced data is left.
    assert scaled.redis.get(_entry_key(scaled, post["id"])) is None


def test_given_redis_failing_for_the_post_cache_then_reads_still_answer(
    scaled: Scaled, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, _bob, _post = _followed_post(scaled, "readable without the cache")
    client = scaled.services.redis.client  # type: ignore[union-attr]

    async def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("redis went away")

    monkeypatch.setattr(client, "mget", refused)
    _as_a_fresh_process()
    assert _home(alice)[0]["content"] == "<p>readable without the cache</p>"


def test_given_a_post_that_cannot_be_sealed_again_then_it_is_shown_and_not_kept(
    scaled: Scaled, monkeypatch: pytest.MonkeyPatch
) -> None:
    # E.g. restored from a backup older than its author's erasure: the key is
    # a tombstone, so sealing its words again fails.
    alice, _bob, post = _followed_post(scaled, "no key to seal with")
    _as_a_fresh_process()

    def no_key(_account_id: int, _text: str) -> str:
        raise RuntimeError("the key was destroyed")

    monkeypatch.setattr(shared.ring, "seal", no_key)
    assert _home(alice)[0]["content"] == "<p>no key to seal with</p>"
    assert scaled.redis.get(_entry_key(scaled, post["id"])) is None


def test_given_parts_loaded_from_another_moment_than_the_page_then_they_are_not_kept(
    scaled: Scaled, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an edited post whose parts are loaded from a snapshot taken before
    # the edit (the edit committed between the page read and the load).
    alice, bob, post = _followed_post(scaled, "the old words")
    edited = bob.put(f"/api/v1/statuses/{post['id']}", json={"status": "the new words"})
    assert edited.status_code == 200
    _as_a_fresh_process()
    load = shared._load_shared

    async def as_before_the_edit(reads: Any, ids: list[int]) -> dict[int, Shared]:
        now = await load(reads, ids)
        return {
            i: replace(part, status=replace(part.status, edited_at=None, text="the old words"))
            for i, part in now.items()
        }

    monkeypatch.setattr(shared, "_load_shared", as_before_the_edit)

    # When the home is read...
    _home(alice)

    # ...those parts are kept nowhere: not under the edited version, here or in Redis.
    assert all(sid != int(post["id"]) for sid, _ in SHARED._entries)
    assert scaled.redis.get(_entry_key(scaled, post["id"])) is None


def test_given_redis_entries_that_do_not_decode_then_the_database_answers(
    scaled: Scaled,
) -> None:
    alice, _bob, post = _followed_post(scaled, "still readable")
    _home(alice)
    # A damaged entry, or one written by another release's format.
    scaled.redis.set(_entry_key(scaled, post["id"]), b"not what a release wrote")
    _as_a_fresh_process()
    assert _home(alice)[0]["content"] == "<p>still readable</p>"
