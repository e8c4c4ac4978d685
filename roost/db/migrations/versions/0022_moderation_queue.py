"""moderation queue: what each moderator looked at, per day and category

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 21:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "moderation_exposures",
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id",
                name="fk_moderation_exposures_account_id_accounts",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("media", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "day", "category", name=op.f("pk_moderation_exposures")
        ),
    )
    op.create_table(
        "moderation_views",
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id", name="fk_moderation_views_account_id_accounts", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column(
            "report_id",
            _ID,
            sa.ForeignKey(
                "reports.id", name="fk_moderation_views_report_id_reports", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "report_id", "day", name=op.f("pk_moderation_views")),
    )


def downgrade() -> None:
    op.drop_table("moderation_views")
    op.drop_table("moderation_exposures")
