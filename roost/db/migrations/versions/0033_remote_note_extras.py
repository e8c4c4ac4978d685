"""remote note extras: media by their remote address, polls with remote counts

``media_attachments.remote_url``: where a received post's attachment lives on
its server (its file is not fetched on receipt: ``file_key`` is empty and its
state ``remote``). ``polls.remote_counts`` / ``polls.remote_voters``: a
received poll's votes per option and voters, as its server reports them
(None for a local poll, counted from ``poll_votes``).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 10:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media_attachments") as batch:
        batch.add_column(sa.Column("remote_url", sa.String(2048), nullable=True))
    with op.batch_alter_table("polls") as batch:
        batch.add_column(sa.Column("remote_counts", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("remote_voters", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.drop_column("remote_voters")
        batch.drop_column("remote_counts")
    with op.batch_alter_table("media_attachments") as batch:
        batch.drop_column("remote_url")
