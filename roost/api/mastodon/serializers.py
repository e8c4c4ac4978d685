"""Mastodon's JSON shapes, built from cleared domain objects only.

Each function takes ``Visible[...]``: a value the privacy policy made. This is
the only module that knows the wire format; what it has rendered is kept in
roost/api/mastodon/json_cache.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from roost import __version__
from roost.api.errors import words_for
from roost.api.mastodon import cards
from roost.api.mastodon.json_cache import ACCOUNTS as _ACCOUNTS
from roost.api.mastodon.json_cache import STATUS_PARTS as _STATUS_PARTS
from roost.api.mastodon.json_cache import VIEW_BYTES as _VIEW_BYTES
from roost.api.mastodon.json_cache import VIEW_BYTES_CAPACITY as _VIEW_BYTES_CAPACITY
from roost.api.mastodon.json_cache import view_key as _view_key
from roost.api.mastodon.quote_entity import quote_fields
from roost.api.responses import timestamp
from roost.domain.filters.model import Filter, FilterMatch
from roost.domain.privacy import Visible
from roost.domain.reports.model import Report
from roost.domain.strikes.model import Appeal, Warning
from roost.domain.types import (
    Account,
    ConversationView,
    MediaAttachment,
    NotificationView,
    Relationship,
    StatusEdit,
    StatusView,
    shown_sensitive,
)
from roost.errors import FieldsInvalid
from roost.media import urls as media_urls

MASTODON_VERSION = "4.5.0"
# The API version Mastodon 4.5 reports: apps enable quotes from 7.
MASTODON_API_VERSION = 7
DEFAULT_AVATAR = "/avatars/original/missing.png"
DEFAULT_HEADER = "/headers/original/missing.png"


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
    if media.remote_url is not None and not media.file_key:
        # A received post's attachment, not stored here: its server's address.
        original: str | None = media.remote_url
        preview = media.remote_url if media.type == "image" else None
    else:
        # Null while processing (POST /api/v2/media answered 202).
        original = url("original", media.file_key) if media.ready else None
        preview = url("small", media.preview_key) if media.preview_key else None
    return {
        "id": str(media.id),
        "type": media.type,
        "url": original,
        "preview_url": preview,
        "remote_url": media.remote_url,
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
    public = view.status.visibility.listed
    signed_for = None if public else viewer_id
    return [_media(m, base, signed_for) for m in view.media]


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
    built = {
        "id": str(account.id),
        "username": account.username,
        "acct": account.acct,
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "group": False,
        "created_at": timestamp(account.created_at),
        "note": account.note_html,
        "url": account.url or f"{base}/@{account.username}",
        "uri": account.uri or f"{base}/users/{account.username}",
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
            {
                "name": f.get("name", ""),
                "value": f.get("value_html", ""),
                "verified_at": f.get("verified_at"),
            }
            for f in account.fields
        ],
    }
    if account.moved is not None:
        # Where it moved to (roost/domain/accounts/moved.py), wherever shown.
        built["moved"] = _shared_account(account.moved, base)
    return built


def account(cleared: Visible[Account], base: str) -> dict[str, Any]:
    return _account(cleared.value, base)


def credential_account(
    cleared: Visible[Account],
    base: str,
    *,
    privacy: str,
    sensitive: bool,
    language: str | None,
    quote_policy: str,
    follow_requests_count: int,
) -> dict[str, Any]:
    acc = cleared.value
    data = _account(acc, base)
    data["source"] = {
        "privacy": privacy,
        "sensitive": sensitive,
        "language": language,
        "quote_policy": quote_policy,
        "note": acc.note,
        "fields": [
            {
                "name": f.get("name", ""),
                "value": f.get("value", ""),
                "verified_at": f.get("verified_at"),
            }
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
    # The parts carry the post's own flag and are shared by every viewer; a
    # sensitized author's posts are sensitive to everyone else (as Mastodon).
    if not s.sensitive and shown_sensitive(s, view.account, viewer_id):
        data["sensitive"] = True
    public = s.visibility.listed
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
            "acct": m.acct,
            "url": m.url or f"{base}/@{m.username}",
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
    if view.poll is not None:
        from roost.api.mastodon.polls import poll_entity

        data["poll"] = poll_entity(view.poll, viewer_id)
    if view.quoting is not None:
        data.update(quote_fields(view, viewer_id, base, _status))
    else:
        data["quote"] = None
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
    public = s.visibility.listed
    parts = {
        "id": str(s.id),
        "uri": s.uri or f"{base}/users/{author.username}/statuses/{s.id}",
        "url": (s.url or s.uri or f"{base}/@{author.username}/{s.id}")
        if s.reblog_of_id is None
        else None,
        "created_at": timestamp(s.created_at),
        "edited_at": timestamp(s.edited_at),
        "content": s.content,
        "sensitive": s.sensitive,  # as stored; per viewer in ``_status``
        "spoiler_text": s.spoiler_text,
        "media_attachments": _status_media(view, None, base) if public else [],
        "tags": [{"name": t.lower(), "url": f"{base}/tags/{t.lower()}"} for t in view.tags],
        "emojis": [],
        "poll": None,
        "card": cards.card(view.card, base) if view.card is not None else None,
        "language": s.language,
        "text": None,
    }
    if key is not None:
        _STATUS_PARTS.put(key, base, parts)
    return parts


def status(cleared: Visible[StatusView], base: str) -> dict[str, Any]:
    return _status(cleared.value, cleared.viewer.account_id, base)


def status_view(view: StatusView, viewer_id: int | None, base: str) -> dict[str, Any]:
    """A post embedded in another that was cleared with it (a quoted post,
    cleared by the policy when its quote was read)."""
    return _status(view, viewer_id, base)


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
        "poll": None
        if edit.poll_options is None
        else {"options": [{"title": title} for title in edit.poll_options]},
        # Media of a post not listed publicly get URLs for this viewer, as the
        # post's own do (_status_media).
        "media_attachments": [
            _media(
                m,
                base,
                None if cleared.value.status.visibility.listed else cleared.viewer.account_id,
            )
            for m in edit.media
        ],
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
    shown = {
        "id": str(n.id),
        "type": n.type,
        "created_at": timestamp(n.created_at),
        "group_key": n.group_key or f"ungrouped-{n.id}",
        "account": _account(n.account, base),
        "status": (
            _status(n.status, cleared.viewer.account_id, base) if n.status is not None else None
        ),
    }
    if n.report is not None and n.report_target is not None:
        shown["report"] = {
            **report_fields(n.report),
            "target_account": _account(n.report_target, base),
        }
    if n.warning is not None:
        shown["moderation_warning"] = account_warning(n.warning, n.account, base)
    return shown


def appeal(found: Appeal | None) -> dict[str, Any] | None:
    """Appeal."""
    if found is None:
        return None
    return {"text": found.text, "state": found.state}


def account_warning(found: Warning, target: Account, base: str) -> dict[str, Any]:
    """AccountWarning; ``target`` is the account it is about (already cleared)."""
    return {
        "id": str(found.id),
        "action": found.action,
        "text": found.text,
        "status_ids": [],
        "target_account": _account(target, base),
        "appeal": appeal(found.appeal),
        "created_at": timestamp(found.created_at),
    }


def report_fields(report: Report) -> dict[str, Any]:
    """Report, but its ``target_account``."""
    return {
        "id": str(report.id),
        "action_taken": report.action_taken,
        "action_taken_at": timestamp(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forward,
        "created_at": timestamp(report.created_at),
        "status_ids": [str(i) for i in report.status_ids],
        "rule_ids": [str(i) for i in report.rule_ids],
    }


_PROBLEM_CODES = {
    "blank": "ERR_BLANK",
    "invalid": "ERR_INVALID",
    "too_long": "ERR_TOO_LONG",
    "too_short": "ERR_TOO_SHORT",
    "taken": "ERR_TAKEN",
    "reserved": "ERR_RESERVED",
    "accepted": "ERR_ACCEPTED",
    "blocked": "ERR_BLOCKED",
}


def validation_failed(error: FieldsInvalid) -> dict[str, Any]:
    """``{"error": "Validation failed: ...", "details": {field: [{error, description}]}}``."""
    return {
        "error": words_for(error),
        "details": {
            field: [
                {"error": _PROBLEM_CODES.get(p.kind, "ERR_INVALID"), "description": p.description}
                for p in found
            ]
            for field, found in error.problems.items()
        },
    }
