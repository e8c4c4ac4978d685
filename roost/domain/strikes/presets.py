"""Warning presets (Mastodon's AccountWarningPreset): a title and a text staff
keep for the warnings they write again and again, picked by id when they act
on an account (``POST /api/v1/admin/accounts/:id/action`` with
``warning_preset_id``). The preset's text goes first, then what staff typed,
as Mastodon joins them (``warning_text``).

Kept with ``roost warning-presets`` and the staff page ``/admin/warning-presets``;
both need ``manage_settings`` (Mastodon's AccountWarningPresetPolicy), and
each change is an audit entry. Presets are instance-wide and name nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import warning_presets
from roost.domain.audit.chain import Staff, record
from roost.domain.roles.permissions import Permission, key
from roost.domain.strikes.model import MAX_TEXT
from roost.errors import Invalid, NotFound
from roost.ids import new_id

MANAGE_SETTINGS = Permission.MANAGE_SETTINGS
MAX_TITLE = 200


@dataclass(frozen=True)
class WarningPreset:
    id: int
    title: str
    text: str
    created_at: datetime


def _preset(row: Row[Any]) -> WarningPreset:
    return WarningPreset(int(row.id), row.title, row.text, row.created_at)


async def presets(conn: AsyncConnection) -> list[WarningPreset]:
    """Every preset, by title (as Mastodon lists them)."""
    rows = await conn.execute(
        select(warning_presets).order_by(warning_presets.c.title, warning_presets.c.id)
    )
    return [_preset(r) for r in rows]


async def preset(conn: AsyncConnection, preset_id: int) -> WarningPreset:
    """NotFound (404, as Mastodon's ``find``) when there is no such preset."""
    row = (
        await conn.execute(select(warning_presets).where(warning_presets.c.id == preset_id))
    ).first()
    if row is None:
        raise NotFound("Record not found")
    return _preset(row)


def warning_text(found: WarningPreset | None, text: str | None) -> str | None:
    """The warning's text: the preset's, then the typed one, a blank line
    between (Mastodon's ``text_for_warning``); None when neither is given."""
    parts = [p for p in ((found.text if found else None), text) if p and p.strip()]
    return "\n\n".join(parts) if parts else None


async def do_create(tx: Tx, *, title: str, text: str, actor: Staff) -> WarningPreset:
    title, text = title.strip(), text.strip()
    if not text:
        raise Invalid("A warning preset needs its text")
    if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
        raise Invalid(
            f"A warning preset's title is {MAX_TITLE} characters at most, its text {MAX_TEXT}"
        )
    made = WarningPreset(new_id(), title, text, utcnow())
    await tx.execute(
        warning_presets.insert().values(
            id=made.id, title=made.title, text=made.text, created_at=made.created_at
        )
    )
    await record(
        tx,
        action="warning_preset.create",
        permission=key(MANAGE_SETTINGS),
        by=actor,
        subject_type="warning_preset",
        subject_id=made.id,
        # Written by staff: free text goes in the entry's personal part.
        personal={"title": made.title, "text": made.text},
    )
    return made


async def do_remove(tx: Tx, preset_id: int, *, actor: Staff) -> WarningPreset:
    found = await preset(tx.conn, preset_id)
    await tx.execute(delete(warning_presets).where(warning_presets.c.id == preset_id))
    await record(
        tx,
        action="warning_preset.remove",
        permission=key(MANAGE_SETTINGS),
        by=actor,
        subject_type="warning_preset",
        subject_id=preset_id,
        personal={"title": found.title},
    )
    return found
