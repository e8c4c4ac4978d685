"""collections: accounts recommended by their owner, each with its consent

``collections`` are a local account's; ``collection_items`` each account
featured in one, with the state of its consent (pending, accepted, rejected,
revoked) and its place in the collection.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id", name="fk_collections_account_id_accounts", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("tag_name", sa.String(length=256), nullable=True),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("discoverable", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
    )
    op.create_index("ix_collections_account_id_id", "collections", ["account_id", "id"])
    op.create_table(
        "collection_items",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column(
            "collection_id",
            _ID,
            sa.ForeignKey(
                "collections.id",
                name="fk_collection_items_collection_id_collections",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id", name="fk_collection_items_account_id_accounts", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'accepted', 'rejected', 'revoked')",
            name="ck_collection_items_state",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_items")),
        sa.UniqueConstraint(
            "collection_id", "account_id", name="uq_collection_items_collection_account"
        ),
    )
    op.create_index("ix_collection_items_account_id", "collection_items", ["account_id"])


def downgrade() -> None:
    op.drop_table("collection_items")
    op.drop_table("collections")
