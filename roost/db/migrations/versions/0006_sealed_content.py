"""seal each account's content under its own key (crypto-shredding)

Posts, their edits, alt texts, bios, e-mail addresses and imported direct
messages are sealed under their account's key in the key store
(roost/keys), which lives outside the data backups; erasure destroys the key.
This migration makes a key for every account, seals the rows written before,
and replaces the lower-cased e-mail in ``users.email_key`` with its blind
index. The e-mail column widens to text (a sealed address is longer).

Media files written before stay as they are (they are read either way); see
docs/operations.md "Erasure".

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import roost.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000

# (table, key column, owner column, sealed columns): read and written raw here.
_SEALED = (
    ("statuses", "id", "account_id", ("text", "content", "spoiler_text")),
    ("status_edits", "id", "account_id", ("text", "content", "spoiler_text")),
    ("media_attachments", "id", "account_id", ("description",)),
    ("accounts", "id", "id", ("note", "note_html")),
    ("twitter_direct_messages", "id", "account_id", ("text",)),
)


def _seal_table(name: str, key: str, owner: str, columns: tuple[str, ...]) -> None:
    from roost.keys.ring import is_sealed, seal

    conn = op.get_bind()
    names = dict.fromkeys((key, owner, *columns))
    table = sa.table(name, *(sa.column(c) for c in names))
    after = None
    while True:
        query = sa.select(*(table.c[c] for c in names)).order_by(table.c[key]).limit(_BATCH)
        if after is not None:
            query = query.where(table.c[key] > after)
        rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            values = {
                c: seal(row._mapping[owner], row._mapping[c])
                for c in columns
                if row._mapping[c] and not is_sealed(row._mapping[c])
            }
            if values:
                conn.execute(
                    sa.update(table).where(table.c[key] == row._mapping[key]).values(**values)
                )
        after = rows[-1]._mapping[key]


def _seal_emails() -> None:
    from roost.keys.ring import email_index, is_sealed, seal

    conn = op.get_bind()
    users = sa.table("users", sa.column("account_id"), sa.column("email"), sa.column("email_key"))
    for row in conn.execute(sa.select(users.c.account_id, users.c.email)).all():
        if is_sealed(row.email):
            continue
        conn.execute(
            sa.update(users)
            .where(users.c.account_id == row.account_id)
            .values(email=seal(row.account_id, row.email), email_key=email_index(row.email))
        )


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "email",
            existing_type=sa.String(length=320),
            type_=roost.db.types.Sealed(),
            existing_nullable=False,
        )
    for name, key, owner, columns in _SEALED:
        _seal_table(name, key, owner, columns)
    _seal_emails()


def downgrade() -> None:
    raise NotImplementedError(
        "sealed content cannot be unsealed by a downgrade; restore the backup taken before"
    )
