"""Ids are one type everywhere: ASCII digits within 1..2**63-1.

Every route with an id in its path or its parameters is found from the app's
router (so a new route is covered without being listed here) and sent ids
that are not ones: unicode digits, numbers beyond 2**63-1, negatives, zero,
whitespace, a leading +. A path id answers 404 ``Record not found``; a
parameter answers 422 naming it; nothing answers 5xx.
"""

from __future__ import annotations

import tempfile
import types
import typing
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from roost.api.openapi import api_routes, readers
from roost.api.params import holds_id, path_ids
from roost.app import create_app
from roost.config import load_settings
from tests.conftest import Roost, User

ALL_SCOPES = "read write follow push admin:read admin:write"

# Unicode digits str.isdigit() accepts and int() refuses or reads differently.
_FOREIGN_DIGITS = st.characters(categories=["Nd", "No"], exclude_characters="0123456789")

BAD_IDS = st.one_of(
    st.text(_FOREIGN_DIGITS, min_size=1, max_size=4),
    st.tuples(st.integers(1, 10**6), st.text(_FOREIGN_DIGITS, min_size=1, max_size=2)).map(
        lambda pair: f"{pair[0]}{pair[1]}"
    ),
    st.integers(min_value=2**63, max_value=10**40).map(str),
    st.integers(min_value=-(10**20), max_value=0).map(str),
    st.sampled_from(["¹", "①", "٣", "+1", "+12", " 1", "1 ", "\t7", "1_000", "0x1f", "1e3", "-0"]),
    st.integers(min_value=1, max_value=2**40).map(lambda n: f"{n}\n"),
)


@dataclass(frozen=True)
class Target:
    """One way to send an id to one route."""

    method: str
    path: str
    where: str  # "path", "query" or "body"
    name: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.name}"


def _models_in(annotation: Any) -> list[tuple[type[BaseModel], bool]]:
    """The models a field holds, and whether as a list (Rails ``name[][key]``)."""
    found: list[tuple[type[BaseModel], bool]] = []
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, False)]
    args = typing.get_args(annotation)
    if origin in (list,):
        return [(model, True) for model, _ in _models_in(args[0])] if args else []
    if origin in (dict,):
        return []
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        for arg in args:
            found.extend(_models_in(arg))
    return found


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation))


def id_parameters(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The Rails names of a model's id parameters (nested records included)."""
    names: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        rails = f"{prefix}[{key}]" if prefix else key
        if holds_id(field):
            names.append(rails + ("[]" if _is_list(field.annotation) else ""))
            continue
        for sub, as_list in _models_in(field.annotation):
            names.extend(id_parameters(sub, rails + ("[]" if as_list else "")))
    return sorted(set(names))


def _targets() -> list[Target]:
    app = create_app(load_settings(data_dir=tempfile.mkdtemp(), secret_key="i" * 40))
    found: list[Target] = []
    for path, route in api_routes(app):
        methods = sorted(m for m in route.methods if m != "HEAD")
        for method in methods:
            found.extend(Target(method, path, "path", name) for name in path_ids(route))
            for reader in readers(route):
                for name in id_parameters(reader.model):
                    found.append(Target(method, path, reader.where, name))
    return found


TARGETS = _targets()


def test_given_the_router_when_ids_are_looked_for_then_every_kind_is_found() -> None:
    """The enumeration itself: paths, query and body ids, nested ones included."""
    seen = {(t.where, t.name) for t in TARGETS}
    assert ("path", "status_id") in seen
    assert ("query", "max_id") in seen
    assert ("query", "id[]") in seen
    assert ("body", "in_reply_to_id") in seen
    assert ("body", "media_ids[]") in seen
    assert ("body", "keywords_attributes[][id]") in seen
    assert ("body", "home[last_read_id]") in seen
    assert ("path", "attachment_id") in seen  # media files, outside the document too


def _fill(path: str, target: Target, value: str) -> str:
    """The path with every parameter filled: the target's with ``value``,
    other ids with a valid id, names with a plain word."""
    result = path
    for segment in [s for s in path.split("/") if s.startswith("{")]:
        name = segment[1:-1]
        if target.where == "path" and name == target.name:
            filled = value
        elif name.endswith("_id"):
            filled = "1"
        elif name == "variant":
            filled = "original"
        else:
            filled = "x"
        result = result.replace(segment, _quote(filled))
    return result


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _send(roost: Roost, admin: User, target: Target, value: str) -> Any:
    url = _fill(target.path, target, value)
    kwargs: dict[str, Any] = {}
    if target.where == "query":
        kwargs["params"] = {target.name: value}
    elif target.where == "body":
        kwargs["data"] = {target.name: value}
    return roost.client.request(target.method, url, headers=admin.headers, **kwargs)


@pytest.fixture
def admin(roost: Roost) -> User:
    return roost.account("boss", admin=True, scopes=ALL_SCOPES)


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=str)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=BAD_IDS)
def test_given_a_malformed_id_when_sent_then_404_for_a_path_422_for_a_parameter_never_5xx(
    roost: Roost, admin: User, target: Target, value: str
) -> None:
    response = _send(roost, admin, target, value)
    assert response.status_code < 500, (str(target), value, response.text)
    if target.where == "path":
        assert response.status_code == 404, (str(target), value, response.text)
        assert response.json() == {"error": "Record not found"}
    else:
        assert response.status_code == 422, (str(target), value, response.text)
        head = target.name.split("[", 1)[0]
        assert head in response.json()["error"], (str(target), value, response.text)


@pytest.mark.parametrize("value", ["1", str(2**63 - 1), "007"])
def test_given_an_id_at_the_edges_of_the_range_when_read_then_it_is_an_id(
    roost: Roost, admin: User, value: str
) -> None:
    """The largest id is looked up (not found), not refused or overflowed."""
    response = admin.get(f"/api/v1/statuses/{value}")
    assert response.status_code == 404
    assert admin.get("/api/v1/timelines/home", params={"max_id": value}).status_code == 200


def test_given_an_empty_id_parameter_when_sent_then_it_counts_as_absent(
    roost: Roost, admin: User
) -> None:
    """As Rails: ``in_reply_to_id=`` is no reply, ``max_id=`` no bound."""
    assert admin.get("/api/v1/timelines/home", params={"max_id": ""}).status_code == 200
    posted = admin.post("/api/v1/statuses", data={"status": "hi", "in_reply_to_id": ""})
    assert posted.status_code == 200, posted.text
    assert posted.json()["in_reply_to_id"] is None
