"""Known-image lists: named sets of hashes the operator imports, each either
PDQ (perceptual, for images) or SHA-256 (exact, for any file, videos above all).

A list file holds one hash a line, 64 hex digits, optionally followed by a
label (after a space, tab or comma); blank lines and lines starting with ``#``
are skipped. Importing a list under a name it already has replaces it in one
transaction: an upload checked meanwhile meets the old list or the new one,
never a half of either. A file with one bad line changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Database
from roost.db.tables import known_image_hashes, known_image_lists
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id

KINDS = ("pdq", "sha256")
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_LABEL = 200
_HEX = re.compile(r"^[0-9a-f]{64}$")
_BATCH = 5000


@dataclass(frozen=True)
class KnownImageList:
    id: int
    name: str
    kind: str
    entries: int
    imported_at: datetime


@dataclass(frozen=True)
class Entry:
    hash: str
    label: str | None


def parse_entries(text: str) -> list[Entry]:
    """The entries of a list file, duplicates merged (the first label wins);
    RuleBroken naming the first bad line."""
    found: dict[str, Entry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(r"[\s,]+", line, maxsplit=1)
        digest = parts[0].lower()
        if not _HEX.match(digest):
            raise RuleBroken(f"line {number}: {parts[0][:80]!r} is not a hash of 64 hex digits")
        label = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
        if label is not None and len(label) > MAX_LABEL:
            raise RuleBroken(f"line {number}: the label is over {MAX_LABEL} characters")
        found.setdefault(digest, Entry(digest, label))
    return list(found.values())


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise RuleBroken(
            "a list name is 1 to 64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


async def import_list(db: Database, name: str, kind: str, entries: list[Entry]) -> KnownImageList:
    """Create the list ``name`` or replace all its hashes, atomically."""
    check_name(name)
    if kind not in KINDS:
        raise RuleBroken(f"the kind of list is one of {', '.join(KINDS)}, not {kind!r}")
    if not entries:
        raise RuleBroken("the file holds no hashes; to remove a list, use 'roost hashes remove'")
    async with db.write() as tx:
        existing = (
            await tx.execute(
                select(known_image_lists.c.id, known_image_lists.c.kind).where(
                    known_image_lists.c.name == name
                )
            )
        ).first()
        if existing is not None and existing.kind != kind:
            raise RuleBroken(
                f"the list {name!r} holds {existing.kind} hashes; remove it first "
                f"to import {kind} hashes under that name"
            )
        values = {"entries": len(entries), "generation": new_id(), "imported_at": utcnow()}
        if existing is None:
            list_id = new_id()
            await tx.execute(
                known_image_lists.insert().values(id=list_id, name=name, kind=kind, **values)
            )
        else:
            list_id = existing.id
            await tx.execute(
                delete(known_image_hashes).where(known_image_hashes.c.list_id == list_id)
            )
            await tx.execute(
                known_image_lists.update().where(known_image_lists.c.id == list_id).values(**values)
            )
        for start in range(0, len(entries), _BATCH):
            await tx.execute(
                known_image_hashes.insert(),
                [
                    {"list_id": list_id, "hash": e.hash, "label": e.label}
                    for e in entries[start : start + _BATCH]
                ],
            )
    async with db.read() as conn:
        return next(item for item in await all_lists(conn) if item.id == list_id)


async def remove_list(db: Database, name: str) -> None:
    """Remove the list and its hashes; NotFound when there is none of that name."""
    async with db.write() as tx:
        result = await tx.execute(delete(known_image_lists).where(known_image_lists.c.name == name))
        if not result.rowcount:
            raise NotFound(f"there is no list named {name!r}")


async def all_lists(conn: AsyncConnection) -> list[KnownImageList]:
    rows = await conn.execute(select(known_image_lists).order_by(known_image_lists.c.name))
    return [KnownImageList(r.id, r.name, r.kind, r.entries, r.imported_at) for r in rows]
