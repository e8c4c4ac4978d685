"""The OpenAPI document, made from the routes' own declarations.

Served at ``/openapi.json`` (and at ``/api/openapi.json``, where it was first).
What each operation says comes from what its handler declares, so the
document cannot drift from the code:

- parameters and request bodies: the handler's ``Reader`` dependency
  (roost/api/params.py ``query``/``body``): a ``query`` model becomes query
  parameters, with Rails' ``[]`` on list names; a ``body`` model becomes a
  request body in JSON, as a form and as multipart (forms flattened the Rails
  way: ``source[privacy]``, ``media_ids[]``, ``keywords_attributes[][keyword]``);
- ids in paths and parameters: the ``Id`` type (digits, 1 to 2**63-1);
- answers: ``answers(...)`` in the route's ``responses=`` (documentation only:
  FastAPI validates nothing it names there), and the errors its dependencies
  can raise: 401 and 403 for a token, 422 for parameters, 400 for a body
  that is not JSON or a form, 404 for a path that names no record, 503 when
  the database is down, and 429 on every path the API rate limits count.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from roost import __version__
from roost.api.params import Reader, holds_id, path_ids
from roost.api.ratelimits import rate_limited
from roost.api.responses import JSON

DOCUMENT_URL = "/openapi.json"
LEGACY_URL = "/api/openapi.json"

_STEADY = "x-roost-steady"
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_REF = "#/components/schemas/"


class Error(BaseModel):
    """Every failure's answer (roost/api/errors.py)."""

    error: str = Field(description="What went wrong, for a person to read")


class OAuthError(BaseModel):
    """What /oauth/token and /oauth/revoke answer when they refuse (RFC 6749)."""

    error: str = Field(description="An OAuth 2 error code")
    error_description: str = Field(description="What went wrong, for a person to read")


_ERRORS = {
    400: "The body is not valid JSON, or not a valid form",
    401: "The access token is missing or not valid",
    403: "The token lacks the scope, or the account may not do this",
    404: "Record not found (or not visible to this viewer)",
    409: "A conflicting change was made at the same time; try again",
    411: "The upload did not state its size (Content-Length)",
    422: "A parameter is not valid; the message names it",
    429: "Too many attempts; Retry-After says when to try again",
    503: "A dependency is down; Retry-After says when to try again",
    507: "The disk is full (the media volume, or the database's): nothing was saved",
}


def answers(
    model: Any = None,
    *,
    status: int = 200,
    description: str = "",
    media_type: str = _JSON,
    errors: Iterable[int] = (),
    also: dict[int, Any] | None = None,
    steady: bool = False,
) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: ``model`` answered with ``status``, the other
    successful answers in ``also`` (status -> model), and ``errors`` beyond
    those its dependencies imply. ``steady``: it touches no database (no 503).
    """
    found: dict[int | str, dict[str, Any]] = {}
    for code, shape in {status: model, **(also or {})}.items():
        entry: dict[str, Any] = {"description": description or "Success"}
        if shape is not None and media_type == _JSON:
            entry["model"] = shape
        elif media_type != _JSON:
            text = media_type.startswith("text/")
            body = {"type": "string"} if text else {"type": "string", "format": "binary"}
            entry["content"] = {media_type: {"schema": body}}
        found[code] = entry
    for code in errors:
        found[code] = {"description": _ERRORS[code], "model": Error}
    if steady:
        found[status][_STEADY] = True
    return found


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` the Roost document and serve it at both URLs."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]

    async def serve(request: Request) -> Response:
        return JSON(app.openapi())

    for url in (DOCUMENT_URL, LEGACY_URL):
        app.add_route(url, serve, include_in_schema=False)


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every API route of the app with the path it answers at."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield str(context.path_format), route


def readers(route: APIRoute) -> list[Reader[Any]]:
    """The parameter models a route reads (its ``Reader`` dependencies)."""
    found: list[Reader[Any]] = []
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Reader):
            found.append(dependant.call)
        pending.extend(dependant.dependencies)
    return found


def auth_need(route: APIRoute) -> str | None:
    """``user``, ``app`` or ``optional``: what token the route asks for."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        need = getattr(dependant.call, "roost_auth", None)
        if isinstance(need, str):
            return need
        pending.extend(dependant.dependencies)
    return None


def document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title="Roost",
        version=__version__,
        description=(
            "The Mastodon client API as Roost serves it, and Roost's own additions "
            "(/api/v1/roost/...). Parameters may be sent as a query string, a form, "
            "multipart or JSON; ids are strings of digits."
        ),
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _add_schema(schemas, "Error", Error.model_json_schema(ref_template=_REF + "{model}"))
    _add_schema(schemas, "OAuthError", OAuthError.model_json_schema(ref_template=_REF + "{model}"))
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "An access token"},
        "access_token": {
            "type": "apiKey",
            "in": "query",
            "name": "access_token",
            "description": "The token in the query string, for clients that cannot set headers",
        },
    }
    for path, route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = doc["paths"][path][method.lower()]
            _describe(operation, route, schemas)
            if rate_limited(path):
                # roost/api/ratelimits.py answers before the route does.
                operation["responses"].setdefault(
                    "429",
                    {
                        "description": _ERRORS[429],
                        "content": {_JSON: {"schema": {"$ref": _REF + "Error"}}},
                    },
                )
    return doc


