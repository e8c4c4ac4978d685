"""discovery: featured hashtags, staff-featured accounts, dismissed suggestions, user domain blocks

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def _fk(table: str, column: str, target: str = "accounts") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        _ID,
        sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"),
        nullable=False,
    )


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", _ID, autoincrement=False, nullable=False)


def upgrade() -> None:
    op.create_table(
        "featured_tags",
        _id(),
        _fk("featured_tags", "account_id"),
        _fk("featured_tags", "tag_id", "tags"),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_featured_tags")),
        sa.UniqueConstraint("account_id", "tag_id", name="uq_featured_tags_account_tag"),
    )
    op.create_index("ix_featured_tags_tag_id", "featured_tags", ["tag_id"])

    op.create_table(
        "featured_accounts",
        _id(),
        _fk("featured_accounts", "account_id"),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_featured_accounts")),
        sa.UniqueConstraint("account_id", name=op.f("uq_featured_accounts_account_id")),
    )

    op.create_table(
        "suggestion_dismissals",
        _id(),
        _fk("suggestion_dismissals", "account_id"),
        _fk("suggestion_dismissals", "target_account_id"),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_dismissals")),
        sa.UniqueConstraint(
            "account_id", "target_account_id", name="uq_suggestion_dismissals_account_target"
        ),
    )
    op.create_index(
        "ix_suggestion_dismissals_target_account_id_account_id",
        "suggestion_dismissals",
        ["target_account_id", "account_id"],
    )

    op.create_table(
        "account_domain_blocks",
        _id(),
        _fk("account_domain_blocks", "account_id"),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_domain_blocks")),
        sa.UniqueConstraint("account_id", "domain", name="uq_account_domain_blocks_account_domain"),
    )


def downgrade() -> None:
    op.drop_table("account_domain_blocks")
    op.drop_index(
        "ix_suggestion_dismissals_target_account_id_account_id",
        table_name="suggestion_dismissals",
    )
    op.drop_table("suggestion_dismissals")
    op.drop_table("featured_accounts")
    op.drop_index("ix_featured_tags_tag_id", table_name="featured_tags")
    op.drop_table("featured_tags")
