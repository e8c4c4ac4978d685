"""lawful requests: an authority's request for an account's data, its approvals

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 02:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "lawful_requests",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("account_id", _ID, nullable=True),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("verification", roost.db.types.Sealed(), nullable=False),
        sa.Column("verified_by_account_id", _ID, nullable=True),
        sa.Column("requested_by_account_id", _ID, nullable=True),
        sa.Column("starts_at", _AT, nullable=False),
        sa.Column("ends_at", _AT, nullable=False),
        sa.Column("kinds", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("refusal_reason", roost.db.types.Sealed(), nullable=True),
        sa.Column("decided_by_account_id", _ID, nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lawful_requests")),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'refused', 'disclosed')",
            name="ck_lawful_requests_state",
        ),
        sa.CheckConstraint("starts_at < ends_at", name="ck_lawful_requests_range"),
    )
    op.create_index("ix_lawful_requests_account_id", "lawful_requests", ["account_id"])
    op.create_table(
        "lawful_approvals",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column(
            "request_id",
            _ID,
            sa.ForeignKey(
                "lawful_requests.id",
                name="fk_lawful_approvals_request_id_lawful_requests",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("approver_account_id", _ID, nullable=True),
        sa.Column("requester_account_id", _ID, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lawful_approvals")),
        sa.UniqueConstraint(
            "request_id", "approver_account_id", name="uq_lawful_approvals_approver"
        ),
        sa.CheckConstraint(
            "approver_account_id <> requester_account_id",
            name="ck_lawful_approvals_not_requester",
        ),
    )
    op.create_index(
        "ix_lawful_approvals_approver_account_id", "lawful_approvals", ["approver_account_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_lawful_approvals_approver_account_id", table_name="lawful_approvals")
    op.drop_table("lawful_approvals")
    op.drop_index("ix_lawful_requests_account_id", table_name="lawful_requests")
    op.drop_table("lawful_requests")
