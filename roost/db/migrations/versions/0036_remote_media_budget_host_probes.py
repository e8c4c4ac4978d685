"""remote media kept under a budget; unavailable hosts probed

``media_attachments.remote_used_at``: when a cached file of another
server's media was last fetched or served here (the least recently used go
first when remote files are over their budget); ``remote_pruned_at``: its
file was removed by that pruning (the row stays, and the file is fetched
again from its server when asked for). ``federation_hosts.probes`` and
``next_probe_at``: how many times an unavailable host was probed without an
answer, and when it is probed next (the spacing doubles).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 12:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    with op.batch_alter_table("media_attachments") as batch:
        batch.add_column(sa.Column("remote_used_at", _AT, nullable=True))
        batch.add_column(sa.Column("remote_pruned_at", _AT, nullable=True))
        batch.create_index("ix_media_attachments_remote_used_at", ["remote_used_at"])
    with op.batch_alter_table("federation_hosts") as batch:
        batch.add_column(sa.Column("probes", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_probe_at", _AT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("federation_hosts") as batch:
        batch.drop_column("next_probe_at")
        batch.drop_column("probes")
    with op.batch_alter_table("media_attachments") as batch:
        batch.drop_index("ix_media_attachments_remote_used_at")
        batch.drop_column("remote_pruned_at")
        batch.drop_column("remote_used_at")
