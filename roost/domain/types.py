"""The domain's vocabulary: plain frozen records, no wire format.

The Mastodon JSON shapes are built from these in roost/api/mastodon/serializers.py;
another API (ActivityPub, the web pages) would build its own from the same.
``Page`` and ``Visibility`` are defined below the domain (roost/paging.py,
roost/visibility.py), for the stores that take them, and named here as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import RowMapping

from roost.paging import Page as Page
from roost.visibility import Visibility as Visibility

if TYPE_CHECKING:
    from roost.domain.cards.model import PreviewCard
    from roost.domain.filters.model import FilterMatch
    from roost.domain.reports.model import Report
    from roost.domain.strikes.model import Warning


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: an account (or nobody), with the scopes of their token."""

    account_id: int | None
    scopes: frozenset[str] = frozenset()
    application_id: int | None = None
    token_id: int | None = None
    # Staff sight for the privacy policy (suspended accounts are shown): true
    # when the account's role grants any staff permission.
    is_admin: bool = False
    # The permission mask of the account's role (roost/domain/roles/permissions.py).
    permissions: int = 0

    @property
    def anonymous(self) -> bool:
        return self.account_id is None

    def may(self, needed: int) -> bool:
        """Does the viewer's role grant ``needed``? ``administrator`` (0x1) grants all."""
        return bool(self.permissions & 1) or (self.permissions & needed) == needed


ANONYMOUS = Viewer(account_id=None)


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    display_name: str
    note: str
    note_html: str
    fields: list[dict[str, Any]]
    locked: bool
    bot: bool
    discoverable: bool
    indexable: bool
    hide_collections: bool
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: datetime | None
    created_at: datetime
    suspended_at: datetime | None
    avatar_file: str | None = None
    header_file: str | None = None
    # Set while staff have marked the account sensitive: every post of it,
    # old ones too, is shown sensitive to everyone but its author
    # (``shown_sensitive``; roost/domain/accounts/limits.py).
    sensitized_at: datetime | None = None
    # Of an account of another server (None for local ones): its domain, and
    # its actor's id and profile page there.
    domain: str | None = None
    uri: str | None = None
    url: str | None = None
    # The account it moved to, as the viewer may see it (``account_moves``;
    # roost/domain/accounts/moved.py sets it where accounts are shown). Not
    # a column of ``accounts``: kept last, out of ``_ACCOUNT_FIELDS``.
    moved: Account | None = None

    @property
    def acct(self) -> str:
        """``name`` for a local account, ``name@domain`` for a remote one."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"

    @classmethod
    def from_row(cls, row: RowMapping | Mapping[str, Any]) -> Account:
        return cls(**{name: row[name] for name in _ACCOUNT_FIELDS})


# The fields of an ``Account`` that are columns of ``accounts``.
ACCOUNT_COLUMNS = tuple(name for name in Account.__dataclass_fields__ if name != "moved")
_ACCOUNT_FIELDS = ACCOUNT_COLUMNS


@dataclass(frozen=True, slots=True)
class Status:
    id: int
    account_id: int
    in_reply_to_id: int | None
    in_reply_to_account_id: int | None
    reblog_of_id: int | None
    application_id: int | None
    visibility: Visibility
    text: str
    content: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    replies_count: int
    reblogs_count: int
    favourites_count: int
    created_at: datetime
    edited_at: datetime | None
    # Of a post of another server (None for local ones): the Note's id and
    # its page there.
    uri: str | None = None
    url: str | None = None

    @classmethod
    def from_row(cls, row: RowMapping) -> Status:
        values = {name: row[name] for name in _STATUS_FIELDS}
        values["visibility"] = Visibility(values["visibility"])
        return cls(**values)


_STATUS_FIELDS = tuple(Status.__dataclass_fields__)


def shown_sensitive(status: Status, author: Account, viewer_id: int | None) -> bool:
    """Whether ``status`` is shown sensitive to ``viewer_id``, as Mastodon
    shows it: the author sees the flag the post carries, everyone else also
    sees every post of a sensitized account as sensitive. Decided at display
    time, so sensitizing and lifting it apply to posts made before as well."""
    if status.sensitive:
        return True
    return author.sensitized_at is not None and viewer_id != status.account_id


@dataclass(frozen=True, slots=True)
class MediaAttachment:
    """An uploaded file as the domain knows it; its URLs are the API's business."""

    id: int
    account_id: int
    status_id: int | None
    type: str  # image, video, audio
    state: str  # processing, ready
    content_type: str
    file_key: str
    file_size: int
    preview_key: str | None
    meta: dict[str, Any]
    description: str | None
    blurhash: str | None
    focus_x: float | None
    focus_y: float | None
    created_at: datetime
    # A received post's attachment not stored here: its address on its server.
    remote_url: str | None = None
    remote_used_at: datetime | None = None
    remote_pruned_at: datetime | None = None

    @classmethod
    def from_row(cls, row: RowMapping) -> MediaAttachment:
        return cls(**{name: row[name] for name in _MEDIA_FIELDS})

    @property
    def ready(self) -> bool:
        return self.state == "ready"


