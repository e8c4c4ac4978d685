"""federation: where posts went, who received activities name, farewells

``status_deliveries`` keeps each inbox a local post was sent to, so its
deletion reaches them all; ``account_deliveries`` each inbox anything of a
local account went to, for the Delete of its actor when it is erased;
``inbox_activity_accounts`` the local accounts a received activity names,
so erasing one of them removes the activity;
``actor_farewells`` the Delete of an erased account's actor still to be sent.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "status_deliveries",
        sa.Column("status_id", _ID, nullable=False),
        sa.Column("inbox_url", sa.String(length=2048), nullable=False),
        sa.PrimaryKeyConstraint("status_id", "inbox_url", name="pk_status_deliveries"),
    )
    op.create_table(
        "account_deliveries",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("inbox_url", sa.String(length=2048), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "inbox_url", name="pk_account_deliveries"),
    )
    op.create_table(
        "inbox_activity_accounts",
        sa.Column("inbox_activity_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_activity_id"],
            ["inbox_activities.id"],
            name=op.f("fk_inbox_activity_accounts_inbox_activity_id_inbox_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "inbox_activity_id", "account_id", name="pk_inbox_activity_accounts"
        ),
    )
    op.create_index(
        "ix_inbox_activity_accounts_account_id", "inbox_activity_accounts", ["account_id"]
    )
    op.create_table(
        "actor_farewells",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("actor_uri", roost.db.types.Sealed(), nullable=False),
        sa.Column("private_key_pem", roost.db.types.Sealed(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor_farewells")),
    )


def downgrade() -> None:
    op.drop_table("actor_farewells")
    op.drop_index("ix_inbox_activity_accounts_account_id", table_name="inbox_activity_accounts")
    op.drop_table("inbox_activity_accounts")
    op.drop_table("account_deliveries")
    op.drop_table("status_deliveries")
