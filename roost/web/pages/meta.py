"""The head of profile, post and hashtag pages: OpenGraph and Twitter-card
meta for link previews, the RSS and oEmbed discovery links, and ``noindex``
for accounts that did not opt in to search engines (Mastodon's ``noindex``:
an account is indexed only when it is ``indexable``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from roost.web.present import AccountCard, PostItem

_TEXT = 300


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TEXT else text[: _TEXT - 1] + "…"


def account_meta(account: AccountCard, base: str) -> dict[str, Any]:
    url = account.url
    return {
        "description": _short(account.plain_note) or f"Posts by @{account.username}",
        "canonical": url,
        "robots": None if account.indexable else "noindex, noarchive",
        "links": [
            {
                "rel": "alternate",
                "type": "application/rss+xml",
                "href": f"{url}.rss",
                "title": f"Posts by @{account.username}",
            }
        ],
        "og": {
            "type": "profile",
            "url": url,
            "title": f"{account.display_name} (@{account.username})",
            "description": _short(account.plain_note),
            "image": account.avatar,
            "profile:username": account.username,
        },
        "twitter": {"card": "summary", "title": f"{account.display_name} (@{account.username})"},
    }


def post_meta(post: PostItem, base: str) -> dict[str, Any]:
    text = post.spoiler_text or post.plain_text
    image = next((m.preview_url for m in post.media if m.type == "image"), post.author.avatar)
    oembed = f"{base}/api/oembed?url={quote(post.url, safe='')}"
    links = []
    if post.visibility == "public":
        links.append(
            {"rel": "alternate", "type": "application/json+oembed", "href": oembed, "title": ""}
        )
    return {
        "description": _short(text),
        "canonical": post.url,
        "robots": None if post.author.indexable else "noindex, noarchive",
        "links": links,
        "og": {
            "type": "article",
            "url": post.url,
            "title": f"{post.author.display_name} (@{post.author.username})",
            "description": _short(text),
            "image": image,
            "article:published_time": post.created_at.isoformat(),
        },
        "twitter": {
            "card": "summary_large_image" if post.media and not post.sensitive else "summary",
            "title": f"{post.author.display_name} (@{post.author.username})",
        },
    }


def tag_meta(tag: str, base: str) -> dict[str, Any]:
    url = f"{base}/tags/{tag}"
    return {
        "description": f"Public posts tagged #{tag}",
        "canonical": url,
        "links": [
            {
                "rel": "alternate",
                "type": "application/rss+xml",
                "href": f"{url}.rss",
                "title": f"#{tag}",
            }
        ],
        "og": {"type": "website", "url": url, "title": f"#{tag}"},
        "twitter": {"card": "summary", "title": f"#{tag}"},
    }
