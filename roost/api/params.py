"""Request parameters the way Mastodon clients send them, into typed models.

Clients send the same call as a query string, a form, multipart, or JSON
(Mastodon.py uses forms, toot uses JSON), with Rails-style names: ``media_ids[]``
for lists and ``fields_attributes[0][name]`` for nested records. Everything is
merged into one dict (``read_params``) and validated by the endpoint's model;
that reading, shared with the web pages, is roost/request_params.py, and this
module adds the API's types (``Id``, ``File``...) and the declarations.

A handler declares its model in its signature, and that one declaration both
parses the request and gives the OpenAPI document the parameters
(roost/api/openapi.py reads it)::

    params: PageParams = Depends(query(PageParams))    # GET: the query string
    params: StatusParams = Depends(body(StatusParams))  # POST/PUT/PATCH/DELETE

Ids are one type everywhere (``Id``): ASCII digits, 1 to 2**63-1. A path id
that is not one answers 404 (nothing has that id); a parameter that is not one
answers 422 naming the parameter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Request
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError
from starlette.datastructures import UploadFile

from roost.errors import NotFound, RoostError
from roost.ids import MAX_ID, id_from_text
from roost.request_params import M as M
from roost.request_params import Params as Params
from roost.request_params import Words as Words
from roost.request_params import marked as _marked
from roost.request_params import nest as nest
from roost.request_params import problems as problems
from roost.request_params import read_params as read_params
from roost.request_params import validate as validate

T = TypeVar("T")

ID_MAX = MAX_ID
ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^[0-9]{1,19}$",
    "description": "An id: decimal digits, from 1 to 9223372036854775807",
}


class BadRequest(RoostError):
    status = 400


def to_id(value: object) -> int:
    """An id from the wire (a string, or a JSON integer): ASCII digits within
    1..2**63-1, else a validation error."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value if 1 <= value <= ID_MAX else None
    elif isinstance(value, str):
        number = id_from_text(value)
    if number is None:
        raise PydanticCustomError("id", "must be an id (digits, from 1 to 9223372036854775807)")
    return number


def _blank_is_absent(value: object) -> object:
    """Rails treats ``in_reply_to_id=`` as not given; so does Roost."""
    return None if isinstance(value, str) and value.strip() == "" else value


def _as_list(value: object) -> object:
    """``a=1`` and ``a[]=1&a[]=2`` alike: one value is a list of one."""
    if value is None or isinstance(value, list):
        return value
    return [value]


def _drop_blanks(value: object) -> object:
    """``media_ids[]=`` (a form's way to send an empty list) holds no id."""
    value = _as_list(value)
    if isinstance(value, list):
        return [v for v in value if not (isinstance(v, str) and v.strip() == "")]
    return value


class _IdMarker:
    """Marks a field or a path parameter as an id (for the id tests and docs)."""


ID_MARKER = _IdMarker()

Id = Annotated[
    int,
    PlainValidator(to_id),
    PlainSerializer(str),
    WithJsonSchema(ID_SCHEMA),
    ID_MARKER,
]
"""An id in a path, a query or a body."""

OptionalId = Annotated[Id | None, BeforeValidator(_blank_is_absent)]
"""An id parameter that may be absent (an empty value counts as absent)."""

Ids = Annotated[list[Id], BeforeValidator(_drop_blanks)]
"""``id[]=1&id[]=2`` (or one ``id=1``, or a JSON list)."""


def _file_content(value: object) -> bytes | None:
    return value if isinstance(value, bytes) else None


FILE_SCHEMA: dict[str, Any] = {"type": "string", "format": "binary"}

File = Annotated[bytes | None, PlainValidator(_file_content), WithJsonSchema(FILE_SCHEMA)]
"""A file sent in a multipart field (its bytes, read by the endpoint's reader
within the size limits); anything else in that field counts as absent."""


def _upload(value: object) -> UploadFile | None:
    return value if isinstance(value, UploadFile) else None


Upload = Annotated[UploadFile | None, PlainValidator(_upload), WithJsonSchema(FILE_SCHEMA)]
"""A file sent in a multipart field, left where the form spooled it (media
uploads may be large); the handler closes it."""

Many = Annotated[list[T], BeforeValidator(_as_list)]
"""A list parameter that also takes a single value."""

Count = Annotated[int, Field(ge=-ID_MAX, le=ID_MAX)]
"""A limit the database can hold (out-of-range limits are clamped by each query)."""

Offset = Annotated[int, Field(ge=0, le=ID_MAX)]
"""How many results to skip: never negative (PostgreSQL refuses a negative OFFSET)."""


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul", "must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""A text path parameter (a hashtag): PostgreSQL stores no
NUL character, so a path holding one names nothing (404)."""

Where = Literal["query", "body"]


class Reader(Generic[M]):
    """A FastAPI dependency that reads one endpoint's parameters into ``model``.

    ``where`` says where the document puts them: ``query`` (the query string
    only) or ``body`` (JSON, a form or multipart; the query string is merged
    in too, as Mastodon accepts). ``read`` replaces how the raw values are
    gathered (uploads check their size before the body is read).
    """

    def __init__(
        self,
        model: type[M],
        where: Where,
        read: Callable[[Request], Awaitable[dict[str, Any]]] | None = None,
        media_types: tuple[str, ...] = (),
    ) -> None:
        self.model = model
        self.where = where
        # What a parameter that fails answers (the OAuth endpoints: 400).
        self.failure_status = 422
        self.media_types = media_types
        self._read = read

    async def __call__(self, request: Request) -> M:
        try:
            if self._read is not None:
                raw = await self._read(request)
            elif self.where == "query":
                raw = nest(request.query_params.multi_items())
            else:
                raw = await read_params(request)
            return validate(self.model, raw)
        except RoostError:
            # FastAPI checks the path after the dependencies: a path that
            # names no record must still answer 404, whatever the body holds.
            _refuse_unknown_path(request)
            raise


def path_ids(route: Any) -> list[str]:
    """The names of an API route's path parameters that are ids."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return []
    return [param.name for param in dependant.path_params if holds_id(param.field_info)]


def holds_id(field: Any) -> bool:
    """Whether a field (or a type) is an id or a list of ids (``Id``, ``OptionalId``, ``Ids``)."""
    return _marked(field, _IdMarker)


def _refuse_unknown_path(request: Request) -> None:
    for name in path_ids(request.scope.get("route")):
        try:
            to_id(request.path_params.get(name))
        except PydanticCustomError:
            raise NotFound() from None


class Streamed(Reader[M]):
    """The declaration of a body its handler reads as it streams in (an
    archive of gigabytes): the document shows ``model`` as the multipart body,
    and the handler validates the fields it received with ``validate(model,
    ...)``. As a dependency it reads nothing."""

    def __init__(self, model: type[M]) -> None:
        super().__init__(model, "body", media_types=("multipart/form-data",))

    async def __call__(self, request: Request) -> M:
        return self.model.model_construct()


def query(model: type[M]) -> Reader[M]:
    """``model`` from the query string (GET)."""
    return Reader(model, "query")


def body(model: type[M]) -> Reader[M]:
    """``model`` from the body (JSON, form or multipart) and the query string."""
    return Reader(model, "body")
