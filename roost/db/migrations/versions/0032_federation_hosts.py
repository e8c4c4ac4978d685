"""federation_hosts: each other server's delivery state, shared by every worker

Consecutive failures, the time before which it is not tried, the first
failure of the run, the last success, when it was marked unavailable and how
many deliveries were dropped since.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "federation_hosts",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", _AT, nullable=True),
        sa.Column("next_attempt_at", _AT, nullable=True),
        sa.Column("last_success_at", _AT, nullable=True),
        sa.Column("unavailable_at", _AT, nullable=True),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_federation_hosts")),
    )


def downgrade() -> None:
    op.drop_table("federation_hosts")
