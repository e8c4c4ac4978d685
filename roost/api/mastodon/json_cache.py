"""The three caches of rendered JSON, all in this process and bounded: each
account's JSON (``ACCOUNTS``) and each post version's viewer-independent parts
(``STATUS_PARTS``), both held by the immutable domain object they render; and
whole posts as one viewer sees them, serialized (``VIEW_BYTES``), under
``view_key``: everything the status serializer reads
(tests/api/test_status_cache_key.py holds the two together). The serializers
(roost/api/mastodon/serializers.py) fill and read them; ``forget_cached``
empties them (erasure: roost/api/mastodon/hooks.py).
"""

from __future__ import annotations

from typing import Any

from roost.domain.types import StatusView
from roost.media import urls as media_urls


class ByIdentity:
    """JSON kept per immutable domain object, looked up by the object itself.

    ``id()`` alone could name a newer object after the first is freed; each
    entry keeps its object alive and is checked with ``is``, so it cannot.
    Bounded: the oldest entries go first.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[int, tuple[object, str, dict[str, Any]]] = {}

    def get(self, key: object, base: str) -> dict[str, Any] | None:
        entry = self._entries.get(id(key))
        if entry is not None and entry[0] is key and entry[1] == base:
            return entry[2]
        return None

    def put(self, key: object, base: str, value: dict[str, Any]) -> None:
        if len(self._entries) >= self.capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[id(key)] = (key, base, value)

    def clear(self) -> None:
        self._entries.clear()


ACCOUNTS = ByIdentity(20_000)
STATUS_PARTS = ByIdentity(20_000)


# Whole posts as one viewer sees them, serialized, by everything that goes
# into them (see ``view_key``): many viewers share an entry, since most
# posts carry no marks of theirs. Bounded like the others.
VIEW_BYTES: dict[tuple[Any, ...], tuple[tuple[object, ...], bytes]] = {}
VIEW_BYTES_CAPACITY = 20_000


def forget_cached() -> None:
    """Drop every cached fragment (erasure: no copy of erased text stays)."""
    ACCOUNTS.clear()
    STATUS_PARTS.clear()
    VIEW_BYTES.clear()


def view_key(
    view: StatusView, viewer_id: int | None, base: str
) -> tuple[tuple[Any, ...], tuple[object, ...]] | None:
    """Everything ``_status`` reads, as a key, and the immutable objects the
    key names by identity (kept with the entry, so an id cannot be reused).
    None when the view cannot be keyed (no parts key, filters matched, a poll
    or a shown quote)."""
    quoting = view.quoting
    if (
        view.parts_key is None
        or view.filtered
        or view.poll is not None
        or (quoting is not None and quoting.quote is not None)
    ):
        # A poll's counts change with every vote and its marks are the
        # viewer's own, and a quoted post is a whole post of its own: such a
        # post is serialized afresh each time.
        return None
    s = view.status
    public = s.visibility.listed
    own_app = view.application is not None and viewer_id == s.account_id
    inner: tuple[tuple[Any, ...], tuple[object, ...]] | None = None
    if view.reblog is not None:
        inner = view_key(view.reblog, viewer_id, base)
        if inner is None:
            return None
    key = (
        base,
        id(view.parts_key),
        id(view.account),
        s.visibility,
        s.replies_count,
        s.reblogs_count,
        s.favourites_count,
        s.in_reply_to_id,
        s.in_reply_to_account_id,
        view.favourited,
        view.reblogged,
        view.muted,
        view.bookmarked,
        view.pinned,
        # A mention shows the account's address and page, which for an
        # account of another server come from its actor and can change.
        tuple((m.id, m.acct, m.url) for m in view.mentions),
        (view.application.name, view.application.website) if own_app and view.application else None,
        # Media of other posts are signed per viewer, with a daily expiry.
        None if public else (viewer_id, media_urls.expiry() if view.media else None),
        # A sensitized author's post is sensitive to all but the author
        # (``shown_sensitive``): the account object is keyed, whether the
        # viewer is its author is not otherwise.
        viewer_id == s.account_id if view.account.sensitized_at is not None else None,
        inner[0] if inner is not None else None,
        quoting,
    )
    refs: tuple[object, ...] = (view.parts_key, view.account, *(inner[1] if inner else ()))
    return key, refs
