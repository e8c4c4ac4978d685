"""What the templates read: posts and accounts the privacy policy cleared,
turned into plain records for HTML (as roost/api/mastodon/serializers.py turns
them into Mastodon's JSON). Only ``Visible`` values come in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from markupsafe import Markup

from roost.domain.privacy import Visible
from roost.domain.types import (
    Account,
    MediaAttachment,
    PollView,
    StatusView,
    shown_sensitive,
)
from roost.media import urls as media_urls
from roost.web.cache import Shown

DEFAULT_AVATAR = "/avatars/original/missing.png"
DEFAULT_HEADER = "/headers/original/missing.png"


@dataclass(frozen=True)
class ProfileField:
    name: str
    value: str
    link: str | None  # an http(s) address, shown as a rel="me" link
    verified_at: str | None


@dataclass(frozen=True)
class AccountCard:
    id: int
    username: str
    display_name: str
    url: str
    avatar: str
    header: str
    note: Markup
    fields: list[ProfileField]
    locked: bool
    bot: bool
    followers_count: int
    following_count: int
    statuses_count: int
    created_at: datetime
    indexable: bool
    plain_note: str


@dataclass(frozen=True)
class MediaItem:
    type: str
    url: str
    preview_url: str
    description: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class PollOption:
    index: int
    title: str
    votes: int | None  # None while a running poll hides its totals
    percent: int
    chosen: bool


@dataclass(frozen=True)
class PollItem:
    """A poll as the viewer sees it (the API's Poll entity, for HTML)."""

    id: int
    options: list[PollOption]
    multiple: bool
    expired: bool
    expires_at: datetime
    votes_count: int
    voters_count: int
    # Whether the viewer may still vote: signed in, not the author, not voted,
    # the poll running.
    may_vote: bool


@dataclass(frozen=True)
class PostItem:
    id: int
    url: str
    author: AccountCard
    content: Markup
    spoiler_text: str
    sensitive: bool
    visibility: str
    created_at: datetime
    edited_at: datetime | None
    media: list[MediaItem]
    tags: list[str]
    replies_count: int
    reblogs_count: int
    favourites_count: int
    in_reply_to_id: int | None
    boosted_by: AccountCard | None = None
    language: str | None = None
    plain_text: str = ""
    mentions: list[str] = field(default_factory=list)
    # The viewer's own marks on the post (all False for nobody).
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    own: bool = False
    poll: PollItem | None = None


def _poll(poll: PollView, viewer_id: int | None) -> PollItem:
    """As the API's ``poll_entity``: per-option counts hidden while a poll
    that hides its totals runs, except from its author."""
    own = viewer_id is not None and viewer_id == poll.account_id
    hidden = poll.hide_totals and not poll.expired and not own
    total = poll.votes_count
    mine = set(poll.own_votes or ())
    options = [
        PollOption(
            index=n,
            title=title,
            votes=None if hidden else count,
            percent=0 if hidden or not total else round(100 * count / total),
            chosen=n in mine,
        )
        for n, (title, count) in enumerate(zip(poll.options, poll.counts, strict=True))
    ]
    return PollItem(
        id=poll.id,
        options=options,
        multiple=poll.multiple,
        expired=poll.expired,
        expires_at=poll.expires_at,
        votes_count=total,
        voters_count=poll.voters_count,
        may_vote=viewer_id is not None and not own and not mine and not poll.expired,
    )


def _link(value: str) -> str | None:
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc and " " not in text:
        return text
    return None


def account_card(account: Account, base: str) -> AccountCard:
    def image(role: str, default: str) -> str:
        key = account.avatar_file if role == "avatar" else account.header_file
        if not key:
            return base + default
        return media_urls.profile_url(base, account.id, role, key.rsplit("/", 1)[-1])

    fields = [
        ProfileField(
            name=str(f.get("name", "")),
            value=str(f.get("value", "")),
            link=_link(str(f.get("value", ""))),
            verified_at=f.get("verified_at"),
        )
        for f in account.fields
    ]
    return AccountCard(
        id=account.id,
        # An account of another server shows as name@domain and links to its
        # page there, never to a local namesake.
        username=account.acct,
        display_name=account.display_name or account.username,
        url=account.url or f"{base}/@{account.username}",
        avatar=image("avatar", DEFAULT_AVATAR),
        header=image("header", DEFAULT_HEADER),
        note=Markup(account.note_html),
        fields=fields,
        locked=account.locked,
        bot=account.bot,
        followers_count=account.followers_count,
        following_count=account.following_count,
        statuses_count=account.statuses_count,
        created_at=account.created_at,
        indexable=account.indexable,
        plain_note=account.note,
    )


def account(cleared: Visible[Account], base: str, shown: Shown | None = None) -> AccountCard:
    if shown is not None:
        shown.accounts.add(cleared.value.id)
    return account_card(cleared.value, base)


def _media(media: MediaAttachment, base: str, signed_for: int | None) -> MediaItem:
    def url(variant: str, key: str) -> str:
        name = key.rsplit("/", 1)[-1]
        return media_urls.attachment_url(base, media.id, variant, name, signed_for=signed_for)

    original = url("original", media.file_key)
    preview = url("small", media.preview_key) if media.preview_key else original
    size = media.meta.get("small") or media.meta.get("original") or {}
    return MediaItem(
        type=media.type,
        url=original,
        preview_url=preview,
        description=media.description or "",
        width=size.get("width"),
        height=size.get("height"),
    )


def _post(view: StatusView, viewer_id: int | None, base: str, shown: Shown | None) -> PostItem:
    s = view.status
    public = s.visibility.listed
    signed_for = None if public else viewer_id
    if shown is not None:
        shown.statuses.add(s.id)
        shown.accounts.add(view.account.id)
        shown.accounts.update(m.id for m in view.mentions)
    author = account_card(view.account, base)
    return PostItem(
        id=s.id,
        url=s.url or s.uri or f"{base}/@{view.account.username}/{s.id}",
        author=author,
        content=Markup(s.content),
        spoiler_text=s.spoiler_text,
        sensitive=shown_sensitive(s, view.account, viewer_id),
        visibility=s.visibility.label,
        created_at=s.created_at,
        edited_at=s.edited_at,
        media=[_media(m, base, signed_for) for m in view.media if m.ready],
        tags=[t.lower() for t in view.tags],
        replies_count=s.replies_count,
        reblogs_count=s.reblogs_count,
        favourites_count=s.favourites_count,
        in_reply_to_id=s.in_reply_to_id,
        language=s.language,
        plain_text=s.text,
        mentions=[m.acct for m in view.mentions],
        favourited=view.favourited,
        reblogged=view.reblogged,
        bookmarked=view.bookmarked,
        own=viewer_id is not None and viewer_id == view.account.id,
        poll=_poll(view.poll, viewer_id) if view.poll is not None else None,
    )


def post(cleared: Visible[StatusView], base: str, shown: Shown | None = None) -> PostItem:
    """A post as shown; a boost shows its original, naming who boosted it."""
    view = cleared.value
    viewer_id = cleared.viewer.account_id
    if view.reblog is not None:
        if shown is not None:
            shown.statuses.add(view.status.id)
            shown.accounts.add(view.account.id)
        original = _post(view.reblog, viewer_id, base, shown)
        return PostItem(**{**original.__dict__, "boosted_by": account_card(view.account, base)})
    return _post(view, viewer_id, base, shown)


def posts(
    cleared: list[Visible[StatusView]], base: str, shown: Shown | None = None
) -> list[PostItem]:
    return [post(v, base, shown) for v in cleared]
