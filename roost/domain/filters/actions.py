"""Changing filters, their keywords and the posts they name.

Mastodon's v1 filter API (one phrase per filter) is served from the same
tables: a v1 filter is one keyword, its id the keyword's id, its context,
expiry and action those of the filter that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import filter_keywords, filter_statuses, filters
from roost.domain import privacy
from roost.domain.events import FiltersChanged
from roost.domain.filters.model import ACTIONS, CONTEXTS, WARN
from roost.domain.filters.queries import owned_filter, owned_keyword, owned_status_filter
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id

MAX_TITLE = 200
MAX_KEYWORD = 200
MAX_FILTERS = 300
MAX_KEYWORDS = 300
MAX_EXPIRES_IN_S = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class KeywordChange:
    """One entry of ``keywords_attributes``: no id makes a keyword, an id
    changes that keyword (or, with ``destroy``, removes it)."""

    id: int | None = None
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = False


@dataclass(frozen=True)
class FilterChange:
    title: str | None = None
    context: list[str] | None = None
    action: str | None = None
    # Only when ``set_expiry``: seconds from now, or None for never.
    expires_in: int | None = None
    set_expiry: bool = False
    keywords: list[KeywordChange] = field(default_factory=list)


def _check_title(title: str | None) -> str:
    value = (title or "").strip()
    if not value:
        raise RuleBroken("Title can't be blank")
    if "\x00" in value:
        raise RuleBroken("Title contains a NUL character")
    if len(value) > MAX_TITLE:
        raise RuleBroken(f"Title is too long (maximum is {MAX_TITLE})")
    return value


def _check_context(context: list[str] | None) -> list[str]:
    if not context or any(c not in CONTEXTS for c in context):
        raise RuleBroken("Context can't be blank, Context None or invalid context supplied")
    return list(dict.fromkeys(context))


def _check_action(action: str) -> str:
    if action not in ACTIONS:
        raise RuleBroken("Filter action must be one of " + ", ".join(ACTIONS))
    return action


def _check_keyword(keyword: str | None) -> str:
    value = (keyword or "").strip()
    if not value:
        raise RuleBroken("Keyword can't be blank")
    if "\x00" in value:
        raise RuleBroken("Keyword contains a NUL character")
    if len(value) > MAX_KEYWORD:
        raise RuleBroken(f"Keyword is too long (maximum is {MAX_KEYWORD})")
    return value


def _expiry(seconds: int | None) -> datetime | None:
    if seconds is None:
        return None
    if not 0 < seconds <= MAX_EXPIRES_IN_S:
        raise RuleBroken("Expires in must be a positive number of seconds")
    return utcnow() + timedelta(seconds=seconds)


async def _insert_keyword(tx: Tx, filter_id: int, keyword: str, whole_word: bool) -> int:
    count = len(
        (
            await tx.execute(
                select(filter_keywords.c.id).where(filter_keywords.c.filter_id == filter_id)
            )
        ).all()
    )
    if count >= MAX_KEYWORDS:
        raise RuleBroken(f"A filter holds at most {MAX_KEYWORDS} keywords")
    keyword_id = new_id()
    await tx.execute(
        filter_keywords.insert().values(
            id=keyword_id,
            filter_id=filter_id,
            keyword=_check_keyword(keyword),
            whole_word=whole_word,
            created_at=utcnow(),
        )
    )
    return keyword_id


async def _apply_keywords(tx: Tx, filter_id: int, changes: list[KeywordChange]) -> None:
    held = {
        int(r.id)
        for r in await tx.execute(
            select(filter_keywords.c.id).where(filter_keywords.c.filter_id == filter_id)
        )
    }
    for change in changes:
        if change.id is None:
            if not change.destroy:
                whole = True if change.whole_word is None else change.whole_word
                await _insert_keyword(tx, filter_id, change.keyword or "", whole)
            continue
        if change.id not in held:
            raise NotFound()
        if change.destroy:
            await tx.execute(delete(filter_keywords).where(filter_keywords.c.id == change.id))
            continue
        values: dict[str, object] = {}
        if change.keyword is not None:
            values["keyword"] = _check_keyword(change.keyword)
        if change.whole_word is not None:
            values["whole_word"] = change.whole_word
        if values:
            await tx.execute(
                update(filter_keywords).where(filter_keywords.c.id == change.id).values(**values)
            )


def _changed(tx: Tx, viewer: Viewer) -> None:
    """Apps listening to the owner's stream read the filters again."""
    if viewer.account_id is not None:
        tx.emit(FiltersChanged(viewer.account_id))


