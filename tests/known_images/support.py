"""Lists, quarantine rows, reports and audit entries, read for assertions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from roost.db.tables import audit_entries, media_attachments, quarantined_media, reports
from roost.domain.known_images import lists
from tests.conftest import Roost


def import_list(roost: Roost, name: str, text: str, kind: str = "pdq") -> lists.KnownImageList:
    async def body() -> lists.KnownImageList:
        return await lists.import_list(roost.db, name, kind, lists.parse_entries(text))

    return roost.run(body)


def quarantine_rows(roost: Roost) -> list[Any]:
    async def body() -> list[Any]:
        async with roost.db.read() as conn:
            return list((await conn.execute(select(quarantined_media))).all())

    return roost.run(body)


def reports_about(roost: Roost, account_id: str) -> list[Any]:
    async def body() -> list[Any]:
        async with roost.db.read() as conn:
            return list(
                (
                    await conn.execute(
                        select(reports).where(reports.c.target_account_id == int(account_id))
                    )
                ).all()
            )

    return roost.run(body)


def audit_actions(roost: Roost) -> list[str]:
    async def body() -> list[str]:
        async with roost.db.read() as conn:
            return list(
                (
                    await conn.execute(select(audit_entries.c.action).order_by(audit_entries.c.seq))
                ).scalars()
            )

    return roost.run(body)


def media_rows(roost: Roost) -> int:
    async def body() -> int:
        async with roost.db.read() as conn:
            count = await conn.execute(select(func.count()).select_from(media_attachments))
            return int(count.scalar_one())

    return roost.run(body)


def stored_files(roost: Roost) -> list[str]:
    """Every file in the media store (and the emoji folder): what a URL could serve."""
    found = []
    for folder in ("media", "emoji"):
        root = roost.settings.data_dir / folder
        if root.exists():
            found += [str(p) for p in root.rglob("*") if p.is_file()]
    return found
