"""account moves: aliases (alsoKnownAs) and moved accounts

``account_aliases`` are the accounts elsewhere a local account names as its
own (the accounts it may move from); ``account_moves`` the accounts, local
or of another server, that moved to another account.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 09:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def _account(table: str, column: str) -> sa.Column[int]:
    return sa.Column(
        column,
        _ID,
        sa.ForeignKey("accounts.id", name=f"fk_{table}_{column}_accounts", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "account_aliases",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _account("account_aliases", "account_id"),
        _account("account_aliases", "target_account_id"),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_aliases")),
        sa.UniqueConstraint("account_id", "target_account_id", name="uq_account_aliases_pair"),
    )
    op.create_index(
        "ix_account_aliases_target_account_id", "account_aliases", ["target_account_id"]
    )
    op.create_table(
        "account_moves",
        sa.Column("account_id", _ID, autoincrement=False, nullable=False),
        sa.Column("target_account_id", _ID, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_moves_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_account_id"],
            ["accounts.id"],
            name="fk_account_moves_target_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_moves")),
    )
    op.create_index("ix_account_moves_target_account_id", "account_moves", ["target_account_id"])


def downgrade() -> None:
    op.drop_table("account_moves")
    op.drop_table("account_aliases")
