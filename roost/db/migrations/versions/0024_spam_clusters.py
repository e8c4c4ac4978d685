"""spam waves: post signatures and bands, clusters, holds, sign-up networks

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "sign_up_networks",
        sa.Column("account_id", _ID, _fk("sign_up_networks", "account_id", "accounts")),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sign_up_networks")),
    )
    op.create_table(
        "spam_signatures",
        sa.Column("status_id", _ID, _fk("spam_signatures", "status_id", "statuses")),
        sa.Column(
            "account_id",
            _ID,
            _fk("spam_signatures", "account_id", "accounts"),
            nullable=False,
        ),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_spam_signatures")),
    )
    op.create_index("ix_spam_signatures_account_id", "spam_signatures", ["account_id"])
    op.create_index("ix_spam_signatures_created_at", "spam_signatures", ["created_at"])
    op.create_table(
        "spam_bands",
        sa.Column("band_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "status_id",
            _ID,
            _fk("spam_bands", "status_id", "statuses"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("band_key", "status_id", name=op.f("pk_spam_bands")),
    )
    op.create_index("ix_spam_bands_status_id", "spam_bands", ["status_id"])
    op.create_table(
        "spam_clusters",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.Column("decided_by_account_id", _ID, nullable=True),
        sa.Column("decided_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spam_clusters")),
        sa.CheckConstraint(
            "state IN ('open', 'suspended', 'deleted', 'not_spam')",
            name="ck_spam_clusters_state",
        ),
    )
    op.create_index("ix_spam_clusters_updated_at", "spam_clusters", ["updated_at"])
    op.create_table(
        "spam_cluster_posts",
        sa.Column("status_id", _ID, _fk("spam_cluster_posts", "status_id", "statuses")),
        sa.Column(
            "cluster_id",
            _ID,
            _fk("spam_cluster_posts", "cluster_id", "spam_clusters"),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            _ID,
            _fk("spam_cluster_posts", "account_id", "accounts"),
            nullable=False,
        ),
        sa.Column("added_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_spam_cluster_posts")),
    )
    op.create_index("ix_spam_cluster_posts_cluster_id", "spam_cluster_posts", ["cluster_id"])
    op.create_index("ix_spam_cluster_posts_account_id", "spam_cluster_posts", ["account_id"])
    op.create_table(
        "spam_holds",
        sa.Column("status_id", _ID, _fk("spam_holds", "status_id", "statuses")),
        sa.Column("account_id", _ID, _fk("spam_holds", "account_id", "accounts"), nullable=False),
        sa.Column("cluster_id", _ID, nullable=False),
        sa.Column("held_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_spam_holds")),
    )
    op.create_index("ix_spam_holds_account_id", "spam_holds", ["account_id"])
    op.create_index("ix_spam_holds_cluster_id", "spam_holds", ["cluster_id"])


def downgrade() -> None:
    op.drop_index("ix_spam_holds_cluster_id", table_name="spam_holds")
    op.drop_index("ix_spam_holds_account_id", table_name="spam_holds")
    op.drop_table("spam_holds")
    op.drop_index("ix_spam_cluster_posts_account_id", table_name="spam_cluster_posts")
    op.drop_index("ix_spam_cluster_posts_cluster_id", table_name="spam_cluster_posts")
    op.drop_table("spam_cluster_posts")
    op.drop_index("ix_spam_clusters_updated_at", table_name="spam_clusters")
    op.drop_table("spam_clusters")
    op.drop_index("ix_spam_bands_status_id", table_name="spam_bands")
    op.drop_table("spam_bands")
    op.drop_index("ix_spam_signatures_created_at", table_name="spam_signatures")
    op.drop_index("ix_spam_signatures_account_id", table_name="spam_signatures")
    op.drop_table("spam_signatures")
    op.drop_table("sign_up_networks")
