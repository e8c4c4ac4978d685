"""polls and their votes; scheduled posts; quote posts and quote policies

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def _fk(table: str, column: str, target: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        _ID,
        sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _fk("polls", "status_id", "statuses"),
        _fk("polls", "account_id", "accounts"),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("hide_totals", sa.Boolean(), nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
        sa.UniqueConstraint("status_id", name="uq_polls_status_id"),
    )
    op.create_index("ix_polls_account_id", "polls", ["account_id"])
    op.create_table(
        "poll_votes",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _fk("poll_votes", "poll_id", "polls"),
        _fk("poll_votes", "account_id", "accounts"),
        sa.Column("choice", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_votes")),
        sa.UniqueConstraint(
            "poll_id", "account_id", "choice", name="uq_poll_votes_poll_account_choice"
        ),
    )
    op.create_index("ix_poll_votes_account_id", "poll_votes", ["account_id"])
    op.create_table(
        "scheduled_statuses",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _fk("scheduled_statuses", "account_id", "accounts"),
        sa.Column("scheduled_at", _AT, nullable=False),
        sa.Column("text", roost.db.types.Sealed(), nullable=False),
        sa.Column("spoiler_text", roost.db.types.Sealed(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_statuses")),
    )
    op.create_index(
        "ix_scheduled_statuses_account_id_scheduled_at",
        "scheduled_statuses",
        ["account_id", "scheduled_at"],
    )
    op.create_table(
        "quotes",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _fk("quotes", "status_id", "statuses"),
        _fk("quotes", "account_id", "accounts"),
        sa.Column("quoted_status_id", _ID, nullable=True),
        sa.Column("quoted_account_id", _ID, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        sa.UniqueConstraint("status_id", name="uq_quotes_status_id"),
    )
    op.create_index(
        "ix_quotes_quoted_status_id_status_id", "quotes", ["quoted_status_id", "status_id"]
    )
    op.create_index("ix_quotes_account_id", "quotes", ["account_id"])
    op.create_table(
        "quote_policies",
        sa.Column("status_id", _ID, autoincrement=False, nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["status_id"],
            ["statuses.id"],
            name="fk_quote_policies_status_id_statuses",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_quote_policies")),
    )


def downgrade() -> None:
    op.drop_table("quote_policies")
    op.drop_table("quotes")
    op.drop_table("scheduled_statuses")
    op.drop_table("poll_votes")
    op.drop_table("polls")
