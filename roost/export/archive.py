"""An account's data as a Mastodon-compatible archive (GDPR access, moving away).

A zip file, laid out as Mastodon's own "Request your archive":

    actor.json        the account as an ActivityPub Person
    outbox.json       its posts (Create/Note) and boosts (Announce), oldest first
    likes.json        the posts it favourited (their URIs)
    bookmarks.json    the posts it bookmarked
    media_attachments/files/<key>   the files of its uploads, avatar and header
    following_accounts.csv, blocked_accounts.csv, muted_accounts.csv,
    lists.csv, bookmarks.csv        in the formats Mastodon's import reads

Direct and followers-only posts are included: it is the person's own data.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.db.tables import (
    accounts,
    blocks,
    bookmarks,
    favourites,
    follows,
    list_accounts,
    lists,
    media_attachments,
    mutes,
    statuses,
)
from roost.domain.types import Visibility
from roost.errors import NotFound
from roost.keys.files import plain_chunks
from roost.media.store import media_store

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS + "#Public"


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    posts: int
    media_files: int
    size: int


def _time(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


class _Names:
    """URIs and addresses of accounts, as Mastodon writes them."""

    def __init__(self, settings: Settings) -> None:
        self.base = settings.base_url
        self.domain = settings.domain

    def actor(self, username: str) -> str:
        return f"{self.base}/users/{username}"

    def status(self, username: str, status_id: int) -> str:
        return f"{self.base}/users/{username}/statuses/{status_id}"

    def address(self, username: str) -> str:
        return f"{username}@{self.domain}"


def _audience(visibility: int, actor: str) -> tuple[list[str], list[str]]:
    followers = actor + "/followers"
    if visibility == Visibility.PUBLIC:
        return [PUBLIC], [followers]
    if visibility == Visibility.UNLISTED:
        return [followers], [PUBLIC]
    if visibility == Visibility.PRIVATE:
        return [followers], []
    return [], []  # direct: its mentions are its audience


async def _outbox(conn: AsyncConnection, names: _Names, me: Any) -> tuple[dict[str, Any], int]:
    actor = names.actor(me.username)
    original = statuses.alias("original")
    author = accounts.alias("author")
    rows = (
        await conn.execute(
            select(statuses, original.c.id.label("o_id"), author.c.username.label("o_author"))
            .outerjoin(original, original.c.id == statuses.c.reblog_of_id)
            .outerjoin(author, author.c.id == original.c.account_id)
            .where(statuses.c.account_id == me.id)
            .order_by(statuses.c.id)
        )
    ).all()
    media: dict[int, list[Any]] = {}
    for m in await conn.execute(
        select(media_attachments)
        .where(media_attachments.c.account_id == me.id, media_attachments.c.status_id.isnot(None))
        .order_by(media_attachments.c.position)
    ):
        media.setdefault(m.status_id, []).append(m)
    items: list[dict[str, Any]] = []
    for r in rows:
        to, cc = _audience(r.visibility, actor)
        uri = names.status(me.username, r.id)
        if r.reblog_of_id is not None:
            target = names.status(r.o_author, r.o_id) if r.o_id is not None else None
            items.append(
                {
                    "id": uri + "/activity",
                    "type": "Announce",
                    "actor": actor,
                    "published": _time(r.created_at),
                    "to": to,
                    "cc": cc,
                    "object": target,
                }
            )
            continue
        note: dict[str, Any] = {
            "id": uri,
            "type": "Note",
            "summary": r.spoiler_text or None,
            "inReplyTo": None,
            "published": _time(r.created_at),
            "updated": _time(r.edited_at),
            "url": f"{names.base}/@{me.username}/{r.id}",
            "attributedTo": actor,
            "to": to,
            "cc": cc,
            "sensitive": r.sensitive,
            "content": r.content,
            "source": {"content": r.text, "mediaType": "text/plain"},
            "attachment": [
                {
                    "type": "Document",
                    "mediaType": m.content_type,
                    "url": f"media_attachments/files/{m.file_key}",
                    "name": m.description,
                    "blurhash": m.blurhash,
                }
                for m in media.get(r.id, [])
            ],
        }
        items.append(
            {
                "id": uri + "/activity",
                "type": "Create",
                "actor": actor,
                "published": _time(r.created_at),
                "to": to,
                "cc": cc,
                "object": note,
            }
        )
    outbox = {
        "@context": AS,
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }
    return outbox, len(items)


async def _liked(conn: AsyncConnection, names: _Names, table: Any, me_id: int) -> list[str]:
    rows = await conn.execute(
        select(statuses.c.id, accounts.c.username)
        .join(table, table.c.status_id == statuses.c.id)
        .join(accounts, accounts.c.id == statuses.c.account_id)
        .where(table.c.account_id == me_id)
        .order_by(table.c.id)
    )
    return [names.status(r.username, r.id) for r in rows]


def _collection(name: str, uris: list[str]) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": name,
        "type": "OrderedCollection",
        "totalItems": len(uris),
        "orderedItems": uris,
    }


def _csv(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


async def _relations(conn: AsyncConnection, names: _Names, me_id: int) -> dict[str, bytes]:
    def target(table: Any) -> Any:
        return (
            select(table, accounts.c.username)
            .join(accounts, accounts.c.id == table.c.target_account_id)
            .where(table.c.account_id == me_id)
            .order_by(table.c.id)
        )

    following = [
        [names.address(r.username), str(r.show_reblogs).lower(), str(r.notify).lower(), ""]
        for r in await conn.execute(target(follows))
    ]
    blocked = [[names.address(r.username)] for r in await conn.execute(target(blocks))]
    muted = [
        [names.address(r.username), str(r.hide_notifications).lower()]
        for r in await conn.execute(target(mutes))
    ]
    members = [
        [r.title, names.address(r.username)]
        for r in await conn.execute(
            select(lists.c.title, accounts.c.username)
            .join(list_accounts, list_accounts.c.list_id == lists.c.id)
            .join(accounts, accounts.c.id == list_accounts.c.account_id)
            .where(lists.c.account_id == me_id)
            .order_by(lists.c.id, list_accounts.c.account_id)
        )
    ]
    return {
        "following_accounts.csv": _csv(
            following, ["Account address", "Show boosts", "Notify on new posts", "Languages"]
        ),
        "blocked_accounts.csv": _csv(blocked),
        "muted_accounts.csv": _csv(muted, ["Account address", "Hide notifications"]),
        "lists.csv": _csv(members),
    }


def _actor(names: _Names, me: Any) -> dict[str, Any]:
    actor = names.actor(me.username)
    body: dict[str, Any] = {
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": actor,
        "type": "Person",
        "preferredUsername": me.username,
        "name": me.display_name,
        "summary": me.note_html,
        "url": f"{names.base}/@{me.username}",
        "manuallyApprovesFollowers": me.locked,
        "discoverable": me.discoverable,
        "indexable": me.indexable,
        "published": _time(me.created_at),
        "outbox": "outbox.json",
        "likes": "likes.json",
        "bookmarks": "bookmarks.json",
        "attachment": [
            {"type": "PropertyValue", "name": f.get("name", ""), "value": f.get("value_html", "")}
            for f in me.fields
        ],
    }
    if me.avatar_file:
        body["icon"] = {"type": "Image", "url": f"media_attachments/files/{me.avatar_file}"}
    if me.header_file:
        body["image"] = {"type": "Image", "url": f"media_attachments/files/{me.header_file}"}
    return body


async def build_export(
    conn: AsyncConnection, settings: Settings, account_id: int, target: Path
) -> ExportSummary:
    """Write the archive of ``account_id`` to ``target`` (via a temporary name);
    raises NotFound for an unknown account."""
    me = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
    if me is None:
        raise NotFound(f"no account with id {account_id}")
    names = _Names(settings)
    outbox, posts = await _outbox(conn, names, me)
    likes = await _liked(conn, names, favourites, account_id)
    marked = await _liked(conn, names, bookmarks, account_id)
    files: dict[str, bytes] = {
        "actor.json": json.dumps(_actor(names, me), indent=2).encode(),
        "outbox.json": json.dumps(outbox, indent=2).encode(),
        "likes.json": json.dumps(_collection("likes.json", likes), indent=2).encode(),
        "bookmarks.json": json.dumps(_collection("bookmarks.json", marked), indent=2).encode(),
        "bookmarks.csv": _csv([[uri] for uri in marked]),
        **await _relations(conn, names, account_id),
    }
    keys = {
        r.file_key
        for r in await conn.execute(
            select(media_attachments.c.file_key).where(
                media_attachments.c.account_id == account_id, media_attachments.c.file_key != ""
            )
        )
    } | {k for k in (me.avatar_file, me.header_file) if k}
    copies = await local_copies(settings, keys)
    return await asyncio.to_thread(_write_zip, target, files, copies, posts)


async def local_copies(settings: Settings, keys: Iterable[str]) -> list[tuple[str, Path | None]]:
    """Each media file with a local copy of it (fetched from the bucket, when
    media lives in one), None for a file no longer stored."""
    store = media_store(settings)
    return [(key, await store.local_copy(key)) for key in sorted(keys)]


def _write_zip(
    target: Path, files: dict[str, bytes], copies: list[tuple[str, Path | None]], posts: int
) -> ExportSummary:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    copied = 0
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
            for key, path in copies:
                if path is not None:
                    # Media is already compressed: stored as is, opened from
                    # its seal (roost/keys/files.py) on the way.
                    entry = zipfile.ZipInfo(f"media_attachments/files/{key}")
                    entry.compress_type = zipfile.ZIP_STORED
                    with archive.open(entry, "w", force_zip64=True) as out:
                        for chunk in plain_chunks(path):
                            out.write(chunk)
                    copied += 1
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportSummary(target, posts, copied, target.stat().st_size)
