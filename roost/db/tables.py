"""Every table Roost keeps. Migrations in db/migrations are generated from this
file, and tests/db/test_schema.py fails if the two drift apart.

Counters (followers_count, replies_count, ...) are kept on the row by the actions
that change them, in the same transaction, because timelines read them for every
post they show.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from roost.db.types import Id, UTCDateTime

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
    Column("note", Text, nullable=False, default=""),
    Column("note_html", Text, nullable=False, default=""),
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
)

users = Table(
    "users",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("email", String(320), nullable=False),
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
    Column("text", Text, nullable=False, default=""),
    Column("content", Text, nullable=False, default=""),
    Column("spoiler_text", Text, nullable=False, default=""),
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
)

status_edits = Table(
    "status_edits",
    metadata,
    _id(),
    _status_fk(),
    _account_fk(),
    Column("text", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("spoiler_text", Text, nullable=False),
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
