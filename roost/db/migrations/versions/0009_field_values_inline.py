"""profile field values: HTML without a paragraph around it

Mastodon shows a field's value inline (``<a href=...>...</a>``), and apps put
it in a table cell as it comes; Roost wrapped it in ``<p>``, as a bio. Values
written from now on are rendered inline (roost/domain/statuses/content.py
``field_html``); this re-renders the ones written before from their plain
text, which is kept beside the HTML.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def _rerender(render: Any) -> None:
    conn = op.get_bind()
    accounts = sa.table("accounts", sa.column("id", sa.BigInteger), sa.column("fields", sa.JSON))
    after = None
    while True:
        query = sa.select(accounts.c.id, accounts.c.fields).order_by(accounts.c.id).limit(_BATCH)
        if after is not None:
            query = query.where(accounts.c.id > after)
        rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            fields = row.fields or []
            rendered = [{**f, "value_html": render(str(f.get("value", "")))} for f in fields]
            if rendered != fields:
                conn.execute(
                    accounts.update().where(accounts.c.id == row.id).values(fields=rendered)
                )
        after = rows[-1].id


def upgrade() -> None:
    from roost.domain.statuses.content import field_html

    _rerender(field_html)


def downgrade() -> None:
    from roost.domain.statuses.content import note_html

    _rerender(note_html)
