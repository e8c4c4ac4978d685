"""federation: remote accounts and posts, the follow activities' ids

Accounts and posts of other servers are rows of ``accounts`` and ``statuses``
with the address they have there (``uri``, ``url``) and, for accounts, their
``domain``; ``remote_accounts`` keeps where to deliver to them. ``follows`` and
``follow_requests`` keep the id of the Follow activity behind them, which an
Accept, Reject or Undo names.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.add_column("accounts", sa.Column("domain", sa.String(length=255), nullable=True))
    op.add_column("accounts", sa.Column("uri", sa.String(length=2048), nullable=True))
    op.add_column("accounts", sa.Column("url", sa.String(length=2048), nullable=True))
    op.create_index("ix_accounts_uri", "accounts", ["uri"], unique=True)
    op.add_column("statuses", sa.Column("uri", sa.String(length=2048), nullable=True))
    op.add_column("statuses", sa.Column("url", sa.String(length=2048), nullable=True))
    op.create_index("ix_statuses_uri", "statuses", ["uri"], unique=True)
    op.add_column("follows", sa.Column("uri", sa.String(length=2048), nullable=True))
    op.add_column("follow_requests", sa.Column("uri", sa.String(length=2048), nullable=True))
    op.create_table(
        "remote_accounts",
        sa.Column("account_id", _ID, autoincrement=False, nullable=False),
        sa.Column("inbox_url", sa.String(length=2048), nullable=False),
        sa.Column("shared_inbox_url", sa.String(length=2048), nullable=True),
        sa.Column("followers_url", sa.String(length=2048), nullable=True),
        sa.Column("fetched_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_remote_accounts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_remote_accounts")),
    )

    # Received activities are now processed: "handled", or "failed" when their
    # processing gave up (the old states stay valid).
    with op.batch_alter_table("inbox_activities") as batch:
        batch.drop_constraint("ck_inbox_activities_state", type_="check")
        batch.create_check_constraint("ck_inbox_activities_state", sa.text(_STATES))


_STATES = "state IN ('queued', 'unhandled', 'handled', 'failed')"


def downgrade() -> None:
    with op.batch_alter_table("inbox_activities") as batch:
        batch.drop_constraint("ck_inbox_activities_state", type_="check")
        batch.create_check_constraint(
            "ck_inbox_activities_state", sa.text("state IN ('queued', 'unhandled')")
        )
    op.drop_table("remote_accounts")
    with op.batch_alter_table("follow_requests") as batch:
        batch.drop_column("uri")
    with op.batch_alter_table("follows") as batch:
        batch.drop_column("uri")
    op.drop_index("ix_statuses_uri", table_name="statuses")
    with op.batch_alter_table("statuses") as batch:
        batch.drop_column("url")
        batch.drop_column("uri")
    op.drop_index("ix_accounts_uri", table_name="accounts")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("url")
        batch.drop_column("uri")
        batch.drop_column("domain")
