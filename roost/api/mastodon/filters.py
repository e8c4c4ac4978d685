"""/api/v2/filters (with keywords and posts) and the v1 view of the same filters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon import entities
from roost.api.mastodon._common import flag
from roost.api.params import parse_id, read_params
from roost.api.responses import JSON
from roost.domain.filters import actions, queries, v1
from roost.domain.types import Viewer
from roost.errors import Invalid

router = APIRouter()

READ, WRITE = "read:filters", "write:filters"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _bool(value: Any) -> bool | None:
    return None if value is None else flag(value)


def _context(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _expiry(raw: dict[str, Any]) -> tuple[bool, int | None]:
    """(given, seconds): an empty or null ``expires_in`` means never."""
    if "expires_in" not in raw:
        return False, None
    value = raw["expires_in"]
    if value is None or str(value).strip() == "":
        return True, None
    try:
        return True, int(str(value))
    except ValueError:
        raise Invalid("Validation failed: Expires in must be a number of seconds") from None


def _records(value: Any, *, from_form: bool) -> list[dict[str, Any]]:
    """``keywords_attributes`` as a list of records.

    A form sends ``keywords_attributes[][keyword]=a&keywords_attributes[][whole_word]=0``:
    one single-key entry per field, which Rails gathers into one record until a
    field repeats. JSON sends the records themselves.
    """
    if isinstance(value, dict):
        value = [value[key] for key in sorted(value, key=lambda k: (len(str(k)), str(k)))]
    if not isinstance(value, list):
        return []
    records: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        if from_form and records and not records[-1].keys() & item.keys():
            records[-1].update(item)
        else:
            records.append(dict(item))
    return records


def _keyword_changes(raw: dict[str, Any], from_form: bool) -> list[actions.KeywordChange]:
    changes = []
    for record in _records(raw.get("keywords_attributes"), from_form=from_form):
        raw_id = record.get("id")
        changes.append(
            actions.KeywordChange(
                id=parse_id(str(raw_id)) if raw_id not in (None, "") else None,
                keyword=_text(record.get("keyword")),
                whole_word=_bool(record.get("whole_word")),
                destroy=bool(_bool(record.get("_destroy"))),
            )
        )
    return changes


async def _change(request: Request) -> actions.FilterChange:
    raw = await read_params(request)
    from_form = "application/json" not in request.headers.get("content-type", "")
    set_expiry, expires_in = _expiry(raw)
    return actions.FilterChange(
        title=_text(raw.get("title")),
        context=_context(raw.get("context")),
        action=_text(raw.get("filter_action")),
        expires_in=expires_in,
        set_expiry=set_expiry,
        keywords=_keyword_changes(raw, from_form),
    )


async def _filter_json(request: Request, viewer: Viewer, filter_id: int) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.owned_filter(conn, viewer, filter_id)
    return JSON(entities.filter_(found))


@router.get("/api/v2/filters")
async def all_filters(request: Request, viewer: Viewer = Depends(user(READ))) -> JSON:
    async with services(request).db.read() as conn:
        owned = await queries.filters_of(conn, viewer)
    return JSON([entities.filter_(f) for f in owned])


@router.post("/api/v2/filters")
async def create(request: Request, viewer: Viewer = Depends(user(WRITE))) -> JSON:
    change = await _change(request)
    async with services(request).db.write() as tx:
        filter_id = await actions.do_create_filter(tx, viewer, change)
    return await _filter_json(request, viewer, filter_id)


@router.get("/api/v2/filters/keywords/{keyword_id}")
async def one_keyword(
    request: Request, keyword_id: str, viewer: Viewer = Depends(user(READ))
) -> JSON:
    async with services(request).db.read() as conn:
        keyword, _ = await queries.owned_keyword(conn, viewer, parse_id(keyword_id))
    return JSON(entities.filter_keyword(keyword))


@router.put("/api/v2/filters/keywords/{keyword_id}")
async def update_keyword(
    request: Request, keyword_id: str, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    raw = await read_params(request)
    kid = parse_id(keyword_id)
    async with services(request).db.write() as tx:
        await actions.do_update_keyword(
            tx, viewer, kid, _text(raw.get("keyword")), _bool(raw.get("whole_word"))
        )
    return await one_keyword(request, keyword_id, viewer)


@router.delete("/api/v2/filters/keywords/{keyword_id}")
async def delete_keyword(
    request: Request, keyword_id: str, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_delete_keyword(tx, viewer, parse_id(keyword_id))
    return JSON({})


@router.get("/api/v2/filters/statuses/{status_filter_id}")
async def one_status(
    request: Request, status_filter_id: str, viewer: Viewer = Depends(user(READ))
) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.owned_status_filter(conn, viewer, parse_id(status_filter_id))
    return JSON(entities.filter_status(found))


@router.delete("/api/v2/filters/statuses/{status_filter_id}")
async def remove_status(
    request: Request, status_filter_id: str, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_remove_status(tx, viewer, parse_id(status_filter_id))
    return JSON({})


@router.get("/api/v2/filters/{filter_id}")
async def one(request: Request, filter_id: str, viewer: Viewer = Depends(user(READ))) -> JSON:
    return await _filter_json(request, viewer, parse_id(filter_id))


@router.put("/api/v2/filters/{filter_id}")
async def update(request: Request, filter_id: str, viewer: Viewer = Depends(user(WRITE))) -> JSON:
    change = await _change(request)
    fid = parse_id(filter_id)
    async with services(request).db.write() as tx:
        await actions.do_update_filter(tx, viewer, fid, change)
    return await _filter_json(request, viewer, fid)


@router.delete("/api/v2/filters/{filter_id}")
async def delete(request: Request, filter_id: str, viewer: Viewer = Depends(user(WRITE))) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_delete_filter(tx, viewer, parse_id(filter_id))
    return JSON({})


@router.get("/api/v2/filters/{filter_id}/keywords")
async def keywords(request: Request, filter_id: str, viewer: Viewer = Depends(user(READ))) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.owned_filter(conn, viewer, parse_id(filter_id))
    return JSON([entities.filter_keyword(k) for k in found.keywords])


@router.post("/api/v2/filters/{filter_id}/keywords")
async def add_keyword(
    request: Request, filter_id: str, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    raw = await read_params(request)
    async with services(request).db.write() as tx:
        keyword_id = await actions.do_add_keyword(
            tx,
            viewer,
            parse_id(filter_id),
            _text(raw.get("keyword")),
            _bool(raw.get("whole_word")),
        )
    return await one_keyword(request, str(keyword_id), viewer)


@router.get("/api/v2/filters/{filter_id}/statuses")
async def statuses(request: Request, filter_id: str, viewer: Viewer = Depends(user(READ))) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.owned_filter(conn, viewer, parse_id(filter_id))
    return JSON([entities.filter_status(s) for s in found.statuses])


@router.post("/api/v2/filters/{filter_id}/statuses")
async def add_status(
    request: Request, filter_id: str, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    raw = await read_params(request)
    async with services(request).db.write() as tx:
        status_filter_id = await actions.do_add_status(
            tx, viewer, parse_id(filter_id), parse_id(str(raw.get("status_id", "")))
        )
    return await one_status(request, str(status_filter_id), viewer)


# --- v1: one phrase per filter (a keyword and the filter that holds it). ---


def _phrase(raw: dict[str, Any]) -> v1.PhraseFilter:
    set_expiry, expires_in = _expiry(raw)
    return v1.PhraseFilter(
        phrase=_text(raw.get("phrase")),
        context=_context(raw.get("context")),
        irreversible=_bool(raw.get("irreversible")),
        whole_word=_bool(raw.get("whole_word")),
        expires_in=expires_in,
        set_expiry=set_expiry,
    )


async def _v1_json(request: Request, viewer: Viewer, keyword_id: int) -> JSON:
    async with services(request).db.read() as conn:
        keyword, owner = await queries.owned_keyword(conn, viewer, keyword_id)
    return JSON(entities.filter_v1(keyword, owner))


@router.get("/api/v1/filters")
async def all_v1(request: Request, viewer: Viewer = Depends(user(READ))) -> JSON:
    async with services(request).db.read() as conn:
        owned = await queries.filters_of(conn, viewer)
    return JSON([entities.filter_v1(k, f) for f in owned for k in f.keywords])


@router.post("/api/v1/filters")
async def create_v1(request: Request, viewer: Viewer = Depends(user(WRITE))) -> JSON:
    phrase = _phrase(await read_params(request))
    async with services(request).db.write() as tx:
        keyword_id = await v1.do_create_phrase(tx, viewer, phrase)
    return await _v1_json(request, viewer, keyword_id)


@router.get("/api/v1/filters/{keyword_id}")
async def one_v1(request: Request, keyword_id: str, viewer: Viewer = Depends(user(READ))) -> JSON:
    return await _v1_json(request, viewer, parse_id(keyword_id))


@router.put("/api/v1/filters/{keyword_id}")
async def update_v1(
    request: Request, keyword_id: str, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    phrase = _phrase(await read_params(request))
    kid = parse_id(keyword_id)
    async with services(request).db.write() as tx:
        await v1.do_update_phrase(tx, viewer, kid, phrase)
    return await _v1_json(request, viewer, kid)


@router.delete("/api/v1/filters/{keyword_id}")
async def delete_v1(
    request: Request, keyword_id: str, viewer: Viewer = Depends(user(WRITE))
) -> JSON:
    async with services(request).db.write() as tx:
        await v1.do_delete_phrase(tx, viewer, parse_id(keyword_id))
    return JSON({})
