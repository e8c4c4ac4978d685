"""retired usernames: an erased account's name is never given to another

``retired_usernames`` holds a digest of each erased local account's username
(never the name itself): other servers know the account by its address
(``/users/NAME``), and a newcomer given the same name would be taken by them
for the erased person, their follows and their posts' replies. With it, the
name is refused at sign-up and the address answers 410 Gone.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = roost.db.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "retired_usernames",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("retired_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_retired_usernames")),
    )


def downgrade() -> None:
    op.drop_table("retired_usernames")
