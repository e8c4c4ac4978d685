"""seal imported likes (text and link) under their owner's key

Which tweets someone liked, and what those tweets said, is theirs: like the
rest of an account's content (0006), it becomes unreadable in every backup
once the account is erased and its key destroyed. The link column widens to
text (a sealed link is longer than the 2,000 characters it held).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("twitter_likes", schema=None) as batch_op:
        batch_op.alter_column(
            "url",
            existing_type=sa.String(length=2000),
            type_=roost.db.types.Sealed(),
            existing_nullable=False,
        )
    from roost.keys.ring import is_sealed, seal

    conn = op.get_bind()
    likes = sa.table(
        "twitter_likes",
        sa.column("id"),
        sa.column("account_id"),
        sa.column("text"),
        sa.column("url"),
    )
    after = None
    while True:
        query = sa.select(likes).order_by(likes.c.id).limit(_BATCH)
        if after is not None:
            query = query.where(likes.c.id > after)
        rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            values = {
                column: seal(row.account_id, getattr(row, column))
                for column in ("text", "url")
                if getattr(row, column) and not is_sealed(getattr(row, column))
            }
            if values:
                conn.execute(sa.update(likes).where(likes.c.id == row.id).values(**values))
        after = rows[-1].id


def downgrade() -> None:
    raise NotImplementedError(
        "sealed content cannot be unsealed by a downgrade; restore the backup taken before"
    )
