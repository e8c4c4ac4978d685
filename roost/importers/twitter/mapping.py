"""A tweet's text as a Roost post: plain source text, then HTML.

Text: every t.co link becomes the URL it stood for, the t.co links of attached
media are dropped (the media come with the post), and then the HTML entities
of the archive (``&amp;``, ``&lt;``) are turned back into characters in the
text around the links, so a URL's query is never mistaken for an entity. A reply to
someone else starts with a line naming whom it answered; a retweet ends with a
link to the original.

HTML: the post renderer's own (links, hashtags, paragraphs, sanitising), with
no local account resolved as a mention; ``@handle`` becomes a link to that
Twitter profile instead, because a Twitter name says nothing about who holds
the same name here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from roost.domain.statuses import content
from roost.importers.twitter.tweets import Tweet

TWITTER = "https://twitter.com"
_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
_HANDLE = re.compile(r"(?<![\w@/&#.])@([A-Za-z0-9_]{1,15})(?![\w@])")
_STATUS_URL = re.compile(
    r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:([A-Za-z0-9_]{1,15})|i/web|i)"
    r"/status(?:es)?/(\d{1,20})[^\s<>\"']*",
    re.IGNORECASE,
)
_MEDIA_SUFFIX = re.compile(r"/(?:photo|video)/\d+$")
# Tags and text of HTML the renderer made: outside <a>, text nodes only.
_MARKUP = re.compile(r"(<[^>]*>)")


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose archive it is, as account.js says (unknown for a bare tweets.js)."""

    twitter_id: int | None
    screen_name: str | None

    def is_self(self, screen_name: str | None, user_id: int | None) -> bool:
        if self.twitter_id is not None and user_id is not None:
            return user_id == self.twitter_id
        return bool(screen_name and self.screen_name) and (
            str(screen_name).lower() == str(self.screen_name).lower()
        )


@dataclass(frozen=True, slots=True)
class LongText:
    """The whole text of a long post, from note-tweet.js."""

    text: str
    urls: tuple[tuple[str, str], ...]


def expand(text: str, urls: Mapping[str, str], drop: frozenset[str] = frozenset()) -> str:
    """t.co links replaced (``drop``ped for media), then entities unescaped.

    Only the tweet's own text is unescaped, never an expanded URL: ``&copy=1``
    in a link's query is not the entity ``&copy``.
    """
    pieces: list[str] = []
    position = 0
    for match in _TCO.finditer(text):
        pieces.append(html.unescape(text[position : match.start()]))
        short = match.group(0)
        if short not in drop:
            pieces.append(urls.get(short, short))
        position = match.end()
    pieces.append(html.unescape(text[position:]))
    expanded = "".join(pieces)
    lines = [line.rstrip() for line in expanded.split("\n")]
    return "\n".join(lines).strip()


def post_text(tweet: Tweet, *, self_reply: bool, long: LongText | None = None) -> str:
    """The source text of the post a tweet becomes ("" for media alone)."""
    urls = dict(tweet.urls)
    source = tweet.text
    if long is not None:
        urls.update(long.urls)
        source = long.text
    drop = frozenset(m.short_url for m in tweet.media)
    text = expand(source, urls, drop)
    if tweet.is_retweet:
        return f"{text}\n\n{_original_link(tweet, urls)}"
    if tweet.in_reply_to_id is not None and not self_reply:
        return f"{_reply_note(tweet)}\n\n{text}" if text else _reply_note(tweet)
    return text


def permalink(tweet_id: int) -> str:
    """The tweet on Twitter: the text of a post whose media could not come along."""
    return f"{TWITTER}/i/web/status/{tweet_id}"


def _reply_note(tweet: Tweet) -> str:
    name = tweet.in_reply_to_screen_name
    who = f"@{name}" if name else "a post"
    target = f"{TWITTER}/{name or 'i/web'}/status/{tweet.in_reply_to_id}"
    return f"In reply to {who}: {target}"


def _original_link(tweet: Tweet, urls: Mapping[str, str]) -> str:
    """The retweeted post: named by a link of its media when there is one
    (``.../status/<original>/photo/1``); otherwise the retweet's own address,
    which Twitter answers with the original."""
    for expanded in urls.values():
        match = _STATUS_URL.match(expanded)
        if match is not None and int(match.group(2)) != tweet.id and "/photo/" in expanded:
            return _MEDIA_SUFFIX.sub("", expanded.split("?")[0])
    handle = re.match(r"RT @([A-Za-z0-9_]{1,15})", tweet.text)
    user = handle.group(1) if handle else "i/web"
    return f"{TWITTER}/{user}/status/{tweet.id}"


def status_links(text: str) -> list[tuple[str | None, int]]:
    """Each Twitter post address in the text: (screen name or None, tweet id)."""
    return [(m.group(1), int(m.group(2))) for m in _STATUS_URL.finditer(text)]


def rewrite_links(text: str, local: Mapping[int, str], own_id: int | None = None) -> str:
    """Addresses of tweets that were imported replaced by their posts' addresses
    here (``local``: tweet id -> URL); a post never links to itself."""
    if not local:
        return text  # nothing to replace (most posts)

    def replace(match: re.Match[str]) -> str:
        tweet_id = int(match.group(2))
        if tweet_id == own_id or tweet_id not in local:
            return match.group(0)
        if _MEDIA_SUFFIX.search(match.group(0).split("?")[0]):
            return match.group(0)
        return local[tweet_id]

    return _STATUS_URL.sub(replace, text)


def render(text: str, base_url: str) -> content.Rendered:
    """HTML for an imported post: the usual rendering, no local mentions, and
    ``@handle`` linked to the Twitter profile. The same HTML as
    ``content.render(text, {}, base_url)``, without sanitising again what was
    built from escaped text (see ``render_without_mentions``); the handle
    links added after it hold nothing but a name of ``[A-Za-z0-9_]``."""
    rendered = content.render_without_mentions(text, base_url)
    if "@" not in rendered.html:
        return rendered
    return content.Rendered(html=link_handles(rendered.html), mentioned_ids=[], tags=rendered.tags)


def link_handles(markup: str) -> str:
    pieces = _MARKUP.split(markup)
    depth = 0
    for index, piece in enumerate(pieces):
        if index % 2 == 1:
            if piece.startswith("<a ") or piece == "<a>":
                depth += 1
            elif piece == "</a>":
                depth = max(0, depth - 1)
            continue
        if depth == 0 and "@" in piece:
            pieces[index] = _HANDLE.sub(_handle_link, piece)
    return "".join(pieces)


def _handle_link(match: re.Match[str]) -> str:
    name = match.group(1)
    return (
        f'<a href="{TWITTER}/{name}" target="_blank" rel="nofollow noopener noreferrer" '
        f'translate="no">@{name}</a>'
    )
