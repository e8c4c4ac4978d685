"""replies collections: when another server's post's replies were last asked for

``status_replies_fetches`` holds, for a post of another server, when its
``replies`` collection was last walked because someone here read its
context (roost/domain/federation/replies.py): at most once an hour per post.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-06 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "status_replies_fetches",
        sa.Column("status_id", _ID, autoincrement=False, nullable=False),
        sa.Column("fetched_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["status_id"],
            ["statuses.id"],
            name="fk_status_replies_fetches_status_id_statuses",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_status_replies_fetches")),
    )


def downgrade() -> None:
    op.drop_table("status_replies_fetches")
