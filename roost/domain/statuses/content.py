"""Plain text in, sanitised HTML out: links, @mentions and #hashtags.

The author's plain source is kept beside the HTML (for edit and redraft);
the HTML is rebuilt from it, never edited in place. Mentions link only to
accounts that exist here: local ones, and accounts of other servers stored
here (``@name@domain``, linked to their own profile page, as Mastodon links
them); anything else stays text. The result is passed through nh3
as a last line of defence, although everything was escaped while building it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

import nh3

# Mastodon counts every link as 23 characters, whatever its length.
URL_WEIGHT = 23

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)
# ``@name`` or ``@name@domain``; the domain may be an IPv4 address and carry a
# port (servers federating on one machine in insecure mode, docs/federation.md).
_MENTION = re.compile(
    r"(?<![\w@/])@([a-zA-Z0-9_]{1,30})"
    r"(?:@((?:[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}|[0-9]{1,3}(?:\.[0-9]{1,3}){3})(?::[0-9]{1,5})?))?"
)
_HASHTAG = re.compile(r"(?<![\w#/&])#(\w{1,100})", re.UNICODE)
_TOKEN = re.compile(f"{_URL.pattern}|{_MENTION.pattern}|{_HASHTAG.pattern}", re.IGNORECASE)

# The same tokens, found faster: every one starts with h (of http), @ or #, and
# the lookahead lets the regex engine skip the other characters cheaply.
_TOKEN_SCAN = re.compile(f"(?=[h@#])(?:{_TOKEN.pattern})", re.IGNORECASE)
_PARAGRAPHS = re.compile(r"\n{2,}")
# What nh3's HTML parser changes in escaped text (see render_without_mentions).
_PARSER_CHANGES = re.compile(r"[\x00\r\xa0\ud800-\udfff]")
# A link's host (and port) that any URL parser takes as it is. nh3 drops the
# href of a link whose address does not parse (``http://a.b@``, a port past
# 65535, a bad IPv4 or punycode host); these never come near that.
_PLAIN_HOST = r"(?:[a-z0-9]+(?:-[a-z0-9]+)*\.)*[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?::[0-9]{1,4})?"
_PLAIN_AUTHORITY = re.compile(_PLAIN_HOST, re.IGNORECASE | re.ASCII)
_AUTHORITY_END = re.compile(r"[/?#\\]")
# A server address that escaping leaves alone and nh3 lets stand in an href.
_PLAIN_BASE_URL = re.compile(
    rf"https?://{_PLAIN_HOST}(?:/[A-Za-z0-9._~/%+-]*)?", re.IGNORECASE | re.ASCII
)

_ALLOWED_TAGS = {"p", "br", "a", "span"}
_ALLOWED_ATTRIBUTES = {"a": {"href", "class", "rel", "target", "translate"}, "span": {"class"}}


@dataclass(frozen=True, slots=True)
class RemoteMention:
    """An account of another server a post may mention: its id, its username
    as its server spells it, and its profile page (the mention's link)."""

    account_id: int
    username: str
    url: str


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    mentioned_ids: list[int]
    tags: list[str]


def mentioned_usernames(text: str) -> list[str]:
    """Local usernames the text mentions (``@name`` without a domain, or ours)."""
    names: list[str] = []
    for match in _MENTION.finditer(text):
        if match.group(1).lower() not in names:
            names.append(match.group(1).lower())
    return names


def remote_mentions(text: str, base_url: str) -> list[tuple[str, str]]:
    """The ``(username, domain)`` of each account of another server the text
    mentions (``@name@domain``, the domain not this server's), lower-cased,
    once each, in order."""
    found: list[tuple[str, str]] = []
    for match in _MENTION.finditer(text):
        domain = match.group(2)
        if domain and not _ours(domain, base_url):
            acct = (match.group(1).lower(), domain.lower())
            if acct not in found:
                found.append(acct)
    return found


def hashtags(text: str) -> list[str]:
    seen: dict[str, str] = {}
    for match in _HASHTAG.finditer(text):
        name = match.group(1)
        if not name.isdigit():
            seen.setdefault(name.lower(), name)
    return list(seen.values())


def linked_urls(text: str) -> list[str]:
    """The web addresses ``render`` makes links of, in order (mentions and
    hashtags are other tokens)."""
    return [m.group(0) for m in _TOKEN_SCAN.finditer(text) if m.group(0)[0] in "hH"]


def character_count(text: str) -> int:
    """Length as Mastodon clients count it: links weigh 23, remote mentions
    count only their local part."""
    total = len(text)
    for match in _URL.finditer(text):
        total += URL_WEIGHT - len(match.group(0))
    for match in _MENTION.finditer(text):
        if match.group(2):
            total -= len(match.group(2)) + 1
    return total


def render(
    text: str,
    local_accounts: Mapping[str, tuple[int, str]],
    base_url: str,
    remote_accounts: Mapping[tuple[str, str], RemoteMention] | None = None,
) -> Rendered:
    """Turn the author's text into HTML.

    ``local_accounts`` maps a lower-cased username to (account id, username) for
    every mentioned name that exists here; ``remote_accounts`` maps a
    lower-cased ``(username, domain)`` to the stored account of another server.
    """
    mentioned: list[int] = []
    tags: list[str] = []
    clean = nh3.clean(
        _markup(text, local_accounts, base_url, mentioned, tags, remote=remote_accounts),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        link_rel=None,
    )
    return Rendered(html=clean, mentioned_ids=mentioned, tags=tags)


def render_without_mentions(text: str, base_url: str) -> Rendered:
    """``render(text, {}, base_url)``, the same HTML, without the nh3 pass where
    it provably changes nothing (for bulk work such as an archive import).

    The markup is built only from fixed tags and ``html.escape``d text, so nh3
    finds nothing to remove: with no local accounts there is no mention
    ``<span>`` (whose ``translate`` nh3 drops), and every tag and attribute
    written is one it allows. What it still changes: its HTML parser turns CR
    into LF, drops NUL and writes a no-break space as ``&nbsp;`` (a lone
    surrogate cannot be encoded at all), and it drops the href of a link
    whose address does not parse. So text holding any of those characters,
    or a link whose host is anything but plain letters, digits, dots and
    hyphens (with a short port), goes through ``render`` itself, and so does
    all text when ``base_url`` (in every hashtag's href) is not that plain.
    """
    if _PARSER_CHANGES.search(text) is not None or not _PLAIN_BASE_URL.fullmatch(base_url):
        return render(text, {}, base_url)
    tags: list[str] = []
    links: list[str] = []
    markup = _markup(text, {}, base_url, [], tags, links)
    if not all(_plain_link(link) for link in links):
        return render(text, {}, base_url)
    return Rendered(html=markup, mentioned_ids=[], tags=tags)


def _plain_link(url: str) -> bool:
    rest = url.split("://", 1)[1]
    end = _AUTHORITY_END.search(rest)
    return _PLAIN_AUTHORITY.fullmatch(rest, 0, end.start() if end else len(rest)) is not None


def _markup(
    text: str,
    local_accounts: Mapping[str, tuple[int, str]],
    base_url: str,
    mentioned: list[int],
    tags: list[str],
    links: list[str] | None = None,
    *,
    remote: Mapping[tuple[str, str], RemoteMention] | None = None,
) -> str:
    """The HTML before sanitising: paragraphs of escaped text and rendered
    tokens; the addresses of the links made are added to ``links``."""
    rendered: list[str] = []
    for paragraph in _PARAGRAPHS.split(text.strip()):
        if not paragraph.strip():
            continue
        inline = _inline(paragraph, local_accounts, base_url, mentioned, tags, links, remote)
        rendered.append("<p>" + inline.replace("\n", "<br>") + "</p>")
    return "".join(rendered)


def _inline(
    text: str,
    local_accounts: Mapping[str, tuple[int, str]],
    base_url: str,
    mentioned: list[int],
    tags: list[str],
    links: list[str] | None,
    remote: Mapping[tuple[str, str], RemoteMention] | None = None,
) -> str:
    """Escaped text with its tokens rendered, and nothing around it."""
    pieces: list[str] = []
    position = 0
    for match in _TOKEN_SCAN.finditer(text):
        pieces.append(html.escape(text[position : match.start()], quote=False))
        pieces.append(_render_token(match, local_accounts, base_url, mentioned, tags, remote))
        if links is not None and match.group(0)[0] in "hH":
            links.append(match.group(0))
        position = match.end()
    pieces.append(html.escape(text[position:], quote=False))
    return "".join(pieces)


def _render_token(
    match: re.Match[str],
    local_accounts: Mapping[str, tuple[int, str]],
    base_url: str,
    mentioned: list[int],
    tags: list[str],
    remote: Mapping[tuple[str, str], RemoteMention] | None,
) -> str:
    token = match.group(0)
    if token.startswith("@"):
        username, domain = match.group(1), match.group(2)
        if domain and not _ours(domain, base_url):
            found = (remote or {}).get((username.lower(), domain.lower()))
            if found is None:
                return html.escape(token, quote=False)
            account_id, canonical, href = found.account_id, found.username, found.url
        else:
            local = local_accounts.get(username.lower())
            if local is None:
                return html.escape(token, quote=False)
            account_id, canonical = local
            href = f"{base_url}/@{canonical}"
        if account_id not in mentioned:
            mentioned.append(account_id)
        href = html.escape(href)
        return (
            f'<span class="h-card" translate="no"><a href="{href}" class="u-url mention">'
            f"@<span>{html.escape(canonical)}</span></a></span>"
        )
    if token.startswith("#"):
        name = match.group(3)
        if name.isdigit():
            return html.escape(token, quote=False)
        if name.lower() not in (t.lower() for t in tags):
            tags.append(name)
        href = html.escape(f"{base_url}/tags/{name.lower()}")
        return (
            f'<a href="{href}" class="mention hashtag" rel="tag">'
            f"#<span>{html.escape(name)}</span></a>"
        )
    href = html.escape(token)
    return (
        f'<a href="{href}" target="_blank" rel="nofollow noopener noreferrer" '
        f'translate="no">{html.escape(token, quote=False)}</a>'
    )


def _host(base_url: str) -> str:
    return base_url.split("://", 1)[-1].split("/", 1)[0].split(":")[0].lower()


def _ours(domain: str, base_url: str) -> bool:
    """Whether ``domain`` (as written after ``@name@``) is this server: its
    host, with or without its port."""
    authority = base_url.split("://", 1)[-1].split("/", 1)[0].lower()
    return domain.lower() in (authority, _host(base_url))


def note_html(text: str) -> str:
    """A profile note or field value: text with links, no mentions resolved."""
    return render(text, {}, "").html if text.strip() else ""


def field_html(text: str) -> str:
    """A profile field's value: its links made, as one line with no paragraph
    around it (Mastodon shows field values inline, in a table cell)."""
    if not text.strip():
        return ""
    markup = _inline(" ".join(text.split()), {}, "", [], [], None)
    return nh3.clean(markup, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES, link_rel=None)
