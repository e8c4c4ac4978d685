"""Mastodon's JSON shapes, built from cleared domain objects only.

Each function takes ``Visible[...]``: a value the privacy policy made. This is
the only module that knows the wire format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from roost import __version__
from roost.config import Settings
from roost.domain.filters.model import Filter, FilterMatch
from roost.domain.media.actions import MAX_DESCRIPTION
from roost.domain.privacy import Visible
from roost.domain.types import (
    Account,
    ConversationView,
    MediaAttachment,
    NotificationView,
    Relationship,
    StatusEdit,
    StatusView,
    Visibility,
)
from roost.media import urls as media_urls
from roost.media.sniff import SUPPORTED as SUPPORTED_MEDIA

MASTODON_VERSION = "4.3.0"
DEFAULT_AVATAR = "/avatars/original/missing.png"
DEFAULT_HEADER = "/headers/original/missing.png"


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def version() -> str:
    return f"{MASTODON_VERSION} (compatible; Roost {__version__})"


def _profile_image(account: Account, role: str, base: str, default: str) -> str:
    key = account.avatar_file if role == "avatar" else account.header_file
    if not key:
        return base + default
    return media_urls.profile_url(base, account.id, role, key.rsplit("/", 1)[-1])


def _media(media: MediaAttachment, base: str, signed_for: int | None) -> dict[str, Any]:
    def url(variant: str, key: str) -> str:
        name = key.rsplit("/", 1)[-1]
        return media_urls.attachment_url(base, media.id, variant, name, signed_for=signed_for)

    meta = dict(media.meta)
    if media.focus_x is not None and media.focus_y is not None:
        meta["focus"] = {"x": media.focus_x, "y": media.focus_y}
    return {
        "id": str(media.id),
        "type": media.type,
        # Null while processing (POST /api/v2/media answered 202).
        "url": url("original", media.file_key) if media.ready else None,
        "preview_url": url("small", media.preview_key) if media.preview_key else None,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description,
        "blurhash": media.blurhash,
    }


def own_upload(media: MediaAttachment, base: str) -> dict[str, Any]:
    """An upload shown to its uploader, who alone may see it before a post takes
    it (the caller found it with roost.domain.media.queries.own_unattached)."""
    return _media(media, base, signed_for=media.account_id)


def _status_media(view: StatusView, viewer_id: int | None, base: str) -> list[dict[str, Any]]:
    # Media of public and unlisted posts get plain URLs anyone may fetch; the
    # others a capability for this viewer (roost/media/urls.py says why).
    public = view.status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
    signed_for = None if public else viewer_id
    return [_media(m, base, signed_for) for m in view.media]


class _ByIdentity:
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


_ACCOUNTS = _ByIdentity(20_000)
_STATUS_PARTS = _ByIdentity(20_000)


# Whole posts as one viewer sees them, serialized, by everything that goes
# into them (see ``_view_key``): many viewers share an entry, since most
# posts carry no marks of theirs. Bounded like the others.
_VIEW_BYTES: dict[tuple[Any, ...], tuple[tuple[object, ...], bytes]] = {}
_VIEW_BYTES_CAPACITY = 20_000


def forget_cached() -> None:
    """Drop every cached fragment (erasure: no copy of erased text stays)."""
    _ACCOUNTS.clear()
    _STATUS_PARTS.clear()
    _VIEW_BYTES.clear()


def status_fragment(cleared: Visible[StatusView], base: str) -> Any:
    """``status`` for a list answer: the serialized post (an ``orjson.Fragment``),
    from the cache when this exact view was serialized before."""
    view, viewer_id = cleared.value, cleared.viewer.account_id
    keyed = _view_key(view, viewer_id, base)
    if keyed is None:
        return _status(view, viewer_id, base)
    key, refs = keyed
    entry = _VIEW_BYTES.get(key)
    if entry is not None and all(a is b for a, b in zip(entry[0], refs, strict=True)):
        return orjson.Fragment(entry[1])
    data = orjson.dumps(_status(view, viewer_id, base))
    if len(_VIEW_BYTES) >= _VIEW_BYTES_CAPACITY:
        del _VIEW_BYTES[next(iter(_VIEW_BYTES))]
    _VIEW_BYTES[key] = (refs, data)
    return orjson.Fragment(data)


def _view_key(
    view: StatusView, viewer_id: int | None, base: str
) -> tuple[tuple[Any, ...], tuple[object, ...]] | None:
    """Everything ``_status`` reads, as a key, and the immutable objects the
    key names by identity (kept with the entry, so an id cannot be reused).
    None when the view cannot be keyed (no parts key, or filters matched)."""
    if view.parts_key is None or view.filtered:
        return None
    s = view.status
    public = s.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
    own_app = view.application is not None and viewer_id == s.account_id
    inner: tuple[tuple[Any, ...], tuple[object, ...]] | None = None
    if view.reblog is not None:
        inner = _view_key(view.reblog, viewer_id, base)
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
        tuple(m.id for m in view.mentions),
        (view.application.name, view.application.website) if own_app and view.application else None,
        # Media of other posts are signed per viewer, with a daily expiry.
        None if public else (viewer_id, media_urls.expiry() if view.media else None),
        inner[0] if inner is not None else None,
    )
    refs: tuple[object, ...] = (view.parts_key, view.account, *(inner[1] if inner else ()))
    return key, refs


def _account(account: Account, base: str) -> dict[str, Any]:
    # A copy: callers add fields of their own (credentials, mute expiry).
    return dict(_shared_account(account, base))


def _shared_account(account: Account, base: str) -> dict[str, Any]:
    """Account JSON that must not be modified (embedded in posts)."""
    found = _ACCOUNTS.get(account, base)
    if found is None:
        found = _build_account(account, base)
        _ACCOUNTS.put(account, base, found)
    return found


def _build_account(account: Account, base: str) -> dict[str, Any]:
    avatar = _profile_image(account, "avatar", base, DEFAULT_AVATAR)
    header = _profile_image(account, "header", base, DEFAULT_HEADER)
    return {
        "id": str(account.id),
        "username": account.username,
        "acct": account.username,
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "group": False,
        "created_at": timestamp(account.created_at),
        "note": account.note_html,
        "url": f"{base}/@{account.username}",
        "uri": f"{base}/users/{account.username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": account.statuses_count,
        "last_status_at": account.last_status_at.date().isoformat()
        if account.last_status_at
        else None,
        "hide_collections": account.hide_collections,
        "noindex": not account.indexable,
        "emojis": [],
        "roles": [],
        "fields": [
            {"name": f.get("name", ""), "value": f.get("value_html", ""), "verified_at": None}
            for f in account.fields
        ],
    }


def account(cleared: Visible[Account], base: str) -> dict[str, Any]:
    return _account(cleared.value, base)


def credential_account(
    cleared: Visible[Account],
    base: str,
    *,
    privacy: str,
    sensitive: bool,
    language: str | None,
    follow_requests_count: int,
) -> dict[str, Any]:
    acc = cleared.value
    data = _account(acc, base)
    data["source"] = {
        "privacy": privacy,
        "sensitive": sensitive,
        "language": language,
        "note": acc.note,
        "fields": [
            {"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
            for f in acc.fields
        ],
        "follow_requests_count": follow_requests_count,
        "hide_collections": acc.hide_collections,
        "discoverable": acc.discoverable,
        "indexable": acc.indexable,
    }
    data["role"] = {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False}
    return data


def _status(view: StatusView, viewer_id: int | None, base: str) -> dict[str, Any]:
    s = view.status
    data = dict(_status_parts(view, base))
    public = s.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
    if not public:
        data["media_attachments"] = _status_media(view, viewer_id, base)
    data["account"] = _shared_account(view.account, base)
    data["visibility"] = s.visibility.label
    data["application"] = (
        {"name": view.application.name, "website": view.application.website}
        if view.application is not None and viewer_id == s.account_id
        else None
    )
    data["mentions"] = [
        {
            "id": str(m.id),
            "username": m.username,
            "acct": m.username,
            "url": f"{base}/@{m.username}",
        }
        for m in view.mentions
    ]
    data["reblogs_count"] = s.reblogs_count
    data["favourites_count"] = s.favourites_count
    data["replies_count"] = s.replies_count
    data["in_reply_to_id"] = str(s.in_reply_to_id) if s.in_reply_to_id else None
    data["in_reply_to_account_id"] = (
        str(s.in_reply_to_account_id) if s.in_reply_to_account_id else None
    )
    data["reblog"] = _status(view.reblog, viewer_id, base) if view.reblog is not None else None
    data["favourited"] = view.favourited
    data["reblogged"] = view.reblogged
    data["muted"] = view.muted
    data["bookmarked"] = view.bookmarked
    data["pinned"] = view.pinned
    data["filtered"] = [filter_result(m) for m in view.filtered]
    return data


def _status_parts(view: StatusView, base: str) -> dict[str, Any]:
    """What every viewer sees the same of this version of the post: cached by
    ``view.parts_key`` when the view has one. Media of posts that are not
    public are signed per viewer (``_status``)."""
    key = view.parts_key
    if key is not None:
        found = _STATUS_PARTS.get(key, base)
        if found is not None:
            return found
    s = view.status
    author = view.account
    public = s.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
    parts = {
        "id": str(s.id),
        "uri": f"{base}/users/{author.username}/statuses/{s.id}",
        "url": f"{base}/@{author.username}/{s.id}" if s.reblog_of_id is None else None,
        "created_at": timestamp(s.created_at),
        "edited_at": timestamp(s.edited_at),
        "content": s.content,
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "media_attachments": _status_media(view, None, base) if public else [],
        "tags": [{"name": t.lower(), "url": f"{base}/tags/{t.lower()}"} for t in view.tags],
        "emojis": [],
        "poll": None,
        "card": None,
        "language": s.language,
        "text": None,
    }
    if key is not None:
        _STATUS_PARTS.put(key, base, parts)
    return parts


def status(cleared: Visible[StatusView], base: str) -> dict[str, Any]:
    return _status(cleared.value, cleared.viewer.account_id, base)


def status_with_source(cleared: Visible[StatusView], base: str) -> dict[str, Any]:
    """A deleted post answers with its source text, for delete-and-redraft."""
    data = status(cleared, base)
    data["text"] = cleared.value.status.text
    return data


def status_source(cleared: Visible[StatusView]) -> dict[str, Any]:
    s = cleared.value.status
    return {"id": str(s.id), "text": s.text, "spoiler_text": s.spoiler_text}


def status_edit(edit: StatusEdit, cleared: Visible[StatusView], base: str) -> dict[str, Any]:
    return {
        "content": edit.content,
        "spoiler_text": edit.spoiler_text,
        "sensitive": edit.sensitive,
        "created_at": timestamp(edit.created_at),
        "account": _account(cleared.value.account, base),
        "poll": None,
        "media_attachments": [],
        "emojis": [],
    }


def filter_summary(f: Filter) -> dict[str, Any]:
    """A Filter without its keywords and posts (as FilterResult carries it)."""
    return {
        "id": str(f.id),
        "title": f.title,
        "context": list(f.context),
        "expires_at": timestamp(f.expires_at),
        "filter_action": f.action,
    }


def filter_result(match: FilterMatch) -> dict[str, Any]:
    return {
        "filter": filter_summary(match.filter),
        "keyword_matches": list(match.keyword_matches) if match.keyword_matches else None,
        "status_matches": (
            [str(i) for i in match.status_matches] if match.status_matches else None
        ),
    }


def relationship(rel: Relationship) -> dict[str, Any]:
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": rel.domain_blocking,
        "endorsed": rel.endorsed,
        "note": rel.note,
    }


def muted_account(
    cleared: Visible[Account], expires_at: datetime | None, base: str
) -> dict[str, Any]:
    data = _account(cleared.value, base)
    data["mute_expires_at"] = timestamp(expires_at)
    return data


def conversation(cleared: Visible[ConversationView], base: str) -> dict[str, Any]:
    c = cleared.value
    return {
        "id": str(c.id),
        "unread": c.unread,
        "accounts": [_account(a, base) for a in c.accounts],
        "last_status": _status(c.last_status, cleared.viewer.account_id, base),
    }


def notification(cleared: Visible[NotificationView], base: str) -> dict[str, Any]:
    n = cleared.value
    return {
        "id": str(n.id),
        "type": n.type,
        "created_at": timestamp(n.created_at),
        "group_key": f"ungrouped-{n.id}",
        "account": _account(n.account, base),
        "status": (
            _status(n.status, cleared.viewer.account_id, base) if n.status is not None else None
        ),
    }


def instance_v2(
    settings: Settings, user_count: int, contact: Visible[Account] | None
) -> dict[str, Any]:
    base = settings.base_url
    return {
        "domain": settings.domain,
        "title": settings.instance_title,
        "version": version(),
        "source_url": "https://github.com/roost-social/roost",
        "description": settings.instance_description,
        "usage": {"users": {"active_month": user_count}},
        "thumbnail": {"url": base + DEFAULT_HEADER},
        "icon": [],
        "languages": ["en"],
        "configuration": configuration(settings),
        "registrations": {
            "enabled": settings.registrations != "closed",
            "approval_required": settings.registrations == "approval",
            "message": None,
            "url": None,
        },
        "api_versions": {"mastodon": 2},
        "contact": {
            "email": settings.contact_email,
            "account": account(contact, base) if contact is not None else None,
        },
        "rules": [],
    }


def configuration(settings: Settings) -> dict[str, Any]:
    return {
        "urls": {
            "streaming": settings.base_url.replace("http", "ws", 1),
            "status": None,
        },
        "vapid": {"public_key": ""},
        "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
        "statuses": {
            "max_characters": settings.max_post_chars,
            "max_media_attachments": 4,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": [f.mime for f in SUPPORTED_MEDIA],
            "description_limit": MAX_DESCRIPTION,
            "image_size_limit": settings.media_max_image_bytes,
            "image_matrix_limit": settings.media_max_image_pixels,
            "video_size_limit": settings.media_max_video_bytes,
            "video_frame_rate_limit": 120,
            "video_matrix_limit": 4096 * 2160,
        },
        "polls": {
            "max_options": 4,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2629746,
        },
        "translation": {"enabled": False},
    }


def instance_v1(
    settings: Settings, user_count: int, status_count: int, contact: Visible[Account] | None
) -> dict[str, Any]:
    base = settings.base_url
    return {
        "uri": settings.domain,
        "title": settings.instance_title,
        "short_description": settings.instance_description,
        "description": settings.instance_description,
        "email": settings.contact_email,
        "version": version(),
        "urls": {"streaming_api": base.replace("http", "ws", 1)},
        "stats": {"user_count": user_count, "status_count": status_count, "domain_count": 0},
        "thumbnail": base + DEFAULT_HEADER,
        "languages": ["en"],
        "registrations": settings.registrations != "closed",
        "approval_required": settings.registrations == "approval",
        "invites_enabled": False,
        "configuration": configuration(settings),
        "contact_account": account(contact, base) if contact is not None else None,
        "rules": [],
    }