def _describe(operation: dict[str, Any], route: APIRoute, schemas: dict[str, Any]) -> None:
    """Complete FastAPI's operation with what the route's declarations imply."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    steady = False
    for response in responses.values():
        steady = bool(response.pop(_STEADY, False)) or steady
        content = response.get("content", {})
        for media_type in list(content):
            if media_type.startswith(_JSON + ";"):
                content[_JSON] = content.pop(media_type)
        shape = content.get(_JSON, {}).get("schema", {})
        if "$ref" in shape:
            # FastAPI starts a non-JSONResponse class's schema as a string.
            content[_JSON]["schema"] = {"$ref": shape["$ref"]}
    errors: set[int] = set()
    need = auth_need(route)
    if need is not None:
        errors |= {401, 403}
        tokens: list[dict[str, list[str]]] = [{"bearer": []}, {"access_token": []}]
        operation["security"] = tokens if need != "optional" else [{}, *tokens]
    if need == "user":
        errors.add(422)
    for reader in readers(route):
        errors.add(reader.failure_status)
        if any(holds_id(field) for field in reader.model.model_fields.values()):
            errors.add(404)  # an id that names no record
        if reader.where == "query":
            operation.setdefault("parameters", []).extend(_query_parameters(reader, schemas))
        else:
            errors.add(400)
            operation["requestBody"] = _request_body(reader, schemas)
    if route.dependant.path_params:
        errors.add(404)
    if not steady:
        errors.add(503)
    if "HTTPValidationError" in str(responses.get("422")):
        # FastAPI's own 422 shape; Roost answers errors in Mastodon's.
        responses.pop("422")
    for code in sorted(errors):
        entry = responses.setdefault(str(code), {"description": _ERRORS[code]})
        # An HTML page's route still answers a bad parameter in JSON.
        entry.setdefault("content", {}).setdefault(_JSON, {"schema": {"$ref": _REF + "Error"}})
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path" and parameter["name"] in path_ids(route):
            parameter["description"] = "An id; one that names no record answers 404"


def _add_schema(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    schema = copy.deepcopy(schema)
    for sub_name, sub in schema.pop("$defs", {}).items():
        _add_schema(schemas, sub_name, sub)
    existing = schemas.get(name)
    if existing is not None and existing != schema:
        raise RuntimeError(f"two different schemas are named {name} in the OpenAPI document")
    schemas[name] = schema


def _model_schema(reader: Reader[Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema with its sub-models resolved (inline)."""
    schema = reader.model.model_json_schema(ref_template=_REF + "{model}")
    defs = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inline(schema, defs)
    return inlined


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF) and ref[len(_REF) :] in defs:
            return _inline(copy.deepcopy(defs[ref[len(_REF) :]]), defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query or form value is never null: ``X | None`` is documented as X."""
    variants = schema.get("anyOf")
    if isinstance(variants, list):
        kept = [v for v in variants if v.get("type") != "null"]
        if len(kept) == 1:
            # The field's own words (description, default) over its type's.
            schema = {**kept[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
        else:
            schema = {**schema, "anyOf": kept}
    if schema.get("default") is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


def _is_binary(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "binary"


def _flatten(schema: dict[str, Any], *, files: bool) -> dict[str, Any]:
    """A model's schema as a form's fields, named the Rails way."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, raw in schema.get("properties", {}).items():
        field = _without_null(raw)
        if _is_binary(field) and not files:
            continue
        if "anyOf" in field:
            # Records as a list or keyed by index (Rails' nested attributes):
            # a form spells them as the list, ``name[][key]``.
            lists = [v for v in field["anyOf"] if v.get("type") == "array"]
            field = lists[0] if lists else field
        kind = field.get("type")
        if kind == "array":
            items = _without_null(field.get("items", {}))
            if items.get("type") == "object" and "properties" in items:
                for key, sub in items["properties"].items():
                    properties[f"{name}[][{key}]"] = {"type": "array", "items": _without_null(sub)}
            else:
                properties[f"{name}[]"] = {**field, "items": items}
        elif kind == "object" and "properties" in field:
            for key, sub in field["properties"].items():
                properties[f"{name}[{key}]"] = _without_null(sub)
        elif kind == "object" or "anyOf" in field:
            # Free-form shapes (a poll) have no single form spelling: JSON only.
            continue
        else:
            properties[name] = field
            if name in schema.get("required", []):
                required.append(name)
    flat: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        flat["required"] = required
    return flat


def _request_body(reader: Reader[Any], schemas: dict[str, Any]) -> dict[str, Any]:
    name = reader.model.__name__
    full = _model_schema(reader, schemas)
    json_schema = {
        **full,
        "properties": {
            key: value
            for key, value in full.get("properties", {}).items()
            if not _is_binary(_without_null(value))
        },
    }
    has_files = len(json_schema["properties"]) != len(full.get("properties", {}))
    media_types = reader.media_types or (
        (_JSON, _FORM, _MULTIPART) if not has_files else (_MULTIPART, _JSON, _FORM)
    )
    content: dict[str, Any] = {}
    for media_type in media_types:
        if media_type == _JSON:
            _add_schema(schemas, name, json_schema)
            content[_JSON] = {"schema": {"$ref": _REF + name}}
        elif media_type == _FORM:
            _add_schema(schemas, name + "Form", _flatten(json_schema, files=False))
            content[_FORM] = {"schema": {"$ref": _REF + name + "Form"}}
        else:
            multipart = name + ("Multipart" if has_files else "Form")
            _add_schema(schemas, multipart, _flatten(full, files=True))
            content[_MULTIPART] = {"schema": {"$ref": _REF + multipart}}
    return {"required": bool(full.get("required")), "content": content}


def _query_parameters(reader: Reader[Any], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _model_schema(reader, schemas)
    required = set(schema.get("required", []))
    parameters = []
    for name, raw in schema.get("properties", {}).items():
        field = _without_null(raw)
        description = field.pop("description", None)
        field.pop("title", None)
        if field.get("type") == "array":
            name = name + "[]"
            field["items"] = _without_null(field.get("items", {}))
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": field,
        }
        if field.get("type") == "array":
            parameter["style"] = "form"
            parameter["explode"] = True
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters
