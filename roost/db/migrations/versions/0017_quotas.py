"""quotas: bytes uploaded per account and day; blocked e-mail domains

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "upload_quotas",
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey(
                "accounts.id", name="fk_upload_quotas_account_id_accounts", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("bytes", _ID, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_upload_quotas")),
    )
    op.create_table(
        "email_domain_blocks",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_domain_blocks")),
        sa.UniqueConstraint("domain", name=op.f("uq_email_domain_blocks_domain")),
    )


def downgrade() -> None:
    op.drop_table("email_domain_blocks")
    op.drop_table("upload_quotas")
