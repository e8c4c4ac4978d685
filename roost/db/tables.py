"""Every table Roost keeps. Migrations in db/migrations are generated from this
file, and tests/db/test_schema.py fails if the two drift apart.

Counters (followers_count, replies_count, ...) are kept on the row by the actions
that change them, in the same transaction, because timelines read them for every
post they show.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
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
    # Store keys (roost/media/store.py) of the profile images; None: the default.
    Column("avatar_file", String(120), nullable=True),
    Column("header_file", String(120), nullable=True),
    # Looked up when a file may be deleted: is anything still showing it?
    Index("ix_accounts_avatar_file", "avatar_file"),
    Index("ix_accounts_header_file", "header_file"),
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
    Column("admin", Boolean, nullable=False, default=False),
    Column("approved", Boolean, nullable=False, default=True),
    Column("locale", String(16), nullable=False, default="en"),
    Column("default_visibility", String(16), nullable=False, default="public"),
    Column("default_sensitive", Boolean, nullable=False, default=False),
    Column("default_language", String(16), nullable=True),
    Column("reason", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_sign_in_at", UTCDateTime, nullable=True),
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
    Index("ix_notifications_account_id_id", "account_id", "id"),
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
    Index("ix_media_attachments_status_id_position", "status_id", "position"),
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
