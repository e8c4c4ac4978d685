"""the signature scheme each other server takes, remembered

``federation_hosts.signature_scheme`` ("rfc9421" or "cavage") and
``signature_scheme_at``: which signature the host took when Roost last
double-knocked (RFC 9421 first, draft-cavage after a refusal), and when
that was learnt; shared by every worker, so the next request to the host
is signed the way it takes at once.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-06 16:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("federation_hosts") as batch:
        batch.add_column(sa.Column("signature_scheme", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("signature_scheme_at", roost.db.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("federation_hosts") as batch:
        batch.drop_column("signature_scheme_at")
        batch.drop_column("signature_scheme")
