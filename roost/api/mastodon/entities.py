"""Mastodon's JSON shapes for hashtags, lists, filters, markers, custom emoji
and announcements: the companion of serializers.py (posts and accounts), kept
apart so each file stays about one concept. Wire format lives only in these two.
"""

from __future__ import annotations

from typing import Any

from roost.api.mastodon.serializers import timestamp
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


__all__ = ["tag", "timestamp"]
