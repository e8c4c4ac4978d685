"""default quote policy, polls in edit history, card images

Who may quote a user's new posts when a post names none; the poll options of
each version of an edited post; link cards' images kept in the media store.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "default_quote_policy",
                sa.String(length=16),
                nullable=False,
                server_default=sa.text("'public'"),
            )
        )
    with op.batch_alter_table("status_edits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poll_options", sa.JSON(), nullable=True))
    with op.batch_alter_table("preview_cards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_file", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("blurhash", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("preview_cards", schema=None) as batch_op:
        batch_op.drop_column("blurhash")
        batch_op.drop_column("image_file")
    with op.batch_alter_table("status_edits", schema=None) as batch_op:
        batch_op.drop_column("poll_options")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("default_quote_policy")
