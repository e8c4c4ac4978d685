"""index boosts by their booster: "has the viewer boosted this post?"

Timeline pages ask it of every post (roost/domain/statuses/feed.py). Partial:
only boosts are indexed, a small part of all posts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_statuses_boosts_by_account",
        "statuses",
        ["account_id", "reblog_of_id"],
        unique=False,
        sqlite_where=sa.text("reblog_of_id IS NOT NULL"),
        postgresql_where=sa.text("reblog_of_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_statuses_boosts_by_account", table_name="statuses")
