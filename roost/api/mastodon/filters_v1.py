"""Mastodon's v1 filters (one phrase each), an adapter over the v2 filters of
roost/domain/filters/.

A v1 filter is a keyword: its id is the keyword's id, and its context, expiry
and ``irreversible`` (the ``hide`` action) belong to the filter that holds it.
Changing those on a keyword that shares its filter with others would change
the others too, so that is refused (as Mastodon does); the phrase can always
change.
"""

from __future__ import annotations

from dataclasses import dataclass

from roost.db.engine import Tx
from roost.domain.filters import actions
from roost.domain.filters.model import HIDE, WARN
from roost.domain.filters.queries import owned_filter, owned_keyword
from roost.domain.types import Viewer
from roost.errors import RuleBroken


@dataclass(frozen=True)
class PhraseFilter:
    phrase: str | None = None
    context: list[str] | None = None
    irreversible: bool | None = None
    whole_word: bool | None = None
    expires_in: int | None = None
    set_expiry: bool = False


def _action(irreversible: bool | None) -> str | None:
    if irreversible is None:
        return None
    return HIDE if irreversible else WARN


async def do_create_phrase(tx: Tx, viewer: Viewer, phrase: PhraseFilter) -> int:
    """Make a filter holding just this phrase; returns the keyword's id."""
    filter_id = await actions.do_create_filter(
        tx,
        viewer,
        actions.FilterChange(
            title=phrase.phrase,
            context=phrase.context,
            action=_action(phrase.irreversible) or WARN,
            expires_in=phrase.expires_in,
            set_expiry=phrase.set_expiry,
            keywords=[
                actions.KeywordChange(keyword=phrase.phrase, whole_word=bool(phrase.whole_word))
            ],
        ),
    )
    (keyword,) = (await owned_filter(tx.conn, viewer, filter_id)).keywords
    return keyword.id


async def do_update_phrase(tx: Tx, viewer: Viewer, keyword_id: int, phrase: PhraseFilter) -> None:
    _, owner = await owned_keyword(tx.conn, viewer, keyword_id)
    change = actions.FilterChange(
        title=phrase.phrase if len(owner.keywords) == 1 else None,
        context=phrase.context,
        action=_action(phrase.irreversible),
        expires_in=phrase.expires_in,
        set_expiry=phrase.set_expiry,
    )
    changes_filter = (
        (change.context is not None and tuple(change.context) != owner.context)
        or (change.action is not None and change.action != owner.action)
        or change.set_expiry
    )
    if len(owner.keywords) > 1 and changes_filter:
        raise RuleBroken(
            "this phrase shares its filter with other keywords; "
            "change the filter's context, action or expiry with the v2 filters API"
        )
    await actions.do_update_keyword(tx, viewer, keyword_id, phrase.phrase, phrase.whole_word)
    await actions.do_update_filter(tx, viewer, owner.id, change)


async def do_delete_phrase(tx: Tx, viewer: Viewer, keyword_id: int) -> None:
    """Remove the phrase; a filter left with nothing to match goes with it."""
    filter_id = await actions.do_delete_keyword(tx, viewer, keyword_id)
    remaining = await owned_filter(tx.conn, viewer, filter_id)
    if not remaining.keywords and not remaining.statuses:
        await actions.do_delete_filter(tx, viewer, filter_id)
