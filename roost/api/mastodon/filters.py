"""/api/v2/filters (with keywords and posts) and the v1 view of the same filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from roost.api.auth import services, user
from roost.api.mastodon import entities, schema
from roost.api.mastodon import filters_v1 as v1
from roost.api.openapi import answers
from roost.api.params import Id, Many, OptionalId, Params, body
from roost.api.responses import JSON
from roost.domain.filters import actions, queries
from roost.domain.types import Viewer

router = APIRouter()

READ, WRITE = "read:filters", "write:filters"


def _seconds(value: object) -> object:
    """``expires_in``: empty means never (None); anything else a whole number."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 19:
        raise PydanticCustomError("seconds", "must be a number of seconds")
    return int(text)


Expiry = Annotated[
    int | None,
    BeforeValidator(_seconds),
    Field(description="Seconds from now; empty or null: never. Absent: unchanged"),
]


class KeywordRecord(Params):
    id: OptionalId = Field(default=None, description="An existing keyword to change")
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = Field(default=False, alias="_destroy", description="Remove this keyword")


class FilterParams(Params):
    title: str | None = None
    context: Many[str] | None = Field(
        default=None, description="home, notifications, public, thread, account"
    )
    filter_action: str | None = Field(default=None, description="warn or hide")
    expires_in: Expiry = None
    keywords_attributes: list[KeywordRecord] | dict[str, KeywordRecord] | None = None

    def change(self) -> actions.FilterChange:
        return actions.FilterChange(
            title=self.title,
            context=self.context,
            action=self.filter_action,
            expires_in=self.expires_in,
            set_expiry="expires_in" in self.model_fields_set,
            keywords=[
                actions.KeywordChange(
                    id=record.id,
                    keyword=record.keyword,
                    whole_word=record.whole_word,
                    destroy=record.destroy,
                )
                for record in _records(self.keywords_attributes)
            ],
        )


def _records(value: list[KeywordRecord] | dict[str, KeywordRecord] | None) -> list[KeywordRecord]:
    """``keywords_attributes`` as a list: a form's ``[][field]`` entries are
    gathered into records by params.nest, Rails' way; ``[0][field]`` entries
    come as a dict, in the order of their keys."""
    if isinstance(value, dict):
        return [value[key] for key in sorted(value, key=lambda k: (len(k), k))]
    return value or []


class KeywordParams(Params):
    keyword: str | None = None
    whole_word: bool | None = None


class StatusFilterParams(Params):
    status_id: Id


async def _filter_json(request: Request, viewer: Viewer, filter_id: int) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.owned_filter(conn, viewer, filter_id)
    return JSON(entities.filter_(found))


@router.get("/api/v2/filters", responses=answers(list[schema.Filter]))
async def all_filters(request: Request, viewer: Viewer = Depends(user(READ))) -> JSON:
    async with services(request).db.read() as conn:
        owned = await queries.filters_of(conn, viewer)
    return JSON([entities.filter_(f) for f in owned])