_MEDIA_FIELDS = tuple(MediaAttachment.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class AppInfo:
    name: str
    website: str | None


@dataclass(frozen=True, slots=True)
class PollView:
    """A poll as one viewer sees it: its counts, and the viewer's own votes
    (``own_votes`` None for nobody signed in)."""

    id: int
    status_id: int
    account_id: int
    options: tuple[str, ...]
    counts: tuple[int, ...]
    voters_count: int
    multiple: bool
    hide_totals: bool
    expires_at: datetime
    expired: bool
    own_votes: tuple[int, ...] | None = None

    @property
    def votes_count(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class QuoteView:
    """The post a post quotes, as one viewer may see it: ``state`` accepted
    (``quoted`` set, unless ``shallow``), revoked, deleted or unauthorized (a
    post the viewer may not see: nothing of it is named)."""

    state: str
    quoted_status_id: int | None = None
    quoted: StatusView | None = None
    shallow: bool = False


@dataclass(frozen=True, slots=True)
class Quoting:
    """Quoting as it applies to a post and one viewer: its policy (public,
    followers, nobody), what it means for the viewer (automatic, denied), how
    many accepted quotes it has, and the post it quotes, if any."""

    policy: str
    current_user: str
    quotes_count: int = 0
    quote: QuoteView | None = None


@dataclass(frozen=True, slots=True)
class StatusView:
    """A post with everything needed to show it to one viewer."""

    status: Status
    account: Account
    mentions: list[Account] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    reblog: StatusView | None = None
    application: AppInfo | None = None
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False
    muted: bool = False  # the viewer muted this post's thread
    media: list[MediaAttachment] = field(default_factory=list)
    # The viewer's filters that match this post (set by roost/domain/filters/apply.py).
    filtered: tuple[FilterMatch, ...] = ()
    # Its poll, counted now and marked for this viewer (roost/domain/polls).
    poll: PollView | None = None
    # Quote policy, count and quoted post for this viewer (roost/domain/quotes).
    quoting: Quoting | None = None
    # An immutable object standing for this version's viewer-independent parts
    # (text, media, tags...): views with the same one show those parts the same,
    # so what is derived from them may be cached by it. None: not known.
    parts_key: object | None = None
    card: PreviewCard | None = None  # of its first link (roost/domain/cards)


@dataclass(frozen=True, slots=True)
class StatusEdit:
    text: str
    content: str
    spoiler_text: str
    sensitive: bool
    created_at: datetime
    # The option texts of the version's poll; None when it had none.
    poll_options: tuple[str, ...] | None = None
    # Its media in order, each with its alt text as it was in this version.
    media: tuple[MediaAttachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Relationship:
    id: int
    following: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    followed_by: bool = False
    requested: bool = False
    requested_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    domain_blocking: bool = False
    endorsed: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: int
    type: str
    created_at: datetime
    account: Account
    status: StatusView | None
    group_key: str | None = None  # stored for favourites, boosts, follows
    # ``admin.report``: the report, and its target as the policy shows it.
    report: Report | None = None
    report_target: Account | None = None
    # ``moderation_warning``: the strike, the recipient's own.
    warning: Warning | None = None


@dataclass(frozen=True, slots=True)
class ConversationView:
    """One account's entry for a direct-message conversation."""

    id: int
    unread: bool
    accounts: list[Account]
    last_status: StatusView
