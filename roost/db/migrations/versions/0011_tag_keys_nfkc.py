"""hashtags keyed in Unicode compatibility form (NFKC), as one lookup makes them

Until now a post's tags were keyed by their lower-cased name as typed, so
``#cafe`` in full-width letters and in plain ones, or ``é`` typed as one
character and as ``e`` with a combining accent, were different tags. roost/domain/tags/lookup.py
now keys every tag in NFKC, then lower case. This migration keys the existing
rows the same way; tags that become one are merged into the oldest, which
takes over their posts and followers (an account or a post linked to two of
them keeps one link). A name that is no hashtag in that form keeps its key.

The rule is written out here, not imported, so that this migration does what
it did on the day it was written.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 10:00:00.000000
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _key(name: str) -> str | None:
    shown = unicodedata.normalize("NFKC", name).strip().lstrip("#")
    if not 0 < len(shown) <= 100 or _is_mark(shown[0]):
        return None
    if not all(char == "_" or char.isalnum() or _is_mark(char) for char in shown):
        return None
    return unicodedata.normalize("NFKC", shown.lower())


def upgrade() -> None:
    conn = op.get_bind()
    groups: dict[str, list[tuple[int, str]]] = {}
    for tag_id, name, key in conn.execute(sa.text("SELECT id, name, name_key FROM tags")):
        new = _key(name) or _key(key)
        if new is not None:
            groups.setdefault(new, []).append((int(tag_id), key))
    renamed: list[tuple[int, str]] = []
    for new, members in groups.items():
        members.sort()
        keep, keep_key = members[0]
        for duplicate, _old in members[1:]:
            _merge(conn, keep, duplicate)
        if keep_key != new:
            renamed.append((keep, new))
    # Through a placeholder first, so that no row takes a key another still
    # holds on its way to its own new one.
    for tag_id, _new in renamed:
        conn.execute(
            sa.text("UPDATE tags SET name_key = :key WHERE id = :id"),
            {"key": f"~{tag_id}", "id": tag_id},
        )
    for tag_id, new in renamed:
        conn.execute(
            sa.text("UPDATE tags SET name_key = :key WHERE id = :id"), {"key": new, "id": tag_id}
        )


def _merge(conn: sa.Connection, keep: int, duplicate: int) -> None:
    ids = {"keep": keep, "duplicate": duplicate}
    for table, owner in (("status_tags", "status_id"), ("followed_tags", "account_id")):
        conn.execute(
            sa.text(
                f"UPDATE {table} SET tag_id = :keep WHERE tag_id = :duplicate AND {owner} NOT IN"
                f" (SELECT {owner} FROM {table} WHERE tag_id = :keep)"
            ),
            ids,
        )
        conn.execute(sa.text(f"DELETE FROM {table} WHERE tag_id = :duplicate"), ids)
    conn.execute(sa.text("DELETE FROM tags WHERE id = :duplicate"), ids)


def downgrade() -> None:
    # The keys stay as they are: the old lookup finds every tag whose name was
    # already in that form, and merged tags cannot be told apart again.
    pass
