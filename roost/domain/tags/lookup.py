"""The one way to a hashtag's row: its key, finding it, and making it.

Every path that names a tag goes through here: a post written or edited
(roost/domain/statuses/actions.py), imported (roost/importers/twitter/store.py),
a tag followed, and every read by name (a tag's page, a hashtag timeline, an
account's posts with a tag).

A tag's key (``tags.name_key``, unique) is the name as typed, without the
leading ``#`` and surrounding spaces, in Unicode compatibility form (NFKC:
full-width letters are the plain ones; ``e`` and a combining accent are ``é``),
then lower-cased, as Mastodon's own tag normaliser begins. It must be 1 to 100
word characters (``#`` followed by anything else is not a tag; a name that
stops being one in that form, such as ``x½``, whose ``½`` becomes a 1, a
fraction slash and a 2, names no tag), each maybe followed by combining marks:
lower case can leave one (a dotted capital I becomes an i and a combining
dot), and a key must be a name whose key is itself. Unlike Mastodon, accents
are not folded: ``café`` and ``cafe`` are two tags, as they have always been
here. The row keeps the name as first used, in the same compatibility form,
for display.

Making a tag is "insert if absent" on the unique key (``ON CONFLICT DO
NOTHING``, on SQLite and PostgreSQL alike), the new rows' ids returned by
the insert and any made meanwhile by another transaction read back: two
posts that bring in the same new tag at once get the same row, and neither
fails. New tags of one batch are inserted in key order, so two transactions
never wait on each other's tags crosswise.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import tags
from roost.ids import new_id

# Keys per statement, well below every engine's limit on bound parameters.
_CHUNK = 500


def _display(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lstrip("#")


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _is_name(text: str) -> bool:
    """1 to 100 word characters (what #hashtags in posts are made of, see
    roost/domain/statuses/content.py), each maybe followed by combining marks."""
    if not 0 < len(text) <= 100 or _is_mark(text[0]):
        return False
    return all(char == "_" or char.isalnum() or _is_mark(char) for char in text)


def tag_key(name: str) -> str | None:
    """The tag's key, or None when ``name`` cannot be a hashtag."""
    shown = _display(name)
    if not _is_name(shown):
        return None
    # Lower-casing can leave a character NFKC would write otherwise: normalised
    # again, so a key is its own key.
    return unicodedata.normalize("NFKC", shown.lower())


async def find_tag_id(conn: AsyncConnection, name: str) -> int | None:
    """The id of the tag ``name`` names, if anyone used or followed it."""
    key = tag_key(name)
    if key is None:
        return None
    row = (await conn.execute(select(tags.c.id).where(tags.c.name_key == key))).first()
    return None if row is None else int(row.id)


async def tag_ids(tx: Tx, names: Iterable[str]) -> dict[str, int]:
    """Tag id by key for every one of ``names`` that can be a hashtag, making
    those nobody used yet (see the module docstring)."""
    return {key: tag_id for key, (tag_id, _name) in (await tags_named(tx, names)).items()}


async def tags_named(tx: Tx, names: Iterable[str]) -> dict[str, tuple[int, str]]:
    """``tag_ids`` with each tag's name as its row keeps it (for display):
    key -> (id, name)."""
    wanted: dict[str, str] = {}
    for name in names:
        key = tag_key(name)
        if key is not None:
            wanted.setdefault(key, _display(name))
    keys = sorted(wanted)
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        found.update(await _ids(tx, chunk))
        missing = [key for key in chunk if key not in found]
        if missing:
            now = utcnow()
            # The rows it made come back with the insert; a key another
            # transaction made meanwhile (no row back) is read after it.
            made = await tx.execute(
                _insert_absent(tx)
                .values(
                    [
                        {"id": new_id(), "name": wanted[key], "name_key": key, "created_at": now}
                        for key in missing
                    ]
                )
                .returning(tags.c.id, tags.c.name_key, tags.c.name)
            )
            found.update({row.name_key: (int(row.id), str(row.name)) for row in made})
            others = [key for key in missing if key not in found]
            if others:
                found.update(await _ids(tx, others))
    return found


async def _ids(tx: Tx, keys: list[str]) -> dict[str, tuple[int, str]]:
    rows = await tx.execute(_IDS, {"keys": keys})
    return {row.name_key: (int(row.id), str(row.name)) for row in rows}


# Every post with a tag asks this: built once.
_IDS = select(tags.c.id, tags.c.name_key, tags.c.name).where(
    tags.c.name_key.in_(bindparam("keys", expanding=True))
)


def _insert_absent(tx: Tx) -> Any:
    if tx.conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(tags).on_conflict_do_nothing(index_elements=[tags.c.name_key])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(tags).on_conflict_do_nothing(index_elements=[tags.c.name_key])
