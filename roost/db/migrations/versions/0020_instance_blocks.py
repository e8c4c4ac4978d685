"""instance-wide blocks: domain blocks and allows, IP blocks, canonical e-mail blocks

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "instance_domain_blocks",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reject_media", sa.Boolean(), nullable=False),
        sa.Column("reject_reports", sa.Boolean(), nullable=False),
        sa.Column("private_comment", sa.Text(), nullable=True),
        sa.Column("public_comment", sa.Text(), nullable=True),
        sa.Column("obfuscate", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_domain_blocks")),
        sa.UniqueConstraint("domain", name=op.f("uq_instance_domain_blocks_domain")),
        sa.CheckConstraint(
            "severity IN ('silence', 'suspend', 'noop')",
            name="ck_instance_domain_blocks_severity",
        ),
    )
    op.create_table(
        "instance_domain_allows",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_domain_allows")),
        sa.UniqueConstraint("domain", name=op.f("uq_instance_domain_allows_domain")),
    )
    op.create_table(
        "ip_blocks",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("ip", sa.String(length=43), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_blocks")),
        sa.UniqueConstraint("ip", name=op.f("uq_ip_blocks_ip")),
        sa.CheckConstraint(
            "severity IN ('sign_up_requires_approval', 'sign_up_block', 'no_access')",
            name="ck_ip_blocks_severity",
        ),
    )
    op.create_table(
        "canonical_email_blocks",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("canonical_email_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canonical_email_blocks")),
        sa.UniqueConstraint(
            "canonical_email_hash", name=op.f("uq_canonical_email_blocks_canonical_email_hash")
        ),
    )


def downgrade() -> None:
    op.drop_table("canonical_email_blocks")
    op.drop_table("ip_blocks")
    op.drop_table("instance_domain_allows")
    op.drop_table("instance_domain_blocks")
