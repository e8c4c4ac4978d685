"""Every table Roost keeps. Migrations in db/migrations are generated from this
file, and tests/db/test_schema.py fails if the two drift apart.

Counters (followers_count, replies_count, ...) are kept on the row by the actions
that change them, in the same transaction, because timelines read them for every
post they show.

Above 500 lines: the schema is read and compared as one (tests/db/test_schema.py
holds it against the migrations, the erasure registry against every table in
``metadata``); split by area it would hide a table from whoever reads it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from roost.db.types import Id, Sealed, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=False)


def _account_fk(name: str = "account_id", nullable: bool = False) -> Column[int]:
    return Column(name, Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=nullable)


def _status_fk(name: str = "status_id", nullable: bool = False) -> Column[int]:
    return Column(name, Id, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=nullable)


accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("username", String(30), nullable=False),
    # Lower-cased copy: usernames are unique regardless of case, on both engines.
    Column("username_key", String(30), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False, default=""),
    # Sealed (roost/keys): the account's own words, unreadable once erased,
    # in old backups too. So are its posts, edits, alt texts, e-mail address
    # and imported direct messages below.
    Column("note", Sealed, nullable=False, default=""),
    Column("note_html", Sealed, nullable=False, default=""),
    Column("fields", JSON, nullable=False, default=list),
    Column("locked", Boolean, nullable=False, default=False),
    Column("bot", Boolean, nullable=False, default=False),
    Column("discoverable", Boolean, nullable=False, default=True),
    Column("indexable", Boolean, nullable=False, default=False),
    Column("hide_collections", Boolean, nullable=False, default=False),
    Column("followers_count", Integer, nullable=False, default=0),
    Column("following_count", Integer, nullable=False, default=0),
    Column("statuses_count", Integer, nullable=False, default=0),
    Column("last_status_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("suspended_at", UTCDateTime, nullable=True),
    # Staff limits (roost/domain/accounts/limits.py, migration 0020): a
    # silenced account is heard only by its followers; a sensitized one's posts
    # are shown sensitive to everyone but itself.
    Column("silenced_at", UTCDateTime, nullable=True),
    Column("sensitized_at", UTCDateTime, nullable=True),
    # Store keys (roost/media/store.py) of the profile images; None: the default.
    Column("avatar_file", String(120), nullable=True),
    Column("header_file", String(120), nullable=True),
    # Looked up when a file may be deleted: is anything still showing it?
    Index("ix_accounts_avatar_file", "avatar_file"),
    Index("ix_accounts_header_file", "header_file"),
    # An account of another server (roost/domain/federation/remote.py): its
    # domain and its addresses there. None for local accounts, whose addresses
    # follow from the username. ``username_key`` of a remote account is
    # ``@`` and its id, which no local username can be.
    Column("domain", String(255), nullable=True),
    Column("uri", String(2048), nullable=True),
    Column("url", String(2048), nullable=True),
    Index("ix_accounts_uri", "uri", unique=True),
    # The accounts of a domain a viewer blocks, asked by every home and
    # public page (roost/domain/discovery/domain_hiding.py): without it,
    # each of those reads every account (migration 0040).
    Index("ix_accounts_domain", "domain"),
)

users = Table(
    "users",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("email", Sealed, nullable=False),
    # The blind index of the address (roost.keys.ring.email_index): sign-in
    # by address and uniqueness, without the address in the clear.
    Column("email_key", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("approved", Boolean, nullable=False, default=True),
    Column("locale", String(16), nullable=False, default="en"),
    Column("default_visibility", String(16), nullable=False, default="public"),
    Column("default_sensitive", Boolean, nullable=False, default=False),
    Column("default_language", String(16), nullable=True),
    # public, followers or nobody: a new post's quote policy when it names none.
    Column(
        "default_quote_policy",
        String(16),
        nullable=False,
        default="public",
        server_default=text("'public'"),
    ),
    Column("reason", Text, nullable=True),
    # Release 0.1.0's administrator flag, replaced by roles (account_roles).
    # Kept while 0.1.0 may still serve this schema during an upgrade; nothing
    # here reads or writes it. To be dropped by a later release's migration.
    Column("admin", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_sign_in_at", UTCDateTime, nullable=True),
    # None until the address is confirmed by the link mailed to it (accounts
    # made by the operator are confirmed at once); password sign-in waits for it.
    Column("confirmed_at", UTCDateTime, nullable=True),
    # Staff turned the login off (Mastodon's ``disable``): no sign-in, no token
    # works, the account and its posts stay as they are (migration 0020).
    Column("disabled", Boolean, nullable=False, default=False, server_default=text("false")),
    # The invite link the account signed up with (migration 0035): staff list
    # the accounts someone's invites brought in (``invited_by``).
    Column(
        "invite_id",
        Id,
        ForeignKey("invites.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
)

applications = Table(
    "applications",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("website", String(2000), nullable=True),
    Column("redirect_uris", Text, nullable=False),
    Column("scopes", String(2000), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("client_secret", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Only a SHA-256 of each token is stored: a copied database or backup does not
# hand out working credentials.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    _id(),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("application_id", Id, ForeignKey("applications.id", ondelete="CASCADE"), nullable=True),
    _account_fk(nullable=True),
    Column("scopes", String(2000), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

authorization_codes = Table(
    "authorization_codes",
    metadata,
    _id(),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("application_id", Id, ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    _account_fk(),
    Column("redirect_uri", Text, nullable=False),
    Column("scopes", String(2000), nullable=False),
    Column("code_challenge", String(128), nullable=True),
    Column("code_challenge_method", String(16), nullable=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

statuses = Table(
    "statuses",
    metadata,
    _id(),
    _account_fk(),
    # No foreign keys on the thread links: a reply outlives a deleted parent
    # (Mastodon keeps in_reply_to_id), and a reblog is deleted with its original
    # by the action, which also fixes the counters.
    Column("in_reply_to_id", Id, nullable=True),
    Column("in_reply_to_account_id", Id, nullable=True),
    Column("reblog_of_id", Id, nullable=True),
    Column("application_id", Id, nullable=True),
    Column("visibility", SmallInteger, nullable=False),
    Column("text", Sealed, nullable=False, default=""),
    Column("content", Sealed, nullable=False, default=""),
    Column("spoiler_text", Sealed, nullable=False, default=""),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("language", String(16), nullable=True),
    Column("replies_count", Integer, nullable=False, default=0),
    Column("reblogs_count", Integer, nullable=False, default=0),
    Column("favourites_count", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime, nullable=True),
    # A post of another server: its id (the Note's) and page there. None for
    # local posts, whose addresses follow from their author and id.
    Column("uri", String(2048), nullable=True),
    Column("url", String(2048), nullable=True),
    Index("ix_statuses_uri", "uri", unique=True),
    Index("ix_statuses_account_id_id", "account_id", "id"),
    Index("ix_statuses_in_reply_to_id", "in_reply_to_id"),
    Index("ix_statuses_reblog_of_id", "reblog_of_id"),
    Index("ix_statuses_visibility_id", "visibility", "id"),
    # "Has the viewer boosted this post?", asked of every post of every page:
    # one probe here, where the two indexes above left SQLite, under skewed
    # statistics (one author, no boosts yet), scanning every post per row.
    Index(
        "ix_statuses_boosts_by_account",
        "account_id",
        "reblog_of_id",
        sqlite_where=text("reblog_of_id IS NOT NULL"),
        postgresql_where=text("reblog_of_id IS NOT NULL"),
    ),
)

status_edits = Table(
    "status_edits",
    metadata,
    _id(),
    _status_fk(),
    _account_fk(),
    Column("text", Sealed, nullable=False),
    Column("content", Sealed, nullable=False),
    Column("spoiler_text", Sealed, nullable=False),
    Column("sensitive", Boolean, nullable=False),
    # The version's poll: its option texts, sealed as the poll's are (None: no poll).
    Column("poll_options", JSON, nullable=True),
    # The version's media, in order: [{"id": ..., "description": sealed or null}]
    # (None: recorded before versions kept their media).
    Column("media", JSON, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_status_edits_status_id_id", "status_id", "id"),
)

mentions = Table(
    "mentions",
    metadata,
    _status_fk(),
    _account_fk(),
    UniqueConstraint("status_id", "account_id", name="uq_mentions_status_account"),
    Index("ix_mentions_account_id_status_id", "account_id", "status_id"),
)

tags = Table(
    "tags",
    metadata,
    _id(),
    Column("name", String(100), nullable=False),
    Column("name_key", String(100), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

status_tags = Table(
    "status_tags",
    metadata,
    _status_fk(),
    Column("tag_id", Id, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("status_id", "tag_id", name="uq_status_tags_status_tag"),
    Index("ix_status_tags_tag_id_status_id", "tag_id", "status_id"),
)


def _interaction(name: str) -> Table:
    """favourites, bookmarks and pins share a shape: who, which post, when.

    Their own ids page the /favourites and /bookmarks lists in the order the
    viewer acted, as Mastodon does.
    """
    return Table(
        name,
        metadata,
        _id(),
        _account_fk(),
        _status_fk(),
        Column("created_at", UTCDateTime, nullable=False),
        UniqueConstraint("account_id", "status_id", name=f"uq_{name}_account_status"),
        Index(f"ix_{name}_status_id", "status_id"),
    )


favourites = _interaction("favourites")
bookmarks = _interaction("bookmarks")
pins = _interaction("pins")

follows = Table(
    "follows",
    metadata,
    _id(),
    _account_fk(),
    _account_fk("target_account_id"),
    Column("show_reblogs", Boolean, nullable=False, default=True),
    Column("notify", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The Follow activity's id when one side is on another server: an Accept,
    # Reject or Undo names it.
    Column("uri", String(2048), nullable=True),
    UniqueConstraint("account_id", "target_account_id", name="uq_follows_account_target"),
    Index("ix_follows_target_account_id_account_id", "target_account_id", "account_id"),
)

follow_requests = Table(
    "follow_requests",
    metadata,
    _id(),
    _account_fk(),
    _account_fk("target_account_id"),
    Column("show_reblogs", Boolean, nullable=False, default=True),
    Column("notify", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The Follow activity's id when one side is on another server: an Accept,
    # Reject or Undo names it.
    Column("uri", String(2048), nullable=True),
    UniqueConstraint("account_id", "target_account_id", name="uq_follow_requests_account_target"),
    Index("ix_follow_requests_target_account_id_id", "target_account_id", "id"),
)

notifications = Table(
    "notifications",
    metadata,
    _id(),
    _account_fk(),
    _account_fk("from_account_id"),
    Column("type", String(32), nullable=False),
    _status_fk(nullable=True),
    # One notification per event, however often its job runs.
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Favourites and boosts of one post, and follows, share a group (v2 lists).
    Column("group_key", String(80), nullable=True),
    # Held back by the recipient's notification policy: shown only in a request.
    Column("filtered", Boolean, nullable=False, default=False, server_default=text("false")),
    # The report an ``admin.report`` notification tells staff of (migration 0016).
    Column("report_id", Id, ForeignKey("reports.id", ondelete="CASCADE"), nullable=True),
    # The strike a ``moderation_warning`` notification tells its account of (migration 0020).
    Column(
        "account_warning_id",
        Id,
        ForeignKey("account_warnings.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Index("ix_notifications_account_id_id", "account_id", "id"),
    Index("ix_notifications_account_id_group_key", "account_id", "group_key"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _account_fk(),
    Column("key", String(200), nullable=False),
    _status_fk(),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "key", name="uq_idempotency_keys_account_key"),
)

# The outbox: a job is committed in the same transaction as the change that
# caused it, so a crash can never lose the work a committed change implies.
jobs = Table(
    "jobs",
    metadata,
    _id(),
    Column("kind", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False, default="queued"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=8),
    Column("run_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("locked_by", String(100), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_jobs_state_run_at", "state", "run_at"),
)

# --- The social graph beyond follows: blocks, mutes, notes, endorsements. ---
# Each row belongs to the account that made it and goes with either account.


def _pair(name: str, *columns: Column[Any]) -> Table:
    """A relation one account holds towards another, at most once per pair."""
    return Table(
        name,
        metadata,
        _id(),
        _account_fk(),
        _account_fk("target_account_id"),
        *columns,
        Column("created_at", UTCDateTime, nullable=False),
        UniqueConstraint("account_id", "target_account_id", name=f"uq_{name}_account_target"),
        # The policy asks "who blocks me?" as often as "whom do I block?".
        Index(f"ix_{name}_target_account_id_account_id", "target_account_id", "account_id"),
    )


blocks = _pair("blocks")

# A mute is not a privacy rule: it filters the muter's timelines and (with
# hide_notifications) notifications. expires_at None means until unmuted.
mutes = _pair(
    "mutes",
    Column("hide_notifications", Boolean, nullable=False, default=True),
    Column("expires_at", UTCDateTime, nullable=True),
)

account_notes = _pair("account_notes", Column("comment", Text, nullable=False))

# Featured ("endorsed") accounts shown on a profile.
endorsements = _pair("endorsements")

# A muted thread is named by its root post's id. No foreign key: the root may be
# deleted while replies below it (and the wish for quiet) remain.
conversation_mutes = Table(
    "conversation_mutes",
    metadata,
    _id(),
    _account_fk(),
    Column("thread_root_id", Id, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "thread_root_id", name="uq_conversation_mutes_account_root"),
)

# --- Direct-message conversations. ---
# A conversation is a thread of direct posts; its id is minted when the first
# post of the thread is written. Each direct post names its conversation, and
# each participant has a row with their own id (the one apps see), their unread
# state and the newest post delivered to them (the list's order and paging key).
status_conversations = Table(
    "status_conversations",
    metadata,
    Column("status_id", Id, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    Column("conversation_id", Id, nullable=False),
    Index("ix_status_conversations_conversation_id_status_id", "conversation_id", "status_id"),
)

conversation_participants = Table(
    "conversation_participants",
    metadata,
    _id(),
    Column("conversation_id", Id, nullable=False),
    _account_fk(),
    Column("last_status_id", Id, nullable=False),
    Column("unread", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "account_id", "conversation_id", name="uq_conversation_participants_account_conversation"
    ),
    Index("ix_conversation_participants_account_id_last_status_id", "account_id", "last_status_id"),
)

# --- Media attachments (roost/domain/media). ---
# An upload belongs to its uploader and, once a post takes it, to that post.
# Deleting the post lets go of its media (SET NULL) rather than deleting the
# rows, so delete-and-redraft can attach them again; an upload that no post
# holds is removed after ``expires_at`` with its files.
media_attachments = Table(
    "media_attachments",
    metadata,
    _id(),
    _account_fk(),
    Column("status_id", Id, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True),
    # The order of the post's media_ids.
    Column("position", SmallInteger, nullable=False, default=0),
    Column("type", String(16), nullable=False),
    # "processing" until the file may be shown (video and audio via a job).
    Column("state", String(16), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("file_key", String(120), nullable=False),
    Column("file_size", Integer, nullable=False),
    Column("preview_key", String(120), nullable=True),
    Column("meta", JSON, nullable=False, default=dict),
    Column("description", Sealed, nullable=True),
    Column("blurhash", String(100), nullable=True),
    Column("focus_x", Float, nullable=True),
    Column("focus_y", Float, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Taken off this post by an edit: kept (status_id null, never expiring) so
    # the post's edit history still shows it, until the post goes.
    Column("kept_for_status_id", Id, nullable=True),
    # A received post's attachment: its address on the post's server. Its file
    # is not fetched on receipt (``file_key`` empty, state ``remote``).
    Column("remote_url", String(2048), nullable=True),
    # Its cached file was last fetched or served then; the least recently
    # used go first when remote files are over their budget, and a pruned
    # one is fetched again when asked for (roost/domain/federation/
    # remote_media.py).
    Column("remote_used_at", UTCDateTime, nullable=True),
    Column("remote_pruned_at", UTCDateTime, nullable=True),
    Index("ix_media_attachments_status_id_position", "status_id", "position"),
    Index("ix_media_attachments_remote_used_at", "remote_used_at"),
    Index("ix_media_attachments_kept_for_status_id", "kept_for_status_id"),
    Index("ix_media_attachments_account_id_id", "account_id", "id"),
    Index("ix_media_attachments_expires_at", "expires_at"),
    Index("ix_media_attachments_file_key", "file_key"),
    Index("ix_media_attachments_preview_key", "preview_key"),
)

# --- What an account keeps to organise its reading: lists, followed hashtags,
# filters, timeline markers. Each row goes with its account. ---

lists = Table(
    "lists",
    metadata,
    _id(),
    _account_fk(),
    Column("title", String(200), nullable=False),
    # Which replies the list shows: "followed", "list" or "none".
    Column("replies_policy", String(16), nullable=False, default="list"),
    # The members' posts leave the owner's home timeline (read them here instead).
    Column("exclusive", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_lists_account_id_id", "account_id", "id"),
)

# A member is held through the owner's follow of them, as in Mastodon: an
# unfollow (or the block that ends a follow) takes them out of the owner's lists
# by the cascade, with no list code on the follow path.
list_accounts = Table(
    "list_accounts",
    metadata,
    _id(),
    Column("list_id", Id, ForeignKey("lists.id", ondelete="CASCADE"), nullable=False),
    _account_fk(),
    Column("follow_id", Id, ForeignKey("follows.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("list_id", "account_id", name="uq_list_accounts_list_account"),
    Index("ix_list_accounts_account_id", "account_id"),
    Index("ix_list_accounts_follow_id", "follow_id"),
)

# A collection: accounts its owner recommends others follow (Mastodon 4.6).
# Local owners only; federation of collections is not done.
collections = Table(
    "collections",
    metadata,
    _id(),
    _account_fk(),
    Column("name", String(40), nullable=False),
    Column("description", String(100), nullable=False, default=""),
    Column("language", String(16), nullable=True),
    # The hashtag's name as typed, without "#"; none when null.
    Column("tag_name", String(256), nullable=True),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("discoverable", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_collections_account_id_id", "account_id", "id"),
)

# One account featured in a collection, with its consent: "pending" until the
# featured account accepts (or its policy accepts for it), then "accepted";
# "rejected" when it declined a pending one, "revoked" when it withdrew an
# accepted one (or a block between the two did). Only accepted items are shown
# to anyone but the owner.
collection_items = Table(
    "collection_items",
    metadata,
    _id(),
    Column("collection_id", Id, ForeignKey("collections.id", ondelete="CASCADE"), nullable=False),
    _account_fk(),
    Column("state", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "state IN ('pending', 'accepted', 'rejected', 'revoked')",
        name="ck_collection_items_state",
    ),
    UniqueConstraint("collection_id", "account_id", name="uq_collection_items_collection_account"),
    Index("ix_collection_items_account_id", "account_id"),
)

followed_tags = Table(
    "followed_tags",
    metadata,
    _id(),
    _account_fk(),
    Column("tag_id", Id, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "tag_id", name="uq_followed_tags_account_tag"),
    Index("ix_followed_tags_tag_id", "tag_id"),
)

filters = Table(
    "filters",
    metadata,
    _id(),
    _account_fk(),
    Column("title", String(200), nullable=False),
    # Where it applies: a list of "home", "notifications", "public", "thread", "account".
    Column("context", JSON, nullable=False),
    # "warn" (shown behind a warning) or "hide" (left out by the server).
    Column("action", String(16), nullable=False, default="warn"),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_filters_account_id_id", "account_id", "id"),
)

filter_keywords = Table(
    "filter_keywords",
    metadata,
    _id(),
    Column("filter_id", Id, ForeignKey("filters.id", ondelete="CASCADE"), nullable=False),
    Column("keyword", String(200), nullable=False),
    Column("whole_word", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_filter_keywords_filter_id", "filter_id"),
)

filter_statuses = Table(
    "filter_statuses",
    metadata,
    _id(),
    Column("filter_id", Id, ForeignKey("filters.id", ondelete="CASCADE"), nullable=False),
    _status_fk(),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("filter_id", "status_id", name="uq_filter_statuses_filter_status"),
    Index("ix_filter_statuses_status_id", "status_id"),
)

# Where the account stopped reading, per timeline ("home", "notifications");
# ``version`` counts saves, as Mastodon's optimistic lock does.
markers = Table(
    "markers",
    metadata,
    _id(),
    _account_fk(),
    Column("timeline", String(32), nullable=False),
    Column("last_read_id", Id, nullable=False),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "timeline", name="uq_markers_account_timeline"),
)

# --- Server-wide things the operator manages from the command line. ---

# The image lives in $ROOST_DATA_DIR/emoji/<file_name>, named by its content hash.
custom_emojis = Table(
    "custom_emojis",
    metadata,
    _id(),
    Column("shortcode", String(64), nullable=False, unique=True),
    Column("file_name", String(100), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("file_size", Integer, nullable=False),
    Column("category", String(64), nullable=True),
    Column("visible_in_picker", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

announcements = Table(
    "announcements",
    metadata,
    _id(),
    Column("text", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("starts_at", UTCDateTime, nullable=True),
    Column("ends_at", UTCDateTime, nullable=True),
    Column("all_day", Boolean, nullable=False, default=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

announcement_dismissals = Table(
    "announcement_dismissals",
    metadata,
    _id(),
    Column(
        "announcement_id",
        Id,
        ForeignKey("announcements.id", ondelete="CASCADE"),
        nullable=False,
    ),
    _account_fk(),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "announcement_id", "account_id", name="uq_announcement_dismissals_announcement_account"
    ),
    Index("ix_announcement_dismissals_account_id", "account_id"),
)

announcement_reactions = Table(
    "announcement_reactions",
    metadata,
    _id(),
    Column(
        "announcement_id",
        Id,
        ForeignKey("announcements.id", ondelete="CASCADE"),
        nullable=False,
    ),
    _account_fk(),
    # A unicode emoji, or a custom emoji's shortcode.
    Column("name", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "announcement_id",
        "account_id",
        "name",
        name="uq_announcement_reactions_announcement_account_name",
    ),
    Index("ix_announcement_reactions_account_id", "account_id"),
)

# --- Imported Twitter history (roost/importers/twitter). ---
# Twitter's own ids (tweets, accounts, messages) are 64-bit like ours, so they
# use the same column type. Everything here goes with the account.

# One row per import: what it was asked, how far it got, and its report, so an
# interrupted import resumes and its owner can follow it.
twitter_imports = Table(
    "twitter_imports",
    metadata,
    _id(),
    _account_fk(),
    Column("state", String(16), nullable=False),  # queued, running, done, failed
    Column("source", Text, nullable=False),
    # An upload's file is under the data directory and removed when done.
    Column("uploaded", Boolean, nullable=False, default=False),
    Column("fingerprint", String(64), nullable=True),
    Column("twitter_account_id", Id, nullable=True),
    Column("twitter_username", String(100), nullable=True),
    Column("options", JSON, nullable=False),
    Column("progress", JSON, nullable=False),
    Column("report", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_twitter_imports_account_id_id", "account_id", "id"),
)

# Which post each tweet became: re-imports skip what is here, and threads and
# quote links find their targets, across parts and across imports. No foreign
# key to the post: one its owner deleted stays deleted on the next import.
# ``pending_parent_id`` is the own tweet a reply answers that was not imported
# yet; ``pending_links`` marks text with links to own tweets not imported yet.
twitter_imported_tweets = Table(
    "twitter_imported_tweets",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("tweet_id", Id, primary_key=True, autoincrement=False),
    Column("status_id", Id, nullable=False),
    Column("pending_parent_id", Id, nullable=True),
    Column("pending_links", Boolean, nullable=False, default=False),
    Index("ix_twitter_imported_tweets_account_id_pending", "account_id", "pending_parent_id"),
)

# Liked tweets: a private collection of their owner's, text and link.
twitter_likes = Table(
    "twitter_likes",
    metadata,
    _id(),
    _account_fk(),
    Column("tweet_id", Id, nullable=False),
    # Sealed under the owner's key: which tweets someone liked is theirs.
    Column("text", Sealed, nullable=False, default=""),
    Column("url", Sealed, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "tweet_id", name="uq_twitter_likes_account_tweet"),
)

# Followers, following, blocks and mutes: Twitter account ids only, kept for
# a later follow migration.
twitter_relations = Table(
    "twitter_relations",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("twitter_account_id", Id, primary_key=True, autoincrement=False),
)

# Direct messages, imported only when asked; readable by their owner alone.
twitter_direct_messages = Table(
    "twitter_direct_messages",
    metadata,
    _id(),
    _account_fk(),
    Column("message_id", Id, nullable=False),
    Column("conversation_id", String(100), nullable=False),
    Column("sender_id", Id, nullable=True),
    Column("recipient_id", Id, nullable=True),
    Column("text", Sealed, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "message_id", name="uq_twitter_direct_messages_account_message"),
    Index("ix_twitter_direct_messages_account_id_conversation_id", "account_id", "conversation_id"),
)

# --- Signing in on the web (roost/domain/web_sessions, roost/domain/accounts). ---

# A browser's signed-in session. Like access tokens, only a SHA-256 of the
# cookie's value is stored.
web_sessions = Table(
    "web_sessions",
    metadata,
    _id(),
    Column("token_hash", String(64), nullable=False, unique=True),
    _account_fk(),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=False),
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
    Index("ix_web_sessions_account_id", "account_id"),
)

# Links mailed to an account: confirm the address, reset the password. The
# row holds no token nor a hash of one: a link's token is an HMAC of the row
# under the secret key (roost/domain/accounts/email_tokens.py).
email_tokens = Table(
    "email_tokens",
    metadata,
    _id(),
    _account_fk(),
    Column("purpose", String(16), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_email_tokens_account_id", "account_id"),
)

# Two-factor sign-in with a TOTP app (RFC 6238). The shared secret is sealed
# under the account's key; ``last_step`` refuses a code used once already.
two_factor = Table(
    "two_factor",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("secret", Sealed, nullable=False),
    Column("enabled_at", UTCDateTime, nullable=True),
    Column("last_step", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Single-use recovery codes, shown once; stored as an HMAC under the secret key.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    _id(),
    _account_fk(),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_recovery_codes_account_id", "account_id"),
)

# --- What the instance tells visitors and lets in. ---

# Sign-up links (/invite/CODE) that work whatever ROOST_REGISTRATIONS says.
invites = Table(
    "invites",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("created_by", Id, ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
    Column("max_uses", Integer, nullable=True),
    Column("uses", Integer, nullable=False, default=0),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# The instance's rules, in the order shown (``position``), as Mastodon's Rule.
instance_rules = Table(
    "instance_rules",
    metadata,
    _id(),
    Column("text", String(1000), nullable=False),
    Column("hint", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- Notifications v2 and Web Push (roost/domain/notifications/, roost/domain/push/). ---

# What an account does with notifications from strangers: "accept", "filter"
# (into a request) or "drop", per kind of stranger. No row: the defaults.
notification_policies = Table(
    "notification_policies",
    metadata,
    _account_fk(),
    Column("for_not_following", String(8), nullable=False),
    Column("for_not_followers", String(8), nullable=False),
    Column("for_new_accounts", String(8), nullable=False),
    Column("for_private_mentions", String(8), nullable=False),
    Column("for_limited_accounts", String(8), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", name="uq_notification_policies_account_id"),
)

# Filtered notifications from one sender, waiting for the recipient's answer.
notification_requests = Table(
    "notification_requests",
    metadata,
    _id(),
    _account_fk(),
    _account_fk("from_account_id"),
    Column("last_status_id", Id, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "from_account_id", name="uq_notification_requests_account_from"),
)

# A sender whose request was accepted: its notifications are never filtered again.
notification_permissions = Table(
    "notification_permissions",
    metadata,
    _id(),
    _account_fk(),
    _account_fk("from_account_id"),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "account_id", "from_account_id", name="uq_notification_permissions_account_from"
    ),
)

# A Web Push subscription: one per access token, as Mastodon keeps them.
push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    _id(),
    _account_fk(),
    Column("token_id", Id, ForeignKey("oauth_tokens.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint", Text, nullable=False),
    # The token itself, sealed under the account's key: Mastodon's payload
    # names it so that an app with several accounts knows whose push it is.
    Column("access_token", Sealed, nullable=False),
    Column("key_p256dh", String(200), nullable=False),
    Column("key_auth", String(100), nullable=False),
    # The alert types this subscription wants, e.g. ["mention", "follow"].
    Column("alerts", JSON, nullable=False),
    Column("policy", String(16), nullable=False),
    Column("standard", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("token_id", name="uq_push_subscriptions_token_id"),
    Index("ix_push_subscriptions_account_id", "account_id"),
)

# Link preview cards (roost/domain/cards): one per address linked, shared by
# every post linking it, refreshed at most once per interval. ``url_key`` is
# the SHA-256 of ``url`` (an index on the address itself could outgrow a
# B-tree page); ``url`` is what posts link, ``shown_url`` the page's own.
preview_cards = Table(
    "preview_cards",
    metadata,
    _id(),
    Column("url", Text, nullable=False),
    Column("url_key", String(64), nullable=False, unique=True),
    Column("shown_url", Text, nullable=False),
    Column("type", String(16), nullable=False),
    Column("title", String(500), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("author_name", String(300), nullable=False, default=""),
    Column("author_url", Text, nullable=False, default=""),
    Column("provider_name", String(300), nullable=False, default=""),
    Column("provider_url", Text, nullable=False, default=""),
    Column("html", Text, nullable=False, default=""),
    Column("width", Integer, nullable=False, default=0),
    Column("height", Integer, nullable=False, default=0),
    Column("image_url", Text, nullable=True),
    # The image, fetched and re-encoded into the media store (its key), and
    # its blurhash; None when the page names none or it could not be had.
    Column("image_file", String(120), nullable=True),
    Column("blurhash", String(100), nullable=True),
    Column("image_description", Text, nullable=False, default=""),
    Column("embed_url", Text, nullable=False, default=""),
    Column("language", String(16), nullable=True),
    Column("published_at", UTCDateTime, nullable=True),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

status_cards = Table(
    "status_cards",
    metadata,
    _status_fk(),
    Column("card_id", Id, ForeignKey("preview_cards.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("status_id", name="uq_status_cards_status_id"),
    Index("ix_status_cards_card_id_status_id", "card_id", "status_id"),
)

# Staff decisions on trending hashtags, posts and links (roost/domain/trends):
# nothing trends publicly before one approves it; a rejected one never does.
trend_reviews = Table(
    "trend_reviews",
    metadata,
    _id(),
    Column("tag_id", Id, ForeignKey("tags.id", ondelete="CASCADE"), nullable=True),
    _status_fk(nullable=True),
    Column("card_id", Id, ForeignKey("preview_cards.id", ondelete="CASCADE"), nullable=True),
    Column("approved", Boolean, nullable=False),
    Column("decided_by", Id, ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
    Column("decided_at", UTCDateTime, nullable=False),
    UniqueConstraint("tag_id", name="uq_trend_reviews_tag_id"),
    UniqueConstraint("status_id", name="uq_trend_reviews_status_id"),
    UniqueConstraint("card_id", name="uq_trend_reviews_card_id"),
)

# --- Discovery: featured hashtags, suggestions, and domains an account hides. ---

# Hashtags an account features on its profile (Mastodon's FeaturedTag).
featured_tags = Table(
    "featured_tags",
    metadata,
    _id(),
    _account_fk(),
    Column("tag_id", Id, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "tag_id", name="uq_featured_tags_account_tag"),
    Index("ix_featured_tags_tag_id", "tag_id"),
)

# Accounts staff suggest to everyone (``roost suggestions feature NAME``).
featured_accounts = Table(
    "featured_accounts",
    metadata,
    _id(),
    Column(
        "account_id",
        Id,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
)

# A suggestion the account dismissed is not offered to it again.
suggestion_dismissals = _pair("suggestion_dismissals")

# Domains an account hides (Mastodon's user domain blocks). Stored now; they
# apply to remote accounts and posts once federation brings any.
account_domain_blocks = Table(
    "account_domain_blocks",
    metadata,
    _id(),
    _account_fk(),
    Column("domain", String(253), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "domain", name="uq_account_domain_blocks_account_domain"),
)

# --- Polls (roost/domain/polls). A poll belongs to one post and goes with it;
# its votes go with the poll or with the voter. Counts are read from the votes,
# so a vote, a voter's erasure and a reset all count right by themselves. ---
polls = Table(
    "polls",
    metadata,
    _id(),
    Column("status_id", Id, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False),
    _account_fk(),
    Column("options", JSON, nullable=False),
    Column("multiple", Boolean, nullable=False, default=False),
    Column("hide_totals", Boolean, nullable=False, default=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # A received poll: votes per option and voters as its server reports them
    # (None for a local poll, counted from poll_votes).
    Column("remote_counts", JSON, nullable=True),
    Column("remote_voters", Integer, nullable=True),
    UniqueConstraint("status_id", name="uq_polls_status_id"),
    Index("ix_polls_account_id", "account_id"),
)

poll_votes = Table(
    "poll_votes",
    metadata,
    _id(),
    Column("poll_id", Id, ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
    _account_fk(),
    Column("choice", SmallInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("poll_id", "account_id", "choice", name="uq_poll_votes_poll_account_choice"),
    Index("ix_poll_votes_account_id", "account_id"),
)

# --- Scheduled posts (roost/domain/scheduled): a post's parameters until a job
# publishes it at ``scheduled_at``. Its words are sealed like a post's. ---
scheduled_statuses = Table(
    "scheduled_statuses",
    metadata,
    _id(),
    _account_fk(),
    Column("scheduled_at", UTCDateTime, nullable=False),
    Column("text", Sealed, nullable=False),
    Column("spoiler_text", Sealed, nullable=False),
    Column("params", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_scheduled_statuses_account_id_scheduled_at", "account_id", "scheduled_at"),
)

# --- Quote posts (roost/domain/quotes). A quote goes with the quoting post;
# the quoted post may go first (the quote then shows as deleted), so it is
# named without a foreign key. A post's quote policy is stored only when it
# is not the default ("public" for public and unlisted posts). ---
quotes = Table(
    "quotes",
    metadata,
    _id(),
    _status_fk(),
    _account_fk(),
    Column("quoted_status_id", Id, nullable=True),
    Column("quoted_account_id", Id, nullable=True),
    # accepted, revoked; pending (a received post's quoted post being
    # fetched, or its authorization checked; a local post's quote of another
    # server's post waiting for its author's answer) or rejected (refused by
    # the quoted post's policy, its author, or a failed check)
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The QuoteAuthorization another server gave for it (FEP-044f), when one
    # did (roost/domain/federation/quoted.py).
    Column("authorization_uri", String(2048), nullable=True),
    UniqueConstraint("status_id", name="uq_quotes_status_id"),
    Index("ix_quotes_quoted_status_id_status_id", "quoted_status_id", "status_id"),
    Index("ix_quotes_account_id", "account_id"),
    Index("ix_quotes_authorization_uri", "authorization_uri"),
)

quote_policies = Table(
    "quote_policies",
    metadata,
    Column(
        "status_id",
        Id,
        ForeignKey("statuses.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("policy", String(16), nullable=False),
)

# Staff roles, as Mastodon's UserRole: a name and a bit mask of permissions
# (roost/domain/roles/permissions.py). Owner, Admin and Moderator are made by
# migration 0016 with the ids Mastodon gives them; more can be added.
roles = Table(
    "roles",
    metadata,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    Column("color", String(16), nullable=False, default=""),
    Column("permissions", BigInteger, nullable=False, default=0),
    Column("highlighted", Boolean, nullable=False, default=False),
    Column("position", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
)

# At most one role per account (the primary key).
account_roles = Table(
    "account_roles",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Id, ForeignKey("roles.id", ondelete="CASCADE"), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Index("ix_account_roles_role_id", "role_id"),
)

# The audit log (roost/domain/audit/chain.py): each entry's hash covers the one
# before it and the entry's canonical form, in which personal data appears only
# as a salted digest. The personal data itself is in audit_personal, which an
# erasure may blank without breaking the chain.
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("permission", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(64), nullable=True),
    Column("details", Text, nullable=False),
    Column("personal_digest", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
)

audit_personal = Table(
    "audit_personal",
    metadata,
    Column(
        "seq",
        Id,
        ForeignKey("audit_entries.seq", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("actor_account_id", Id, nullable=True),
    Column("target_account_id", Id, nullable=True),
    Column("data", Text, nullable=False),
    Column("salt", String(64), nullable=True),
    Column("erased_at", UTCDateTime, nullable=True),
    Index("ix_audit_personal_actor_account_id", "actor_account_id"),
    Index("ix_audit_personal_target_account_id", "target_account_id"),
)

# Reports (Mastodon's Report). The comment is sealed under the reporter's key.
reports = Table(
    "reports",
    metadata,
    _id(),
    _account_fk(),
    _account_fk("target_account_id"),
    Column("comment", Sealed, nullable=False, default=""),
    Column("category", String(16), nullable=False),
    Column("forward", Boolean, nullable=False, default=False),
    # Staff: no foreign key, their erasure blanks these (roost/erasure/tables.py).
    Column("assigned_account_id", Id, nullable=True),
    Column("action_taken_at", UTCDateTime, nullable=True),
    Column("action_taken_by_account_id", Id, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_reports_target_account_id", "target_account_id"),
    Index("ix_reports_account_id", "account_id"),
)

report_rules = Table(
    "report_rules",
    metadata,
    Column("report_id", Id, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("rule_id", Id, ForeignKey("instance_rules.id", ondelete="CASCADE"), primary_key=True),
)

# The reported posts as they were when reported: kept when the post itself is
# deleted (no foreign key), sealed under the author's key.
report_statuses = Table(
    "report_statuses",
    metadata,
    Column("report_id", Id, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("status_id", Id, primary_key=True, autoincrement=False),
    Column("account_id", Id, nullable=False),
    Column("content", Sealed, nullable=False),
    Column("spoiler_text", Sealed, nullable=False),
    # JSON of the attachments (id, type, file key, description), sealed too.
    Column("media", Sealed, nullable=False),
    Column("visibility", Integer, nullable=False),
    Column("posted_at", UTCDateTime, nullable=False),
    Index("ix_report_statuses_status_id", "status_id"),
)

# --- The moderation queue (roost/domain/reports/exposure.py). ---

# How much reported content each moderator looked at, per UTC day (days since
# 1970-01-01) and report category: reports opened and media revealed. The
# moderator sees their own counts, administrators everyone's; past
# ROOST_MODERATION_DAILY_LIMIT the queue stops assigning them reports.
moderation_exposures = Table(
    "moderation_exposures",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("category", String(16), primary_key=True),
    Column("reports", Integer, nullable=False, default=0),
    Column("media", Integer, nullable=False, default=0),
)

# Which reports a moderator opened on a day, so a report opened again the
# same day is counted once.
moderation_views = Table(
    "moderation_views",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("report_id", Id, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True),
)

# --- Quotas and sign-up rules (roost/domain/media/quotas.py,
# roost/domain/accounts/email_domains.py). ---

# Bytes each account uploaded per UTC day (days since 1970-01-01): counted
# before an upload is processed, taken back when it is refused.
upload_quotas = Table(
    "upload_quotas",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("bytes", Id, nullable=False),
)

# E-mail domains nobody may sign up with (a domain blocks its subdomains too).
email_domain_blocks = Table(
    "email_domain_blocks",
    metadata,
    _id(),
    Column("domain", String(253), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- Instance-wide blocks (roost/domain/blocks): what staff refuse for the
# whole server, through the admin API and ``roost domain-blocks`` /
# ``roost ip-blocks``. None names an account. ---

# Other servers refused or limited (Mastodon's DomainBlock): kept for
# federation to ask (roost/domain/blocks/domains.py: domain_policy).
instance_domain_blocks = Table(
    "instance_domain_blocks",
    metadata,
    _id(),
    Column("domain", String(253), nullable=False, unique=True),
    Column("severity", String(16), nullable=False),
    Column("reject_media", Boolean, nullable=False, default=False),
    Column("reject_reports", Boolean, nullable=False, default=False),
    Column("private_comment", Text, nullable=True),
    Column("public_comment", Text, nullable=True),
    Column("obfuscate", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "severity IN ('silence', 'suspend', 'noop')", name="ck_instance_domain_blocks_severity"
    ),
)

# Servers explicitly let in (Mastodon's DomainAllow, for limited federation).
instance_domain_allows = Table(
    "instance_domain_allows",
    metadata,
    _id(),
    Column("domain", String(253), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Address ranges held back at sign-up or refused outright (Mastodon's IpBlock);
# ``ip`` is the network in CIDR form, e.g. 192.0.2.0/24 or 2001:db8::/32.
ip_blocks = Table(
    "ip_blocks",
    metadata,
    _id(),
    Column("ip", String(43), nullable=False, unique=True),
    Column("severity", String(32), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    CheckConstraint(
        "severity IN ('sign_up_requires_approval', 'sign_up_block', 'no_access')",
        name="ck_ip_blocks_severity",
    ),
)

# E-mail addresses refused at sign-up in every spelling (Mastodon's
# CanonicalEmailBlock): only the SHA-256 of the canonical form is kept.
canonical_email_blocks = Table(
    "canonical_email_blocks",
    metadata,
    _id(),
    Column("canonical_email_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- Lawful requests (roost/domain/lawful): an authority's request for an
# account's data, its approvals and its disclosure. ---

# The named account and the staff ids carry no foreign key: an erasure blanks
# them and keeps the record (roost/erasure/tables.py). The free text is sealed
# under the named account's key, so that erasing it leaves none of its words.
lawful_requests = Table(
    "lawful_requests",
    metadata,
    _id(),
    Column("account_id", Id, nullable=True),
    Column("authority", String(200), nullable=False),
    Column("legal_basis", String(500), nullable=False),
    Column("verification", Sealed, nullable=False),
    Column("verified_by_account_id", Id, nullable=True),
    Column("requested_by_account_id", Id, nullable=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    # Comma-separated data kinds (roost/domain/lawful/model.py KINDS).
    Column("kinds", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("refusal_reason", Sealed, nullable=True),
    Column("decided_by_account_id", Id, nullable=True),
    Column("package_sha256", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "state IN ('pending', 'approved', 'refused', 'disclosed')",
        name="ck_lawful_requests_state",
    ),
    CheckConstraint("starts_at < ends_at", name="ck_lawful_requests_range"),
    Index("ix_lawful_requests_account_id", "account_id"),
)

# One row per approval. The requester is copied in so that the database itself
# refuses an approval by the requester; one approval per approver and request.
lawful_approvals = Table(
    "lawful_approvals",
    metadata,
    _id(),
    Column("request_id", Id, ForeignKey("lawful_requests.id", ondelete="CASCADE"), nullable=False),
    Column("approver_account_id", Id, nullable=True),
    Column("requester_account_id", Id, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("request_id", "approver_account_id", name="uq_lawful_approvals_approver"),
    CheckConstraint(
        "approver_account_id <> requester_account_id", name="ck_lawful_approvals_not_requester"
    ),
    Index("ix_lawful_approvals_approver_account_id", "approver_account_id"),
)

# Strikes (Mastodon's AccountWarning): what staff did to an account and told it.
# The text is sealed under the account's key. Staff: no foreign key, their
# erasure blanks the column (roost/erasure/tables.py).
account_warnings = Table(
    "account_warnings",
    metadata,
    _id(),
    _account_fk(),
    Column("by_account_id", Id, nullable=True),
    Column("action", String(16), nullable=False),
    Column("text", Sealed, nullable=False, default=""),
    Column("report_id", Id, ForeignKey("reports.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Set when an appeal against it was accepted: the action was undone.
    Column("overruled_at", UTCDateTime, nullable=True),
    Index("ix_account_warnings_account_id", "account_id"),
)

# One appeal per strike (Mastodon's Appeal), sealed under the appellant's key.
appeals = Table(
    "appeals",
    metadata,
    _id(),
    _account_fk(),
    Column(
        "account_warning_id",
        Id,
        ForeignKey("account_warnings.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("text", Sealed, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("approved_at", UTCDateTime, nullable=True),
    Column("rejected_at", UTCDateTime, nullable=True),
    Column("decided_by_account_id", Id, nullable=True),
    Index("ix_appeals_account_id", "account_id"),
)

# Warning presets (Mastodon's AccountWarningPreset): texts staff pick when they
# act on an account, put before what they type (roost/domain/strikes/presets.py).
# Instance-wide, naming nobody (migration 0026).
warning_presets = Table(
    "warning_presets",
    metadata,
    _id(),
    Column("title", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Known-image lists (roost/domain/known_images/): hashes of images that must
# never be served, imported by the operator. ``generation`` changes at every
# import, so a process knows when its loaded copy of the lists is stale.
known_image_lists = Table(
    "known_image_lists",
    metadata,
    _id(),
    Column("name", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("generation", Id, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    UniqueConstraint("name", name="uq_known_image_lists_name"),
    CheckConstraint("kind IN ('pdq', 'sha256')", name="ck_known_image_lists_kind"),
)

known_image_hashes = Table(
    "known_image_hashes",
    metadata,
    Column(
        "list_id",
        Id,
        ForeignKey("known_image_lists.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("hash", String(64), primary_key=True),
    Column("label", String(200), nullable=True),
    Index("ix_known_image_hashes_hash", "hash"),
)

# What a known-image match refused: the bytes sealed under the quarantine key
# (roost/domain/known_images/quarantine.py), never in the media store. The
# uploader is a plain id (no foreign key): the evidence outlives the account.
quarantined_media = Table(
    "quarantined_media",
    metadata,
    _id(),
    Column("account_id", Id, nullable=True),
    Column("origin", String(16), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("file_size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("list_name", String(64), nullable=False),
    Column("label", String(200), nullable=True),
    Column("distance", SmallInteger, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("report_id", Id, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_quarantined_media_account_id", "account_id"),
)

# --- Spam waves (roost/domain/spam). ---

# Where an account signed up from: the network of the address (a /24 or a /48,
# never the full address), a feature that spam waves share.
sign_up_networks = Table(
    "sign_up_networks",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("network", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Each new local post's MinHash signature (roost/domain/spam/minhash.py), kept
# while it can still match a newer post (ROOST_SPAM_WINDOW_HOURS).
spam_signatures = Table(
    "spam_signatures",
    metadata,
    Column("status_id", Id, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    _account_fk(),
    Column("signature", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_spam_signatures_account_id", "account_id"),
    Index("ix_spam_signatures_created_at", "created_at"),
)

# The signature's LSH bands: posts that share a band key are candidates.
spam_bands = Table(
    "spam_bands",
    metadata,
    Column("band_key", BigInteger, primary_key=True, autoincrement=False),
    Column(
        "status_id",
        Id,
        ForeignKey("statuses.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    # No index on created_at: a lookup must go by band key (the primary key),
    # and the window is a filter on the few rows a key finds; an index there
    # let PostgreSQL scan every recent band instead. Pruning goes by post.
    Index("ix_spam_bands_status_id", "status_id"),
)

# A cluster of near-duplicate posts, and what staff decided about it.
spam_clusters = Table(
    "spam_clusters",
    metadata,
    _id(),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("decided_by_account_id", Id, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    CheckConstraint(
        "state IN ('open', 'suspended', 'deleted', 'not_spam')", name="ck_spam_clusters_state"
    ),
    Index("ix_spam_clusters_updated_at", "updated_at"),
)

# Which cluster each clustered post is in (one at most).
spam_cluster_posts = Table(
    "spam_cluster_posts",
    metadata,
    Column("status_id", Id, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    Column("cluster_id", Id, ForeignKey("spam_clusters.id", ondelete="CASCADE"), nullable=False),
    _account_fk(),
    Column("added_at", UTCDateTime, nullable=False),
    Index("ix_spam_cluster_posts_cluster_id", "cluster_id"),
    Index("ix_spam_cluster_posts_account_id", "account_id"),
)

# Posts held back: shown to their author only (roost/domain/privacy.py) until
# staff release them (the cluster is marked not spam) or delete them.
spam_holds = Table(
    "spam_holds",
    metadata,
    Column("status_id", Id, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    _account_fk(),
    Column("cluster_id", Id, nullable=False),
    Column("held_at", UTCDateTime, nullable=False),
    Index("ix_spam_holds_account_id", "account_id"),
    Index("ix_spam_holds_cluster_id", "cluster_id"),
)

# --- Federation (roost/domain/federation): keys and what other servers send. ---

# Each local actor's RSA key pair, made when first needed. The account id has
# no foreign key: the instance actor (roost/domain/federation/keys.py
# INSTANCE_ACTOR_ID) is no account. The private key is sealed under the
# actor's own key (roost/keys/ring.py): erasing the account makes it unreadable.
actor_keys = Table(
    "actor_keys",
    metadata,
    Column("account_id", Id, primary_key=True, autoincrement=False),
    Column("public_key_pem", Text, nullable=False),
    Column("private_key_pem", Sealed, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Other servers' public keys, by key id (``https://host/users/name#main-key``),
# as last fetched: fetched again when a signature fails to verify with them.
remote_actor_keys = Table(
    "remote_actor_keys",
    metadata,
    _id(),
    Column("key_id", String(2048), nullable=False, unique=True),
    Column("owner", String(2048), nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
)

# Activities other servers posted to an inbox, stored once their signature
# verified, each with a job that processes it. ``activity_uri`` makes a
# delivery that comes twice one row.
inbox_activities = Table(
    "inbox_activities",
    metadata,
    _id(),
    Column("recipient_account_id", Id, nullable=True),
    Column("actor_uri", String(2048), nullable=False),
    Column("key_id", String(2048), nullable=False),
    Column("activity_uri", String(2048), nullable=True, unique=True),
    Column("activity_type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "state IN ('queued', 'unhandled', 'handled', 'failed')", name="ck_inbox_activities_state"
    ),
    Index("ix_inbox_activities_recipient_account_id", "recipient_account_id"),
)

# Where to deliver to an account of another server (its ``accounts`` row has
# its domain and addresses): its inbox, the shared inbox of its server when it
# offers one, its followers collection (the address followers-only posts are
# sent to). Fetched again when it is older than a day.
remote_accounts = Table(
    "remote_accounts",
    metadata,
    Column(
        "account_id",
        Id,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("inbox_url", String(2048), nullable=False),
    Column("shared_inbox_url", String(2048), nullable=True),
    Column("followers_url", String(2048), nullable=True),
    Column("fetched_at", UTCDateTime, nullable=False),
)


# Account moves (roost/domain/federation/moves.py, migration 0031). An alias
# is an account a local account names as its own elsewhere (``alsoKnownAs``
# in its actor document): the account it may move from. ``uri`` is that
# account's actor id; ``target_account_id`` its row here.
account_aliases = Table(
    "account_aliases",
    metadata,
    _id(),
    _account_fk(),
    _account_fk("target_account_id"),
    Column("uri", String(2048), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "target_account_id", name="uq_account_aliases_pair"),
    Index("ix_account_aliases_target_account_id", "target_account_id"),
)

# An account (local or of another server) that moved to another one: the
# Mastodon Account entity's ``moved``. A local moved account posts no more.
account_moves = Table(
    "account_moves",
    metadata,
    Column(
        "account_id",
        Id,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    _account_fk("target_account_id"),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_account_moves_target_account_id", "target_account_id"),
)

# --- Annual reports ("Wrapstodon"): one per account and year, computed by a
# job from the account's own posts, hashtags and followers. ---

annual_reports = Table(
    "annual_reports",
    metadata,
    _id(),
    _account_fk(),
    Column("year", SmallInteger, nullable=False),
    # "generating" while its job runs, then "available".
    Column("state", String(16), nullable=False),
    Column("schema_version", SmallInteger, nullable=False),
    Column("data", JSON, nullable=True),
    Column("viewed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_id", "year", name="uq_annual_reports_account_year"),
    CheckConstraint("state IN ('generating', 'available')", name="ck_annual_reports_state"),
)

# Where a local post was sent: each inbox once (roost/domain/federation/sent.py).
# Its deletion goes to all of them, also to a server whose followers have left
# since; the rows go when that Delete is queued. No foreign key: the post's
# row is gone by the time its deletion is sent.
status_deliveries = Table(
    "status_deliveries",
    metadata,
    Column("status_id", Id, nullable=False),
    Column("inbox_url", String(2048), nullable=False),
    PrimaryKeyConstraint("status_id", "inbox_url", name="pk_status_deliveries"),
)

# Every inbox something of a local account was delivered to, each once
# (roost/domain/federation/delivery.py): when the account is erased, the
# Delete of its actor goes to all of them (roost/domain/federation/farewell.py).
account_deliveries = Table(
    "account_deliveries",
    metadata,
    Column("account_id", Id, nullable=False),
    Column("inbox_url", String(2048), nullable=False),
    PrimaryKeyConstraint("account_id", "inbox_url", name="pk_account_deliveries"),
)

# The local accounts a received activity names (its actor addresses, its
# posts' addresses, anywhere in the activity), found when it is stored: the
# activity's row goes when one of them is erased, whichever inbox it came to.
inbox_activity_accounts = Table(
    "inbox_activity_accounts",
    metadata,
    Column(
        "inbox_activity_id",
        Id,
        ForeignKey("inbox_activities.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("account_id", Id, nullable=False),
    PrimaryKeyConstraint("inbox_activity_id", "account_id", name="pk_inbox_activity_accounts"),
    Index("ix_inbox_activity_accounts_account_id", "account_id"),
)

# An erased account's last word to other servers: Delete of its actor, sent
# by ``remaining`` deliveries signed with its key (roost/domain/federation/
# farewell.py). Its actor id and private key are sealed under a key of the
# row's own (key id = ``id``), destroyed when the deliveries are done or at
# ``expires_at``, whichever comes first; then the row goes too.
actor_farewells = Table(
    "actor_farewells",
    metadata,
    _id(),
    Column("actor_uri", Sealed, nullable=False),
    Column("private_key_pem", Sealed, nullable=False),
    Column("remaining", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Each other server's delivery state, shared by every worker (roost/domain/
# federation/hosts.py): consecutive failures, when it may be tried again,
# since when it fails, its last success; ``unavailable_at`` set once it has
# failed for ROOST_FEDERATION_UNAVAILABLE_AFTER_DAYS, cleared when it is seen
# alive. Names a server, never an account.
# When the replies collection of another server's post was last asked for
# (roost/domain/federation/replies.py): at most once an hour per post.
status_replies_fetches = Table(
    "status_replies_fetches",
    metadata,
    Column(
        "status_id",
        Id,
        ForeignKey("statuses.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("fetched_at", UTCDateTime, nullable=False),
)

federation_hosts = Table(
    "federation_hosts",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("first_failure_at", UTCDateTime, nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("unavailable_at", UTCDateTime, nullable=True),
    Column("dropped", Integer, nullable=False, default=0),
    # An unavailable host is probed (roost/domain/federation/probes.py):
    # unanswered probes since it was marked so, and when the next is due.
    Column("probes", Integer, nullable=False, default=0, server_default=text("0")),
    Column("next_probe_at", UTCDateTime, nullable=True),
    # The signature scheme the host last took ("rfc9421", "cavage") when
    # Roost double-knocks (roost/domain/federation/signing.py), and when it
    # was learnt: later requests use it first; "cavage" is tried against
    # RFC 9421 again once it is old.
    Column("signature_scheme", String(16), nullable=True),
    Column("signature_scheme_at", UTCDateTime, nullable=True),
)

# A digest of each erased local account's username, never the name (roost/
# domain/accounts/retired.py): the name is refused at sign-up and its actor
# address answers 410 Gone, so no newcomer is taken by other servers for the
# erased person.
retired_usernames = Table(
    "retired_usernames",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("retired_at", UTCDateTime, nullable=False),
)
