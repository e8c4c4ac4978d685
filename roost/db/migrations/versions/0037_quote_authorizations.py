"""quote authorizations of other servers

``quotes.authorization_uri``: the ``QuoteAuthorization`` another server gave
for a quote (FEP-044f): for a local post quoting another server's post, the
one the quoted author's server sent in its ``Accept``; for a received post
quoting another server's post, the one its Note names (checked by fetching
it). A received ``Delete`` of it revokes the quote.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quotes") as batch:
        batch.add_column(sa.Column("authorization_uri", sa.String(2048), nullable=True))
        batch.create_index("ix_quotes_authorization_uri", ["authorization_uri"])


def downgrade() -> None:
    with op.batch_alter_table("quotes") as batch:
        batch.drop_index("ix_quotes_authorization_uri")
        batch.drop_column("authorization_uri")
