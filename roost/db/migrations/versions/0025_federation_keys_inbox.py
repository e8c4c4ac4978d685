"""federation: actor key pairs, remote keys, the inbox's activities

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "actor_keys",
        sa.Column("account_id", _ID, autoincrement=False, nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key_pem", roost.db.types.Sealed(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_actor_keys")),
    )
    op.create_table(
        "remote_actor_keys",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("key_id", sa.String(length=2048), nullable=False),
        sa.Column("owner", sa.String(length=2048), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("fetched_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_actor_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_remote_actor_keys_key_id")),
    )
    op.create_table(
        "inbox_activities",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("recipient_account_id", _ID, nullable=True),
        sa.Column("actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("key_id", sa.String(length=2048), nullable=False),
        sa.Column("activity_uri", sa.String(length=2048), nullable=True),
        sa.Column("activity_type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_activities")),
        sa.UniqueConstraint("activity_uri", name=op.f("uq_inbox_activities_activity_uri")),
        sa.CheckConstraint("state IN ('queued', 'unhandled')", name="ck_inbox_activities_state"),
    )
    op.create_index(
        "ix_inbox_activities_recipient_account_id",
        "inbox_activities",
        ["recipient_account_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_activities_recipient_account_id", table_name="inbox_activities")
    op.drop_table("inbox_activities")
    op.drop_table("remote_actor_keys")
    op.drop_table("actor_keys")
