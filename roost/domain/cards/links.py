"""Which link of a post gets a preview card: the first web address its HTML
links, as Mastodon picks it. Mentions and hashtags are not web addresses
there, and a link to this server itself (a post or a profile here) has no
card."""

from __future__ import annotations

from urllib.parse import urlsplit

from roost.domain.statuses.content import linked_urls

MAX_URL_CHARS = 2048


def first_link(text: str, base_url: str) -> str | None:
    own = urlsplit(base_url).netloc.lower()
    for url in linked_urls(text):
        parts = urlsplit(url)
        if parts.netloc.lower() == own or len(url) > MAX_URL_CHARS or not parts.hostname:
            continue
        return url
    return None