async def do_create_filter(tx: Tx, viewer: Viewer, change: FilterChange) -> int:
    assert viewer.account_id is not None
    title = _check_title(change.title)
    context = _check_context(change.context)
    action = _check_action(change.action or WARN)
    expires_at = _expiry(change.expires_in) if change.set_expiry else None
    owned = (
        await tx.execute(select(filters.c.id).where(filters.c.account_id == viewer.account_id))
    ).all()
    if len(owned) >= MAX_FILTERS:
        raise RuleBroken(f"You can have at most {MAX_FILTERS} filters")
    if any(k.id is not None for k in change.keywords):
        raise NotFound()  # a new filter has no keywords to change yet
    filter_id = new_id()
    await tx.execute(
        filters.insert().values(
            id=filter_id,
            account_id=viewer.account_id,
            title=title,
            context=context,
            action=action,
            expires_at=expires_at,
            created_at=utcnow(),
        )
    )
    await _apply_keywords(tx, filter_id, change.keywords)
    _changed(tx, viewer)
    return filter_id


async def do_update_filter(tx: Tx, viewer: Viewer, filter_id: int, change: FilterChange) -> None:
    await owned_filter(tx.conn, viewer, filter_id)
    values: dict[str, object] = {}
    if change.title is not None:
        values["title"] = _check_title(change.title)
    if change.context is not None:
        values["context"] = _check_context(change.context)
    if change.action is not None:
        values["action"] = _check_action(change.action)
    if change.set_expiry:
        values["expires_at"] = _expiry(change.expires_in)
    if values:
        await tx.execute(update(filters).where(filters.c.id == filter_id).values(**values))
    await _apply_keywords(tx, filter_id, change.keywords)
    _changed(tx, viewer)


async def do_delete_filter(tx: Tx, viewer: Viewer, filter_id: int) -> None:
    await owned_filter(tx.conn, viewer, filter_id)
    await tx.execute(delete(filters).where(filters.c.id == filter_id))
    _changed(tx, viewer)


async def do_add_keyword(
    tx: Tx, viewer: Viewer, filter_id: int, keyword: str | None, whole_word: bool | None
) -> int:
    await owned_filter(tx.conn, viewer, filter_id)
    _changed(tx, viewer)
    return await _insert_keyword(
        tx, filter_id, keyword or "", True if whole_word is None else whole_word
    )


async def do_update_keyword(
    tx: Tx, viewer: Viewer, keyword_id: int, keyword: str | None, whole_word: bool | None
) -> None:
    _, owner = await owned_keyword(tx.conn, viewer, keyword_id)
    await _apply_keywords(
        tx, owner.id, [KeywordChange(id=keyword_id, keyword=keyword, whole_word=whole_word)]
    )
    _changed(tx, viewer)


async def do_delete_keyword(tx: Tx, viewer: Viewer, keyword_id: int) -> int:
    """Remove a keyword; returns its filter's id."""
    _, owner = await owned_keyword(tx.conn, viewer, keyword_id)
    await tx.execute(delete(filter_keywords).where(filter_keywords.c.id == keyword_id))
    _changed(tx, viewer)
    return owner.id


async def do_add_status(tx: Tx, viewer: Viewer, filter_id: int, status_id: int) -> int:
    """Name a post in the filter; the post must be one the viewer can see."""
    await owned_filter(tx.conn, viewer, filter_id)
    await privacy.check_status(tx.conn, viewer, status_id)
    taken = (
        await tx.execute(
            select(filter_statuses.c.id).where(
                filter_statuses.c.filter_id == filter_id,
                filter_statuses.c.status_id == status_id,
            )
        )
    ).first()
    if taken is not None:
        raise RuleBroken("Status has already been taken")
    status_filter_id = new_id()
    await tx.execute(
        filter_statuses.insert().values(
            id=status_filter_id, filter_id=filter_id, status_id=status_id, created_at=utcnow()
        )
    )
    _changed(tx, viewer)
    return status_filter_id


async def do_remove_status(tx: Tx, viewer: Viewer, status_filter_id: int) -> None:
    await owned_status_filter(tx.conn, viewer, status_filter_id)
    await tx.execute(delete(filter_statuses).where(filter_statuses.c.id == status_filter_id))
    _changed(tx, viewer)