@router.post("/api/v2/filters", responses=answers(schema.Filter))
async def create(
    request: Request,
    viewer: Viewer = Depends(user(WRITE)),
    params: FilterParams = Depends(body(FilterParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        filter_id = await actions.do_create_filter(tx, viewer, params.change())
    return await _filter_json(request, viewer, filter_id)


@router.get("/api/v2/filters/keywords/{keyword_id}", responses=answers(schema.FilterKeyword))
async def one_keyword(
    request: Request, keyword_id: Id, viewer: Viewer = Depends(user(READ))
) -> JSON:
    async with services(request).db.read() as conn:
        keyword, _ = await queries.owned_keyword(conn, viewer, keyword_id)
    return JSON(entities.filter_keyword(keyword))


@router.put("/api/v2/filters/keywords/{keyword_id}", responses=answers(schema.FilterKeyword))
async def update_keyword(
    request: Request,
    keyword_id: Id,
    viewer: Viewer = Depends(user(WRITE)),
    params: KeywordParams = Depends(body(KeywordParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_update_keyword(tx, viewer, keyword_id, params.keyword, params.whole_word)
    return await one_keyword(request, keyword_id, viewer)


@router.delete("/api/v2/filters/keywords/{keyword_id}", responses=answers(schema.Empty))
async def delete_keyword(
    request: Request, keyword_id: Id, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_delete_keyword(tx, viewer, keyword_id)
    return JSON({})


@router.get("/api/v2/filters/statuses/{status_filter_id}", responses=answers(schema.FilterStatus))
async def one_status(
    request: Request, status_filter_id: Id, viewer: Viewer = Depends(user(READ))
) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.owned_status_filter(conn, viewer, status_filter_id)
    return JSON(entities.filter_status(found))


@router.delete("/api/v2/filters/statuses/{status_filter_id}", responses=answers(schema.Empty))
async def remove_status(
    request: Request, status_filter_id: Id, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_remove_status(tx, viewer, status_filter_id)
    return JSON({})


@router.get("/api/v2/filters/{filter_id}", responses=answers(schema.Filter))
async def one(request: Request, filter_id: Id, viewer: Viewer = Depends(user(READ))) -> JSON:
    return await _filter_json(request, viewer, filter_id)


@router.put("/api/v2/filters/{filter_id}", responses=answers(schema.Filter))
async def update(
    request: Request,
    filter_id: Id,
    viewer: Viewer = Depends(user(WRITE)),
    params: FilterParams = Depends(body(FilterParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_update_filter(tx, viewer, filter_id, params.change())
    return await _filter_json(request, viewer, filter_id)


@router.delete("/api/v2/filters/{filter_id}", responses=answers(schema.Empty))
async def delete(request: Request, filter_id: Id, viewer: Viewer = Depends(user(WRITE))) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_delete_filter(tx, viewer, filter_id)
    return JSON({})


@router.get("/api/v2/filters/{filter_id}/keywords", responses=answers(list[schema.FilterKeyword]))
async def keywords(request: Request, filter_id: Id, viewer: Viewer = Depends(user(READ))) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.owned_filter(conn, viewer, filter_id)
    return JSON([entities.filter_keyword(k) for k in found.keywords])


@router.post("/api/v2/filters/{filter_id}/keywords", responses=answers(schema.FilterKeyword))
async def add_keyword(
    request: Request,
    filter_id: Id,
    viewer: Viewer = Depends(user(WRITE)),
    params: KeywordParams = Depends(body(KeywordParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        keyword_id = await actions.do_add_keyword(
            tx, viewer, filter_id, params.keyword, params.whole_word
        )
    return await one_keyword(request, keyword_id, viewer)


@router.get("/api/v2/filters/{filter_id}/statuses", responses=answers(list[schema.FilterStatus]))
async def statuses(request: Request, filter_id: Id, viewer: Viewer = Depends(user(READ))) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.owned_filter(conn, viewer, filter_id)
    return JSON([entities.filter_status(s) for s in found.statuses])


@router.post("/api/v2/filters/{filter_id}/statuses", responses=answers(schema.FilterStatus))
async def add_status(
    request: Request,
    filter_id: Id,
    viewer: Viewer = Depends(user(WRITE)),
    params: StatusFilterParams = Depends(body(StatusFilterParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        status_filter_id = await actions.do_add_status(tx, viewer, filter_id, params.status_id)
    return await one_status(request, status_filter_id, viewer)


# --- v1: one phrase per filter (a keyword and the filter that holds it). ---


class PhraseParams(Params):
    phrase: str | None = None
    context: Many[str] | None = Field(
        default=None, description="home, notifications, public, thread, account"
    )
    irreversible: bool | None = Field(default=None, description="hide instead of warn")
    whole_word: bool | None = None
    expires_in: Expiry = None

    def phrase_filter(self) -> v1.PhraseFilter:
        return v1.PhraseFilter(
            phrase=self.phrase,
            context=self.context,
            irreversible=self.irreversible,
            whole_word=self.whole_word,
            expires_in=self.expires_in,
            set_expiry="expires_in" in self.model_fields_set,
        )


async def _v1_json(request: Request, viewer: Viewer, keyword_id: int) -> JSON:
    async with services(request).db.read() as conn:
        keyword, owner = await queries.owned_keyword(conn, viewer, keyword_id)
    return JSON(entities.filter_v1(keyword, owner))


@router.get("/api/v1/filters", responses=answers(list[schema.FilterV1]))
async def all_v1(request: Request, viewer: Viewer = Depends(user(READ))) -> JSON:
    async with services(request).db.read() as conn:
        owned = await queries.filters_of(conn, viewer)
    return JSON([entities.filter_v1(k, f) for f in owned for k in f.keywords])


@router.post("/api/v1/filters", responses=answers(schema.FilterV1))
async def create_v1(
    request: Request,
    viewer: Viewer = Depends(user(WRITE)),
    params: PhraseParams = Depends(body(PhraseParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        keyword_id = await v1.do_create_phrase(tx, viewer, params.phrase_filter())
    return await _v1_json(request, viewer, keyword_id)


@router.get("/api/v1/filters/{keyword_id}", responses=answers(schema.FilterV1))
async def one_v1(request: Request, keyword_id: Id, viewer: Viewer = Depends(user(READ))) -> JSON:
    return await _v1_json(request, viewer, keyword_id)


@router.put("/api/v1/filters/{keyword_id}", responses=answers(schema.FilterV1))
async def update_v1(
    request: Request,
    keyword_id: Id,
    viewer: Viewer = Depends(user(WRITE)),
    params: PhraseParams = Depends(body(PhraseParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        await v1.do_update_phrase(tx, viewer, keyword_id, params.phrase_filter())
    return await _v1_json(request, viewer, keyword_id)


@router.delete("/api/v1/filters/{keyword_id}", responses=answers(schema.Empty))
async def delete_v1(
    request: Request, keyword_id: Id, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    async with services(request).db.write() as tx:
        await v1.do_delete_phrase(tx, viewer, keyword_id)
    return JSON({})
