"""A link preview card as the domain knows it (Mastodon's PreviewCard, less
its wire format: roost/api/mastodon/cards.py renders it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import RowMapping

TYPES = ("link", "photo", "video", "rich")


@dataclass(frozen=True, slots=True)
class PreviewCard:
    id: int
    url: str  # as the posts link it
    shown_url: str  # the page's own address (og:url, or where redirects ended)
    type: str  # one of TYPES
    title: str
    description: str
    author_name: str
    author_url: str
    provider_name: str
    provider_url: str
    html: str  # sanitised: an oEmbed iframe of a video or rich card, or ""
    width: int
    height: int
    image_url: str | None  # the page's own image address (never given to apps)
    image_file: str | None  # that image, re-encoded, in the media store
    blurhash: str | None
    image_description: str
    embed_url: str
    language: str | None
    published_at: datetime | None
    fetched_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> PreviewCard:
        return cls(**{name: row[name] for name in _FIELDS})

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(PreviewCard.__dataclass_fields__)
