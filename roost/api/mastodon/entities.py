"""Mastodon's JSON shapes for hashtags, lists, filters, markers, custom emoji,
announcements and the staff's view of accounts (Admin::Account): the companion
of serializers.py (posts and accounts), kept apart so each file stays about one
concept. Wire format lives only in these two.
"""

from __future__ import annotations

from typing import Any

from roost.api.mastodon import roles
from roost.api.mastodon.serializers import account, filter_summary
from roost.api.responses import timestamp
from roost.domain.accounts.moderation import StaffView
from roost.domain.announcements.queries import AnnouncementView, Reaction
from roost.domain.emojis.queries import CustomEmoji
from roost.domain.filters.model import HIDE, Filter, FilterKeyword, FilterStatus
from roost.domain.lists.queries import ListInfo
from roost.domain.markers.queries import Marker
from roost.domain.tags.queries import TagView


def tag(view: TagView, base: str) -> dict[str, Any]:
    key = view.name.lower()
    data: dict[str, Any] = {
        "id": str(view.id) if view.id is not None else key,
        "name": view.name,
        "url": f"{base}/tags/{key}",
        "history": [
            {
                "day": str(int(use.day.timestamp())),
                "uses": str(use.uses),
                "accounts": str(use.accounts),
            }
            for use in view.history
        ],
    }
    if view.following is not None:
        data["following"] = view.following
    return data


def list_(info: ListInfo) -> dict[str, Any]:
    return {
        "id": str(info.id),
        "title": info.title,
        "replies_policy": info.replies_policy,
        "exclusive": info.exclusive,
    }


def filter_keyword(k: FilterKeyword) -> dict[str, Any]:
    return {"id": str(k.id), "keyword": k.keyword, "whole_word": k.whole_word}


def filter_status(s: FilterStatus) -> dict[str, Any]:
    return {"id": str(s.id), "status_id": str(s.status_id)}


def filter_(f: Filter) -> dict[str, Any]:
    return {
        **filter_summary(f),
        "keywords": [filter_keyword(k) for k in f.keywords],
        "statuses": [filter_status(s) for s in f.statuses],
    }


def filter_v1(k: FilterKeyword, f: Filter) -> dict[str, Any]:
    """A v1 filter: one keyword, with its filter's context, expiry and action."""
    return {
        "id": str(k.id),
        "phrase": k.keyword,
        "context": list(f.context),
        "whole_word": k.whole_word,
        "expires_at": timestamp(f.expires_at),
        "irreversible": f.action == HIDE,
    }


def marker(m: Marker) -> dict[str, Any]:
    return {
        "last_read_id": str(m.last_read_id),
        "version": m.version,
        "updated_at": timestamp(m.updated_at),
    }


def custom_emoji(emoji: CustomEmoji, base: str) -> dict[str, Any]:
    url = f"{base}/emoji/{emoji.file_name}"
    return {
        "shortcode": emoji.shortcode,
        "url": url,
        "static_url": url,
        "visible_in_picker": emoji.visible_in_picker,
        "category": emoji.category,
    }


def announcement(view: AnnouncementView, base: str) -> dict[str, Any]:
    return {
        "id": str(view.id),
        "content": view.content,
        "starts_at": timestamp(view.starts_at),
        "ends_at": timestamp(view.ends_at),
        "all_day": view.all_day,
        "published_at": timestamp(view.published_at),
        "updated_at": timestamp(view.updated_at),
        "read": view.read,
        "mentions": [],
        "statuses": [],
        "tags": [],
        "emojis": [],
        "reactions": [_reaction(r, base) for r in view.reactions],
    }


def _reaction(reaction: Reaction, base: str) -> dict[str, Any]:
    data: dict[str, Any] = {"name": reaction.name, "count": reaction.count, "me": reaction.me}
    if reaction.emoji_file is not None:
        data["url"] = data["static_url"] = f"{base}/emoji/{reaction.emoji_file}"
    return data


def admin_account(view: StaffView, base: str) -> dict[str, Any]:
    """Admin::Account. Roost keeps no IP addresses: those answer empty."""
    acc = view.account.value
    shown = account(view.account, base)
    if view.suspended:
        shown["suspended"] = True
    if view.silenced:
        shown["limited"] = True  # as Mastodon's Account shows a silenced account
    answer: dict[str, Any] = {
        "id": str(acc.id),
        "username": acc.username,
        "domain": acc.domain,
        "created_at": timestamp(acc.created_at),
        "email": view.email or "",
        "ip": None,
        "ips": [],
        "role": roles.role(view.role),
        "confirmed": view.confirmed,
        "suspended": view.suspended,
        "silenced": view.silenced,
        "sensitized": view.sensitized,
        "disabled": view.disabled,
        "approved": view.approved,
        "locale": view.locale,
        "invite_request": view.reason,
        "account": shown,
    }
    if view.invited_by is not None:  # as Mastodon: only for an account that used an invite
        answer["invited_by_account_id"] = str(view.invited_by)
    return answer
