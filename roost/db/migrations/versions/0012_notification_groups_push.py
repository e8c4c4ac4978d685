"""notifications v2 (groups, policy, requests) and Web Push subscriptions

Existing notifications get the group of their kind (favourites and boosts of
one post, and follows, within the hour they were made), as new ones are
given by roost/domain/notifications/groups.py; none is filtered.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def _account_fk(table: str, column: str = "account_id") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        _ID,
        sa.ForeignKey("accounts.id", name=f"fk_{table}_{column}_accounts", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("filtered", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
        batch_op.create_index(
            "ix_notifications_account_id_group_key", ["account_id", "group_key"], unique=False
        )
    # The rule of groups.py as of this revision, written out: kind, post, hour.
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, type, status_id, created_at FROM notifications "
            "WHERE type IN ('favourite', 'reblog', 'follow')"
        )
    ).all()
    for row in rows:
        created = row.created_at
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        # Stored as naive UTC.
        bucket = int(created.replace(tzinfo=UTC).timestamp()) // 3600
        prefix = row.type if row.type == "follow" else f"{row.type}-{row.status_id}"
        conn.execute(
            sa.text("UPDATE notifications SET group_key = :key WHERE id = :id"),
            {"key": f"{prefix}-{bucket}", "id": row.id},
        )

    op.create_table(
        "notification_policies",
        _account_fk("notification_policies"),
        sa.Column("for_not_following", sa.String(length=8), nullable=False),
        sa.Column("for_not_followers", sa.String(length=8), nullable=False),
        sa.Column("for_new_accounts", sa.String(length=8), nullable=False),
        sa.Column("for_private_mentions", sa.String(length=8), nullable=False),
        sa.Column("for_limited_accounts", sa.String(length=8), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.UniqueConstraint("account_id", name="uq_notification_policies_account_id"),
    )
    op.create_table(
        "notification_requests",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _account_fk("notification_requests"),
        _account_fk("notification_requests", "from_account_id"),
        sa.Column(
            "last_status_id",
            _ID,
            sa.ForeignKey(
                "statuses.id",
                name="fk_notification_requests_last_status_id_statuses",
                ondelete="SET NULL",
            ),
            nullable=True,
        ),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_requests"),
        sa.UniqueConstraint(
            "account_id", "from_account_id", name="uq_notification_requests_account_from"
        ),
    )
    op.create_table(
        "notification_permissions",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _account_fk("notification_permissions"),
        _account_fk("notification_permissions", "from_account_id"),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_permissions"),
        sa.UniqueConstraint(
            "account_id", "from_account_id", name="uq_notification_permissions_account_from"
        ),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _account_fk("push_subscriptions"),
        sa.Column(
            "token_id",
            _ID,
            sa.ForeignKey(
                "oauth_tokens.id",
                name="fk_push_subscriptions_token_id_oauth_tokens",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("access_token", roost.db.types.Sealed(), nullable=False),
        sa.Column("key_p256dh", sa.String(length=200), nullable=False),
        sa.Column("key_auth", sa.String(length=100), nullable=False),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("standard", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_push_subscriptions"),
        sa.UniqueConstraint("token_id", name="uq_push_subscriptions_token_id"),
    )
    op.create_index(
        "ix_push_subscriptions_account_id", "push_subscriptions", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_push_subscriptions_account_id", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    op.drop_table("notification_permissions")
    op.drop_table("notification_requests")
    op.drop_table("notification_policies")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_account_id_group_key")
        batch_op.drop_column("filtered")
        batch_op.drop_column("group_key")
