"""Request parameters into typed models: the reading the API's endpoints
(roost/api/params.py, which adds the API's types and the OpenAPI
declarations) and the web pages share.

Clients send the same call as a query string, a form, multipart, or JSON,
with Rails-style names: ``media_ids[]`` for lists and
``fields_attributes[0][name]`` for nested records. Everything is merged into
one dict (``read_params``) and validated by a model (``validate``): a
parameter that fails is ``Invalid``, a body that cannot be read
``Unreadable``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, TypeVar, get_args

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from starlette.requests import Request

from roost.errors import Invalid, Unreadable

M = TypeVar("M", bound=BaseModel)

_PART = re.compile(r"\[([^\]]*)\]")


class _NulAllowed:
    """Marks a text field whose NUL characters the domain deals with itself."""


Words = Annotated[str, _NulAllowed()]
"""Text whose NUL characters the domain removes or seals (a post's text, a
profile's bio, a search): accepted as it always was."""


class Params(BaseModel):
    """Base for endpoint parameters: unknown keys are ignored, as Mastodon does.

    No text parameter may hold a NUL character (``%00`` in a form, an escaped
    zero in JSON): PostgreSQL stores none, so it is refused here, naming the
    parameter, rather than failing in the database.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_text(cls, value: Any, info: ValidationInfo) -> Any:
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            field = cls.model_fields.get(info.field_name or "")
            if field is None or not marked(field, _NulAllowed):
                raise PydanticCustomError("nul", "must not contain NUL characters")
        return value


def nest(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Rails' parameter names to nested values.

    ``a[]=1&a[]=2`` is a list; ``h[k]=v`` a dict; ``r[][k]=v`` a list of
    records, where a field starts a new record only when the last one already
    has it (so ``r[][k]=a&r[][w]=0&r[][k]=b`` is two records, as in Rails).
    """
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
                # Rails: ``a[][id]=1&a[][focus]=x&a[][id]=2`` is two records;
                # a key goes into the last record until that record has it.
                last = target[-1] if target else None
                if (
                    isinstance(default, dict)
                    and isinstance(last, dict)
                    and not _has_path(last, path[index + 1 :])
                ):
                    target = last
                    continue
                target.append(default)
                target = target[-1]
                continue
            existing = target.get(part)
            if not isinstance(existing, (list, dict)):
                target[part] = default
            target = target[part]
        last_part = path[-1]
        if last_part == "":
            if isinstance(target, list):
                target.append(value)
        elif isinstance(target, dict):
            target[last_part] = value
    return result


def _has_path(record: dict[str, Any], keys: list[str]) -> bool:
    """Whether ``record`` already holds a value at ``keys``. A ``[]`` on the
    way means no: a list takes any number of values."""
    value: Any = record
    for key in keys:
        if key == "" or not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


async def read_params(request: Request) -> dict[str, Any]:
    """The query string, and for POST/PUT/PATCH/DELETE the body (JSON or a
    form), merged into one dict; the body wins."""
    params = nest(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "")
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if "application/json" in content_type:
            body = await request.body()
            if body.strip():
                try:
                    data = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise Unreadable("The request body is not valid JSON") from None
                if not isinstance(data, dict):
                    raise Unreadable("The request body must be a JSON object")
                params.update(data)
        elif "form" in content_type:
            try:
                form = await request.form()
            except Exception:
                raise Unreadable("The request body is not a valid form") from None
            params.update(nest(form.multi_items()))
    return params


def problems(error: ValidationError) -> str:
    """Pydantic's errors as one line naming each parameter."""
    found = []
    for problem in error.errors():
        field = ".".join(str(p) for p in problem["loc"]) or "request"
        found.append(f"{field} {problem['msg'].lower()}")
    return "Validation failed: " + "; ".join(found)


def validate(model: type[M], params: dict[str, Any]) -> M:
    try:
        return model.model_validate(params)
    except ValidationError as error:
        raise Invalid(problems(error)) from None


def marked(field: Any, marker: type) -> bool:
    """Whether a field's type carries ``marker``, however deep (``X | None``, ``list[X]``)."""
    seen: list[Any] = [getattr(field, "annotation", field), *getattr(field, "metadata", ())]
    while seen:
        node = seen.pop()
        if isinstance(node, marker):
            return True
        seen.extend(getattr(node, "__metadata__", ()))
        seen.extend(get_args(node))
    return False
