"""Request parameters the way Mastodon clients send them.

Clients send the same call as a query string, a form, multipart, or JSON
(Mastodon.py uses forms, toot uses JSON), with Rails-style names: ``media_ids[]``
for lists and ``fields_attributes[0][name]`` for nested records. Everything is
merged into one dict and validated by a Pydantic model per endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from roost.errors import Invalid, NotFound, RoostError

M = TypeVar("M", bound=BaseModel)

_PART = re.compile(r"\[([^\]]*)\]")


class BadRequest(RoostError):
    status = 400


class Params(BaseModel):
    """Base for endpoint parameters: unknown keys are ignored, as Mastodon does."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


def nest(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for raw_key, value in items:
        head = raw_key.split("[", 1)[0]
        parts = _PART.findall(raw_key[len(head) :])
        if not parts:
            result[head] = value
            continue
        target: Any = result
        path = [head, *parts]
        for index, part in enumerate(path[:-1]):
            following = path[index + 1]
            default: Any = [] if following == "" else {}
            if isinstance(target, list):
                target.append(default)
                target = target[-1]
                continue
            existing = target.get(part)
            if not isinstance(existing, (list, dict)):
                target[part] = default
            target = target[part]
        last = path[-1]
        if last == "":
            if isinstance(target, list):
                target.append(value)
        elif isinstance(target, dict):
            target[last] = value
    return result


async def read_params(request: Request) -> dict[str, Any]:
    params = nest(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "")
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if "application/json" in content_type:
            body = await request.body()
            if body.strip():
                try:
                    data = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise BadRequest("The request body is not valid JSON") from None
                if not isinstance(data, dict):
                    raise BadRequest("The request body must be a JSON object")
                params.update(data)
        elif "form" in content_type:
            try:
                form = await request.form()
            except Exception:
                raise BadRequest("The request body is not a valid form") from None
            params.update(nest(form.multi_items()))
    return params


def validate(model: type[M], params: dict[str, Any]) -> M:
    try:
        return model.model_validate(params)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            field = ".".join(str(p) for p in problem["loc"]) or "request"
            problems.append(f"{field} {problem['msg'].lower()}")
        raise Invalid("Validation failed: " + "; ".join(problems)) from None


async def parse(request: Request, model: type[M]) -> M:
    return validate(model, await read_params(request))


def parse_id(raw: str) -> int:
    """A path id; anything that is not one is simply not found."""
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    value = int(raw)
    if value >= 2**63:
        raise NotFound()
    return value


def id_list(values: Any) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, list):
        values = [values]
    return [int(v) for v in values if str(v).isdigit() and len(str(v)) <= 19]
