"""Every field of a view that the status serializer reads is in the key of the
per-view JSON cache (``status_fragment``), or is listed below as deliberately
not keyed, with the reason. A field read but not keyed would let one viewer's
JSON be served to another: this test fails as soon as the serializer reads a
new one.

The reads are recorded, not listed by hand: each view is wrapped in a proxy
that notes every attribute asked of it (and of the objects it holds), then
serialized, and then keyed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from roost.api.mastodon import json_cache, serializers
from roost.domain.types import Account, AppInfo, MediaAttachment, Status, StatusView
from roost.media import urls
from roost.visibility import Visibility

BASE = "https://roost.example"
VIEWER = 42
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

# Read by the serializer, not in the key, and why that is safe.
NOT_KEYED = {
    "mentions[].username": "a username never changes once the account is made; "
    "the key has the mentioned accounts' ids",
}
# What ``parts_key`` stands for (roost/domain/types.py): the version's
# viewer-independent parts, its text, media and tags. Media of posts that are
# not public are signed per viewer, and the key has the viewer for those.
PARTS = ("media", "media[].")


@pytest.fixture(autouse=True)
def _signing_key() -> Any:
    """Media of posts that are not public are signed: a key for this test, and
    the process's own back after it."""
    before = urls._Keys.signing
    urls.configure("k" * 40)
    yield
    urls._Keys.signing = before


class Recorder:
    """Stands in for a domain object and notes each attribute read, by path."""

    def __init__(self, target: object, path: str, reads: set[str]) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_reads", reads)

    def __getattr__(self, name: str) -> Any:
        path = f"{self._path}{name}"
        self._reads.add(path)
        return _wrap(getattr(self._target, name), path, self._reads)


def _record(view: StatusView, reads: set[str]) -> Any:
    return Recorder(view, "", reads)


def _wrap(value: Any, path: str, reads: set[str]) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return Recorder(value, path + ".", reads)
    if isinstance(value, (list, tuple)) and any(dataclasses.is_dataclass(v) for v in value):
        return type(value)(_wrap(v, path + "[]", reads) for v in value)
    return value


def _account(account_id: int, name: str) -> Account:
    return Account(
        id=account_id,
        username=name,
        display_name=name.title(),
        note="",
        note_html="",
        fields=[],
        locked=False,
        bot=False,
        discoverable=True,
        indexable=True,
        hide_collections=False,
        followers_count=1,
        following_count=2,
        statuses_count=3,
        last_status_at=NOW,
        created_at=NOW,
        suspended_at=None,
    )


def _view(visibility: Visibility, *, boost_of: StatusView | None = None) -> StatusView:
    author = _account(VIEWER, "alice")
    status = Status(
        id=1000 + int(visibility) + (10 if boost_of else 0),
        account_id=author.id,
        in_reply_to_id=7,
        in_reply_to_account_id=8,
        reblog_of_id=boost_of.status.id if boost_of else None,
        application_id=5,
        visibility=visibility,
        text="hello",
        content="<p>hello</p>",
        spoiler_text="",
        sensitive=False,
        language="en",
        replies_count=1,
        reblogs_count=2,
        favourites_count=3,
        created_at=NOW,
        edited_at=NOW,
    )
    media = MediaAttachment(
        id=77,
        account_id=author.id,
        status_id=status.id,
        type="image",
        state="ready",
        content_type="image/png",
        file_key="media/77/original.png",
        file_size=10,
        preview_key="media/77/small.png",
        meta={},
        description="a picture",
        blurhash=None,
        focus_x=0.5,
        focus_y=-0.5,
        created_at=NOW,
    )
    return StatusView(
        status=status,
        account=author,
        mentions=[_account(9, "bob")],
        tags=["Roost"],
        reblog=boost_of,
        application=AppInfo("Roost app", "https://app.example"),
        favourited=True,
        media=[media],
        parts_key=object(),
    )


def _strip_reblog(path: str) -> str:
    # The key holds the boosted post's own key, made the same way.
    while path.startswith("reblog."):
        path = path.removeprefix("reblog.")
    return path


def _unkeyed(view: StatusView) -> set[str]:
    served: set[str] = set()
    json_cache.forget_cached()
    serializers._status(_record(view, served), VIEWER, BASE)
    parts: set[str] = set()
    json_cache.forget_cached()
    serializers._status_parts(_record(view, parts), BASE)
    if view.reblog is not None:
        # The boosted post's parts are keyed by its own parts key (in the
        # boosted post's key, held in the boost's).
        serializers._status_parts(_record(view.reblog, parts), BASE)
    keyed: set[str] = set()
    found = json_cache.view_key(_record(view, keyed), VIEWER, BASE)
    json_cache.forget_cached()
    assert found is not None
    _, refs = found
    # Objects the key names by identity: all of what they hold is keyed.
    held = [ref._path.removesuffix(".") for ref in refs if isinstance(ref, Recorder)]
    keyed = {_strip_reblog(p) for p in keyed}
    parts = {_strip_reblog(p) for p in parts} if "parts_key" in keyed else set()

    def covered(path: str) -> bool:
        path = _strip_reblog(path)
        return (
            path in keyed
            or path in NOT_KEYED
            or any(path == h or path.startswith(h + ".") for h in held)
            or ("parts_key" in keyed and (path in parts or path.startswith(PARTS)))
        )

    return {path for path in served if not covered(path)}


@pytest.mark.parametrize("visibility", list(Visibility))
def test_given_a_post_then_every_field_its_json_shows_is_in_the_cache_key(
    visibility: Visibility,
) -> None:
    assert _unkeyed(_view(visibility)) == set()


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.PRIVATE])
def test_given_a_boost_then_every_field_of_both_posts_is_in_the_cache_key(
    visibility: Visibility,
) -> None:
    assert _unkeyed(_view(visibility, boost_of=_view(visibility))) == set()


def test_given_the_serializer_showing_a_field_the_key_lacks_then_the_check_finds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check bites: a serializer that starts to show the post's source
    text (which the key does not hold) is caught."""
    original = serializers._status

    def showing_text(view: Any, viewer_id: int | None, base: str) -> dict[str, Any]:
        data = original(view, viewer_id, base)
        data["text"] = view.status.text
        return data

    monkeypatch.setattr(serializers, "_status", showing_text)
    assert _unkeyed(_view(Visibility.PUBLIC)) == {"status.text"}


def test_given_a_sensitized_author_then_their_own_view_and_others_are_keyed_apart() -> None:
    """The author sees the post's own flag, everyone else ``sensitive: true``:
    the key tells the two apart, so neither is served the other's JSON."""
    plain = _view(Visibility.PUBLIC)
    view = dataclasses.replace(plain, account=dataclasses.replace(plain.account, sensitized_at=NOW))
    own = json_cache.view_key(view, VIEWER, BASE)
    other = json_cache.view_key(view, VIEWER + 1, BASE)
    assert own is not None and other is not None and own[0] != other[0]
    json_cache.forget_cached()
    assert serializers._status(view, VIEWER, BASE)["sensitive"] is False
    assert serializers._status(view, VIEWER + 1, BASE)["sensitive"] is True
    assert serializers._status(view, None, BASE)["sensitive"] is True
