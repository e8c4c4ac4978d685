"""web sign-in: sessions, e-mail links, two-factor, invites, instance rules

Accounts that exist before this revision are taken as confirmed: they were
made by the operator or signed up before addresses were confirmed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def _account_fk(table: str, column: str = "account_id", ondelete: str = "CASCADE") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column,
        _ID,
        sa.ForeignKey("accounts.id", name=f"fk_{table}_{column}_accounts", ondelete=ondelete),
        nullable=ondelete != "CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", _AT, nullable=True))
    op.execute("UPDATE users SET confirmed_at = created_at")

    op.create_table(
        "web_sessions",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _account_fk("web_sessions"),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("last_used_at", _AT, nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])

    op.create_table(
        "email_tokens",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _account_fk("email_tokens"),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_tokens")),
    )
    op.create_index("ix_email_tokens_account_id", "email_tokens", ["account_id"])

    op.create_table(
        "two_factor",
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id", name="fk_two_factor_account_id_accounts", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("secret", roost.db.types.Sealed(), nullable=False),
        sa.Column("enabled_at", _AT, nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_two_factor")),
    )

    op.create_table(
        "recovery_codes",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        _account_fk("recovery_codes"),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index("ix_recovery_codes_account_id", "recovery_codes", ["account_id"])

    op.create_table(
        "invites",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        _account_fk("invites", "created_by", ondelete="SET NULL"),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("expires_at", _AT, nullable=True),
        sa.Column("revoked_at", _AT, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code", name=op.f("uq_invites_code")),
    )

    op.create_table(
        "instance_rules",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("hint", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_rules")),
    )


def downgrade() -> None:
    op.drop_table("instance_rules")
    op.drop_table("invites")
    op.drop_index("ix_recovery_codes_account_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("two_factor")
    op.drop_index("ix_email_tokens_account_id", table_name="email_tokens")
    op.drop_table("email_tokens")
    op.drop_index("ix_web_sessions_account_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("confirmed_at")
