"""What a fetched page says about itself: OpenGraph and Twitter-card meta
tags, its title and description, and where its oEmbed description is
(``<link rel="alternate" type="application/json+oembed">``); and what an
oEmbed answer adds. Only the page's ``<head>`` matters: parsing stops at
``<body>``, so a page's size beyond its head costs nothing but the read.

Text is plain text here (entities decoded, whitespace folded, cut to the
column's length); the only markup kept is an oEmbed ``html`` of a video or
rich card, and only an ``<iframe>`` with an https source (as Mastodon keeps
it): anything else becomes "" and the card shows its title and image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3

TITLE_CHARS = 500
DESCRIPTION_CHARS = 1000
NAME_CHARS = 300


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self.oembed: str | None = None
        self.language: str | None = None
        self._in_title = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "html" and values.get("lang"):
            self.language = values["lang"]
        elif tag == "meta":
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                self.meta.setdefault(key, values["content"])
        elif tag == "link":
            rel = values.get("rel", "").lower().split()
            kind = values.get("type", "").lower()
            if "alternate" in rel and kind == "application/json+oembed" and values.get("href"):
                self.oembed = self.oembed or values["href"]
        elif tag == "title":
            self._in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.done:
            self.title += data


@dataclass
class PageInfo:
    """What the page says; "" (or None) for what it does not."""

    url: str
    type: str = "link"
    title: str = ""
    description: str = ""
    author_name: str = ""
    author_url: str = ""
    provider_name: str = ""
    provider_url: str = ""
    html: str = ""
    width: int = 0
    height: int = 0
    image_url: str | None = None
    image_description: str = ""
    embed_url: str = ""
    language: str | None = None
    published_at: datetime | None = None
    oembed_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _text(value: str | None, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def _web_url(value: str | None, base: str) -> str:
    if not value:
        return ""
    url = urljoin(base, value.strip())
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else ""


def _int(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        return 0
    return number if 0 < number <= 10_000 else 0


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)


_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}")


def _language(value: str | None) -> str | None:
    if not value:
        return None
    code = value.replace("_", "-").split("-")[0]
    return code.lower() if _LANGUAGE.fullmatch(code) else None


def page_info(html: str, url: str) -> PageInfo:
    """The card-worthy facts of an HTML page fetched from ``url``."""
    head = _Head()
    head.feed(html)
    meta = head.meta

    def first(*keys: str) -> str:
        return next((meta[k] for k in keys if meta.get(k, "").strip()), "")

    shown = _web_url(first("og:url"), url) or url
    image = _web_url(first("og:image", "og:image:url", "og:image:secure_url", "twitter:image"), url)
    kind = first("og:type").lower()
    return PageInfo(
        url=shown,
        type="video" if kind.startswith("video") and first("og:video") else "link",
        title=_text(first("og:title", "twitter:title") or head.title, TITLE_CHARS),
        description=_text(
            first("og:description", "twitter:description", "description"), DESCRIPTION_CHARS
        ),
        author_name=_text(first("author", "article:author", "twitter:creator"), NAME_CHARS),
        provider_name=_text(first("og:site_name", "application-name"), NAME_CHARS),
        width=_int(first("og:image:width")) if image else 0,
        height=_int(first("og:image:height")) if image else 0,
        image_url=image or None,
        image_description=_text(first("og:image:alt", "twitter:image:alt"), DESCRIPTION_CHARS),
        embed_url=_web_url(first("og:video:secure_url", "og:video:url", "og:video"), url),
        language=_language(first("og:locale") or head.language),
        published_at=_date(first("article:published_time", "og:published_time")),
        oembed_url=_web_url(head.oembed, url) or None,
    )


def sanitised_embed(markup: str) -> str:
    """An oEmbed ``html``: one https ``<iframe>`` and nothing else, or ""."""
    clean = nh3.clean(
        markup,
        tags={"iframe"},
        attributes={
            "iframe": {"src", "width", "height", "allowfullscreen", "frameborder", "title"}
        },
        url_schemes={"https"},
        link_rel=None,
        strip_comments=True,
    ).strip()
    if not clean.startswith("<iframe") or 'src="https://' not in clean:
        return ""
    return clean


def with_oembed(page: PageInfo, data: Any) -> PageInfo:
    """``page`` completed by an oEmbed answer (a JSON object); what the answer
    leaves out, the page's own meta tags give."""
    if not isinstance(data, dict):
        return page
    kind = str(data.get("type", "")).lower()
    base = page.url
    if kind in ("video", "rich"):
        page.html = sanitised_embed(str(data.get("html") or ""))
        if page.html:
            page.type = kind
    elif kind == "photo" and _web_url(str(data.get("url") or ""), base):
        page.type = "photo"
        page.image_url = _web_url(str(data["url"]), base)
        page.embed_url = page.image_url
    if page.type != "link":
        page.width = _int(data.get("width")) or page.width
        page.height = _int(data.get("height")) or page.height
    page.title = _text(str(data.get("title") or ""), TITLE_CHARS) or page.title
    page.author_name = _text(str(data.get("author_name") or ""), NAME_CHARS) or page.author_name
    page.author_url = _web_url(str(data.get("author_url") or ""), base) or page.author_url
    page.provider_name = (
        _text(str(data.get("provider_name") or ""), NAME_CHARS) or page.provider_name
    )
    page.provider_url = _web_url(str(data.get("provider_url") or ""), base) or page.provider_url
    thumbnail = _web_url(str(data.get("thumbnail_url") or ""), base)
    if thumbnail and page.type != "photo" and not page.image_url:
        page.image_url = thumbnail
    return page
