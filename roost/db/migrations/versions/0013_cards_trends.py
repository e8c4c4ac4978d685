"""link preview cards and the staff review of trends

``preview_cards`` holds one card per address linked (shared by every post
linking it), ``status_cards`` which card a post shows, and
``trend_reviews`` the staff's approval or rejection of a trending hashtag,
post or link.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "preview_cards",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(length=64), nullable=False),
        sa.Column("shown_url", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("author_name", sa.String(length=300), nullable=False),
        sa.Column("author_url", sa.Text(), nullable=False),
        sa.Column("provider_name", sa.String(length=300), nullable=False),
        sa.Column("provider_url", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("image_description", sa.Text(), nullable=False),
        sa.Column("embed_url", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("published_at", _AT, nullable=True),
        sa.Column("fetched_at", _AT, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preview_cards")),
        sa.UniqueConstraint("url_key", name=op.f("uq_preview_cards_url_key")),
    )
    op.create_table(
        "status_cards",
        sa.Column(
            "status_id",
            _ID,
            sa.ForeignKey(
                "statuses.id", name="fk_status_cards_status_id_statuses", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column(
            "card_id",
            _ID,
            sa.ForeignKey(
                "preview_cards.id", name="fk_status_cards_card_id_preview_cards", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.UniqueConstraint("status_id", name="uq_status_cards_status_id"),
    )
    op.create_index("ix_status_cards_card_id_status_id", "status_cards", ["card_id", "status_id"])
    op.create_table(
        "trend_reviews",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column(
            "tag_id",
            _ID,
            sa.ForeignKey("tags.id", name="fk_trend_reviews_tag_id_tags", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "status_id",
            _ID,
            sa.ForeignKey(
                "statuses.id", name="fk_trend_reviews_status_id_statuses", ondelete="CASCADE"
            ),
            nullable=True,
        ),
        sa.Column(
            "card_id",
            _ID,
            sa.ForeignKey(
                "preview_cards.id",
                name="fk_trend_reviews_card_id_preview_cards",
                ondelete="CASCADE",
            ),
            nullable=True,
        ),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column(
            "decided_by",
            _ID,
            sa.ForeignKey(
                "accounts.id", name="fk_trend_reviews_decided_by_accounts", ondelete="SET NULL"
            ),
            nullable=True,
        ),
        sa.Column("decided_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trend_reviews")),
        sa.UniqueConstraint("tag_id", name="uq_trend_reviews_tag_id"),
        sa.UniqueConstraint("status_id", name="uq_trend_reviews_status_id"),
        sa.UniqueConstraint("card_id", name="uq_trend_reviews_card_id"),
    )


def downgrade() -> None:
    op.drop_table("trend_reviews")
    op.drop_index("ix_status_cards_card_id_status_id", table_name="status_cards")
    op.drop_table("status_cards")
    op.drop_table("preview_cards")
