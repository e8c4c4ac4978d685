"""Every change to posts: create, edit, delete, and the interactions on them.

Each ``do_*`` runs inside the caller's transaction and writes the jobs its
change implies (notifications, fan-out) to the outbox in that same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    bookmarks,
    favourites,
    idempotency_keys,
    mentions,
    pins,
    status_edits,
    status_tags,
    statuses,
    tags,
)
from roost.domain import privacy
from roost.domain.accounts.queries import local_accounts_named
from roost.domain.conversations.actions import do_deliver_direct
from roost.domain.events import StatusCreated, StatusDeleted, StatusEdited
from roost.domain.media.actions import do_attach_media, do_release_media
from roost.domain.media.queries import has_media
from roost.domain.statuses import content
from roost.domain.types import Status, Viewer, Visibility
from roost.errors import Invalid, NotFound
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.keys.ring import seal

MAX_PINS = 5
IDEMPOTENCY_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class NewStatus:
    text: str
    visibility: Visibility = Visibility.PUBLIC
    in_reply_to_id: int | None = None
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    idempotency_key: str | None = None
    application_id: int | None = None
    created_at: datetime | None = None
    media_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class StatusChange:
    text: str
    spoiler_text: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    # None: the post keeps its media; a tuple (even empty) replaces them.
    media_ids: tuple[int, ...] | None = None


def check_text(text: str, spoiler_text: str, max_chars: int, *, has_media: bool = False) -> None:
    # A post may be media alone, as on Mastodon.
    if not text.strip() and not has_media:
        raise Invalid("Validation failed: Text can't be blank")
    if content.character_count(text) + len(spoiler_text) > max_chars:
        raise Invalid(f"Validation failed: Text character limit of {max_chars} exceeded")


async def _render(tx: Tx, text: str, base_url: str) -> content.Rendered:
    local = await local_accounts_named(tx.conn, content.mentioned_usernames(text))
    return content.render(text, local, base_url)


async def _tag_ids(tx: Tx, names: list[str]) -> list[int]:
    ids: list[int] = []
    for name in names:
        key = name.lower()
        row = (await tx.execute(select(tags.c.id).where(tags.c.name_key == key))).first()
        if row is None:
            tag_id = new_id()
            await tx.execute(
                tags.insert().values(id=tag_id, name=name, name_key=key, created_at=utcnow())
            )
        else:
            tag_id = row.id
        ids.append(tag_id)
    return ids


async def _link_mentions_and_tags(tx: Tx, status_id: int, rendered: content.Rendered) -> None:
    if rendered.mentioned_ids:
        await tx.execute(
            insert(mentions),
            [{"status_id": status_id, "account_id": aid} for aid in rendered.mentioned_ids],
        )
    tag_ids = await _tag_ids(tx, rendered.tags)
    if tag_ids:
        await tx.execute(
            insert(status_tags), [{"status_id": status_id, "tag_id": tid} for tid in tag_ids]
        )


async def _existing_for_key(tx: Tx, author_id: int, key: str) -> int | None:
    row = (
        await tx.execute(
            select(idempotency_keys.c.status_id, idempotency_keys.c.created_at).where(
                idempotency_keys.c.account_id == author_id, idempotency_keys.c.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.created_at < utcnow() - IDEMPOTENCY_WINDOW:
        await tx.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.account_id == author_id, idempotency_keys.c.key == key
            )
        )
        return None
    return int(row.status_id)


async def do_create_status(
    tx: Tx, author: Viewer, new: NewStatus, *, base_url: str, max_chars: int
) -> int:
    """Publish a post; returns its id. A repeated Idempotency-Key returns the first."""
    assert author.account_id is not None
    if new.idempotency_key:
        existing = await _existing_for_key(tx, author.account_id, new.idempotency_key)
        if existing is not None:
            return existing
    check_text(new.text, new.spoiler_text, max_chars, has_media=bool(new.media_ids))
    in_reply_to_account_id = None
    if new.in_reply_to_id is not None:
        # Replying needs seeing: the parent goes through the policy like any read.
        parent = await privacy.check_status(tx.conn, author, new.in_reply_to_id)
        if parent.value["reblog_of_id"] is not None:
            raise NotFound()
        in_reply_to_account_id = parent.value["account_id"]
    rendered = await _render(tx, new.text, base_url)
    now = new.created_at or utcnow()
    status_id = new_id()
    await tx.execute(
        statuses.insert().values(
            id=status_id,
            account_id=author.account_id,
            in_reply_to_id=new.in_reply_to_id,
            in_reply_to_account_id=in_reply_to_account_id,
            application_id=author.application_id,
            visibility=int(new.visibility),
            # Sealed under the author's key: gone with it, old backups included.
            text=seal(author.account_id, new.text),
            content=seal(author.account_id, rendered.html),
            spoiler_text=seal(author.account_id, new.spoiler_text),
            sensitive=new.sensitive or bool(new.spoiler_text),
            language=new.language,
            replies_count=0,
            reblogs_count=0,
            favourites_count=0,
            created_at=now,
        )
    )
    await _link_mentions_and_tags(tx, status_id, rendered)
    if new.media_ids:
        await do_attach_media(tx, author.account_id, status_id, list(new.media_ids))
    if new.visibility == Visibility.DIRECT:
        await do_deliver_direct(
            tx,
            status_id=status_id,
            author_id=author.account_id,
            in_reply_to_id=new.in_reply_to_id,
            mentioned=rendered.mentioned_ids,
        )
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == author.account_id)
        .values(statuses_count=accounts.c.statuses_count + 1, last_status_at=now)
    )
    if new.in_reply_to_id is not None:
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == new.in_reply_to_id)
            .values(replies_count=statuses.c.replies_count + 1)
        )
    if new.idempotency_key:
        await tx.execute(
            idempotency_keys.insert().values(
                account_id=author.account_id,
                key=new.idempotency_key,
                status_id=status_id,
                created_at=utcnow(),
            )
        )
    await enqueue(tx, "status.published", {"status_id": status_id})
    await enqueue(tx, "search.sync", {"status_id": status_id})
    tx.emit(StatusCreated(status_id=status_id, author_id=author.account_id))
    return status_id


async def _own_status(tx: Tx, viewer: Viewer, status_id: int) -> Status:
    row = (await tx.execute(select(statuses).where(statuses.c.id == status_id))).mappings().first()
    if row is None or row["account_id"] != viewer.account_id or row["reblog_of_id"] is not None:
        # Someone else's post, or a boost: to this viewer it is not theirs to change.
        raise NotFound()
    return Status.from_row(row)


async def do_edit_status(
    tx: Tx,
    viewer: Viewer,
    status_id: int,
    change: StatusChange,
    *,
    base_url: str,
    max_chars: int,
) -> None:
    current = await _own_status(tx, viewer, status_id)
    spoiler = current.spoiler_text if change.spoiler_text is None else change.spoiler_text
    sensitive = current.sensitive if change.sensitive is None else change.sensitive
    if change.media_ids is not None:
        await do_attach_media(tx, current.account_id, status_id, list(change.media_ids))
    check_text(change.text, spoiler, max_chars, has_media=await has_media(tx.conn, status_id))
    now = utcnow()
    if current.edited_at is None:
        # The history starts with the original, so /history shows every version.
        await _record_version(tx, current, current.created_at)
    rendered = await _render(tx, change.text, base_url)
    await tx.execute(
        update(statuses)
        .where(statuses.c.id == status_id)
        .values(
            text=seal(current.account_id, change.text),
            content=seal(current.account_id, rendered.html),
            spoiler_text=seal(current.account_id, spoiler),
            sensitive=sensitive or bool(spoiler),
            language=change.language or current.language,
            edited_at=now,
        )
    )
    await tx.execute(delete(mentions).where(mentions.c.status_id == status_id))
    await tx.execute(delete(status_tags).where(status_tags.c.status_id == status_id))
    await _link_mentions_and_tags(tx, status_id, rendered)
    updated = (await tx.execute(select(statuses).where(statuses.c.id == status_id))).mappings()
    await _record_version(tx, Status.from_row(updated.one()), now)
    await enqueue(tx, "status.edited", {"status_id": status_id})
    await enqueue(tx, "search.sync", {"status_id": status_id})
    tx.emit(StatusEdited(status_id=status_id, author_id=current.account_id))


async def _record_version(tx: Tx, status: Status, at: datetime) -> None:
    await tx.execute(
        status_edits.insert().values(
            id=new_id(),
            status_id=status.id,
            account_id=status.account_id,
            text=seal(status.account_id, status.text),
            content=seal(status.account_id, status.content),
            spoiler_text=seal(status.account_id, status.spoiler_text),
            sensitive=status.sensitive,
            created_at=at,
        )
    )


async def do_delete_status(tx: Tx, viewer: Viewer, status_id: int) -> Status:
    """Delete a post for good, with its boosts; returns it (for redraft)."""
    status = await _own_status(tx, viewer, status_id)
    mentioned = await tx.execute(
        select(mentions.c.account_id).where(mentions.c.status_id == status_id)
    )
    tx.emit(
        StatusDeleted(
            status_id=status_id,
            author_id=status.account_id,
            visibility=int(status.visibility),
            mentioned_ids=tuple(r.account_id for r in mentioned),
        )
    )
    # Its media become unattached uploads again: a redraft can take them.
    await do_release_media(tx, status_id)
    await _delete_rows(tx, status)
    boosts = await tx.execute(select(statuses).where(statuses.c.reblog_of_id == status_id))
    for row in boosts.mappings().all():
        boost = Status.from_row(row)
        await _delete_rows(tx, boost)
        tx.emit(
            StatusDeleted(
                status_id=boost.id, author_id=boost.account_id, visibility=int(boost.visibility)
            )
        )
    await enqueue(tx, "status.deleted", {"status_id": status_id, "account_id": status.account_id})
    await enqueue(tx, "search.sync", {"status_id": status_id})
    return status


async def _delete_rows(tx: Tx, status: Status) -> None:
    await tx.execute(delete(statuses).where(statuses.c.id == status.id))
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == status.account_id, accounts.c.statuses_count > 0)
        .values(statuses_count=accounts.c.statuses_count - 1)
    )
    if status.in_reply_to_id is not None:
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == status.in_reply_to_id, statuses.c.replies_count > 0)
            .values(replies_count=statuses.c.replies_count - 1)
        )
    if status.reblog_of_id is not None:
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == status.reblog_of_id, statuses.c.reblogs_count > 0)
            .values(reblogs_count=statuses.c.reblogs_count - 1)
        )


async def _visible_original(tx: Tx, viewer: Viewer, status_id: int) -> dict[str, Any]:
    """The post an interaction is about: must be visible; a boost means its original."""
    row = (await privacy.check_status(tx.conn, viewer, status_id)).value
    if row["reblog_of_id"] is not None:
        row = (await privacy.check_status(tx.conn, viewer, row["reblog_of_id"])).value
    return dict(row)


async def _add_interaction(tx: Tx, table: Any, account_id: int, status_id: int) -> bool:
    exists = (
        await tx.execute(
            select(table.c.id).where(
                table.c.account_id == account_id, table.c.status_id == status_id
            )
        )
    ).first()
    if exists is not None:
        return False
    await tx.execute(
        table.insert().values(
            id=new_id(), account_id=account_id, status_id=status_id, created_at=utcnow()
        )
    )
    return True


async def _remove_interaction(tx: Tx, table: Any, account_id: int, status_id: int) -> bool:
    result = await tx.execute(
        delete(table).where(table.c.account_id == account_id, table.c.status_id == status_id)
    )
    return bool(result.rowcount)


async def do_favourite(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _visible_original(tx, viewer, status_id)
    if await _add_interaction(tx, favourites, viewer.account_id, status["id"]):
        await _bump(tx, status["id"], "favourites_count", +1)
        if status["account_id"] != viewer.account_id:
            await enqueue(
                tx,
                "notify",
                {
                    "type": "favourite",
                    "account_id": status["account_id"],
                    "from_account_id": viewer.account_id,
                    "status_id": status["id"],
                },
            )
    return int(status["id"])


async def do_unfavourite(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _visible_original(tx, viewer, status_id)
    if await _remove_interaction(tx, favourites, viewer.account_id, status["id"]):
        await _bump(tx, status["id"], "favourites_count", -1)
    return int(status["id"])


async def do_bookmark(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _visible_original(tx, viewer, status_id)
    await _add_interaction(tx, bookmarks, viewer.account_id, status["id"])
    return int(status["id"])


async def do_unbookmark(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _visible_original(tx, viewer, status_id)
    await _remove_interaction(tx, bookmarks, viewer.account_id, status["id"])
    return int(status["id"])


async def do_pin(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _own_status(tx, viewer, status_id)
    if status.visibility not in (Visibility.PUBLIC, Visibility.UNLISTED):
        raise Invalid("Validation failed: Only public and unlisted posts can be pinned")
    count = (
        await tx.execute(
            select(func.count()).select_from(pins).where(pins.c.account_id == viewer.account_id)
        )
    ).scalar_one()
    exists = (
        await tx.execute(
            select(pins.c.id).where(
                pins.c.account_id == viewer.account_id, pins.c.status_id == status_id
            )
        )
    ).first()
    if exists is None and count >= MAX_PINS:
        raise Invalid(f"Validation failed: You can pin at most {MAX_PINS} posts")
    await _add_interaction(tx, pins, viewer.account_id, status_id)
    return status_id


async def do_unpin(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    await _own_status(tx, viewer, status_id)
    await _remove_interaction(tx, pins, viewer.account_id, status_id)
    return status_id


async def do_reblog(tx: Tx, viewer: Viewer, status_id: int, visibility: Visibility) -> int:
    """Boost a post; returns the boost's id. Boosting twice returns the same boost."""
    assert viewer.account_id is not None
    original = await _visible_original(tx, viewer, status_id)
    if Visibility(original["visibility"]) not in (Visibility.PUBLIC, Visibility.UNLISTED):
        raise Invalid("Validation failed: Followers-only and direct posts cannot be boosted")
    if visibility == Visibility.DIRECT:
        raise Invalid("Validation failed: A boost cannot be a direct message")
    existing = (
        await tx.execute(
            select(statuses.c.id).where(
                statuses.c.account_id == viewer.account_id,
                statuses.c.reblog_of_id == original["id"],
            )
        )
    ).first()
    if existing is not None:
        return int(existing.id)
    boost_id = new_id()
    now = utcnow()
    await tx.execute(
        statuses.insert().values(
            id=boost_id,
            account_id=viewer.account_id,
            reblog_of_id=original["id"],
            application_id=viewer.application_id,
            visibility=int(visibility),
            text="",
            content="",
            spoiler_text="",
            sensitive=False,
            replies_count=0,
            reblogs_count=0,
            favourites_count=0,
            created_at=now,
        )
    )
    await _bump(tx, original["id"], "reblogs_count", +1)
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == viewer.account_id)
        .values(statuses_count=accounts.c.statuses_count + 1, last_status_at=now)
    )
    await enqueue(tx, "status.published", {"status_id": boost_id})
    tx.emit(StatusCreated(status_id=boost_id, author_id=viewer.account_id))
    if original["account_id"] != viewer.account_id:
        await enqueue(
            tx,
            "notify",
            {
                "type": "reblog",
                "account_id": original["account_id"],
                "from_account_id": viewer.account_id,
                "status_id": original["id"],
            },
        )
    return boost_id


async def do_unreblog(tx: Tx, viewer: Viewer, status_id: int) -> int:
    """Undo a boost; returns the original's id."""
    assert viewer.account_id is not None
    original = await _visible_original(tx, viewer, status_id)
    boost = (
        (
            await tx.execute(
                select(statuses).where(
                    statuses.c.account_id == viewer.account_id,
                    statuses.c.reblog_of_id == original["id"],
                )
            )
        )
        .mappings()
        .first()
    )
    if boost is not None:
        await _delete_rows(tx, Status.from_row(boost))
        await enqueue(
            tx, "status.deleted", {"status_id": boost["id"], "account_id": viewer.account_id}
        )
        tx.emit(
            StatusDeleted(
                status_id=boost["id"],
                author_id=viewer.account_id,
                visibility=int(boost["visibility"]),
            )
        )
    return int(original["id"])


async def _bump(tx: Tx, status_id: int, counter: str, delta: int) -> None:
    column = statuses.c[counter]
    query = update(statuses).where(statuses.c.id == status_id)
    if delta < 0:
        query = query.where(column > 0)
    await tx.execute(query.values({counter: column + delta}))
