"""account limits, strikes and appeals: silenced, sensitized, disabled; account warnings

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()
_SEALED = roost.db.types.Sealed()


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("silenced_at", _AT, nullable=True))
        batch_op.add_column(sa.Column("sensitized_at", _AT, nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.create_table(
        "account_warnings",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("by_account_id", _ID, nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("text", _SEALED, nullable=False),
        sa.Column("report_id", _ID, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("overruled_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_warnings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_account_warnings_report_id_reports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_warnings")),
    )
    op.create_index("ix_account_warnings_account_id", "account_warnings", ["account_id"])
    op.create_table(
        "appeals",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("account_warning_id", _ID, nullable=False),
        sa.Column("text", _SEALED, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("approved_at", _AT, nullable=True),
        sa.Column("rejected_at", _AT, nullable=True),
        sa.Column("decided_by_account_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_appeals_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_warning_id"],
            ["account_warnings.id"],
            name=op.f("fk_appeals_account_warning_id_account_warnings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("account_warning_id", name=op.f("uq_appeals_account_warning_id")),
    )
    op.create_index("ix_appeals_account_id", "appeals", ["account_id"])
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_warning_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            "fk_notifications_account_warning_id_account_warnings",
            "account_warnings",
            ["account_warning_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE account_warning_id IS NOT NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_notifications_account_warning_id_account_warnings", type_="foreignkey"
        )
        batch_op.drop_column("account_warning_id")
    op.drop_index("ix_appeals_account_id", table_name="appeals")
    op.drop_table("appeals")
    op.drop_index("ix_account_warnings_account_id", table_name="account_warnings")
    op.drop_table("account_warnings")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("disabled")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("sensitized_at")
        batch_op.drop_column("silenced_at")
