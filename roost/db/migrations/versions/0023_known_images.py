"""known images: hash lists, their hashes, and the quarantine of refused media

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 21:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "known_image_lists",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("generation", _ID, nullable=False),
        sa.Column("imported_at", _AT, nullable=False),
        sa.CheckConstraint("kind IN ('pdq', 'sha256')", name="ck_known_image_lists_kind"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_image_lists")),
        sa.UniqueConstraint("name", name="uq_known_image_lists_name"),
    )
    op.create_table(
        "known_image_hashes",
        sa.Column(
            "list_id",
            _ID,
            sa.ForeignKey(
                "known_image_lists.id",
                name="fk_known_image_hashes_list_id_known_image_lists",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("list_id", "hash", name=op.f("pk_known_image_hashes")),
    )
    op.create_index("ix_known_image_hashes_hash", "known_image_hashes", ["hash"])
    op.create_table(
        "quarantined_media",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("distance", sa.SmallInteger(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("report_id", _ID, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_media")),
    )
    op.create_index("ix_quarantined_media_account_id", "quarantined_media", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_quarantined_media_account_id", table_name="quarantined_media")
    op.drop_table("quarantined_media")
    op.drop_index("ix_known_image_hashes_hash", table_name="known_image_hashes")
    op.drop_table("known_image_hashes")
    op.drop_table("known_image_lists")
