"""The disclosure package of an approved lawful request, built from the export code.

It holds exactly what was approved: for the named account, the approved data
kinds within the approved date range (posts by their publication time), and a
``request.json`` describing the request (authority, legal basis, range, kinds,
approvals) without the staff's free text. Nothing else of the account goes in:
no likes, bookmarks, follows or lists, no post outside the range, no file of a
post outside it.

The zip is written under ``$ROOST_DATA_DIR/lawful/``; its SHA-256 is recorded on
the request and in the audit entry that marks it disclosed. Erasing the
account removes nothing here: a package already handed over is the authority's.
The operator deletes the file when the law lets them (docs/moderation.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import accounts, media_attachments, statuses
from roost.domain.audit.chain import Staff
from roost.domain.lawful import actions
from roost.domain.lawful.model import LawfulRequest
from roost.domain.types import Visibility
from roost.errors import NotFound
from roost.export.archive import _actor, _Names, _outbox, _write_zip, local_copies
from roost.ids import new_id


def lawful_directory(settings: Settings) -> Path:
    return settings.data_dir / "lawful"


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _files(
    conn: AsyncConnection, settings: Settings, request: LawfulRequest
) -> tuple[dict[str, bytes], list[str], int]:
    account_id = request.account_id
    me = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
    if me is None:
        raise NotFound(f"no account with id {account_id}")
    names = _Names(settings)
    in_range = (
        await conn.execute(
            select(statuses.c.id, statuses.c.visibility).where(
                statuses.c.account_id == me.id,
                statuses.c.created_at >= request.starts_at,
                statuses.c.created_at < request.ends_at,
            )
        )
    ).all()
    direct = {r.id for r in in_range if r.visibility == Visibility.DIRECT}
    others = {r.id for r in in_range} - direct
    outbox, _ = await _outbox(conn, names, me)

    def only(ids: set[int], name: str) -> tuple[dict[str, Any], int]:
        wanted = {names.status(me.username, i) + "/activity" for i in ids}
        items = [item for item in outbox["orderedItems"] if item["id"] in wanted]
        body = {**outbox, "id": name, "totalItems": len(items), "orderedItems": items}
        return body, len(items)

    kinds = set(request.kinds)
    files: dict[str, bytes] = {}
    posts = 0
    if "profile" in kinds:
        files["actor.json"] = json.dumps(_actor(names, me), indent=2).encode()
    if "posts" in kinds:
        body, count = only(others, "outbox.json")
        files["outbox.json"] = json.dumps(body, indent=2).encode()
        posts += count
    if "direct_messages" in kinds:
        body, count = only(direct, "direct_messages.json")
        files["direct_messages.json"] = json.dumps(body, indent=2).encode()
        posts += count
    keys: list[str] = []
    if "media" in kinds and in_range:
        keys = sorted(
            {
                r.file_key
                for r in await conn.execute(
                    select(media_attachments.c.file_key).where(
                        media_attachments.c.account_id == me.id,
                        media_attachments.c.file_key != "",
                        media_attachments.c.status_id.in_([r.id for r in in_range]),
                    )
                )
            }
        )
    files["request.json"] = json.dumps(
        {
            "request": str(request.id),
            "account": names.address(me.username),
            "authority": request.authority,
            "legal_basis": request.legal_basis,
            "from": _time(request.starts_at),
            "until": _time(request.ends_at),
            "kinds": list(request.kinds),
            "approvals": len(request.approvals),
        },
        indent=2,
    ).encode()
    return files, keys, posts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def disclose(
    db: Database, settings: Settings, actor: Staff, request_id: int
) -> tuple[Path, str]:
    """Build the package of an approved request and record it; its path and SHA-256.
    Anything short of two approvals (or a second packaging) is refused, and
    no file is left behind."""
    async with db.read() as conn:
        request = await actions.disclosable(conn, actor, request_id)
        files, keys, posts = await _files(conn, settings, request)
    # A name of its own: a packaging refused at the last step removes only its file.
    target = lawful_directory(settings) / f"lawful-request-{request_id}-{new_id()}.zip"
    copies = await local_copies(settings, keys)
    summary = await asyncio.to_thread(_write_zip, target, files, copies, posts)
    sha256 = await asyncio.to_thread(_sha256, summary.path)
    try:
        async with db.write() as tx:
            await actions.disclosed(
                tx, actor, request_id, sha256=sha256, size=summary.size, kinds=request.kinds
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target, sha256


def package_path(settings: Settings, request: LawfulRequest) -> Path | None:
    """The kept package of a disclosed request: the file whose SHA-256 is the
    one recorded (a file not matching it is not the package disclosed)."""
    if request.state != "disclosed" or request.package_sha256 is None:
        return None
    for path in sorted(lawful_directory(settings).glob(f"lawful-request-{request.id}-*.zip")):
        if _sha256(path) == request.package_sha256:
            return path
    return None
