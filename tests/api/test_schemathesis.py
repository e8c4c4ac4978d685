"""Schemathesis over every operation of /openapi.json, against a real server.

A ``roost serve`` process (SQLite; and PostgreSQL + Redis when the test
backends are configured) is seeded with an administrator whose token has
every scope, a second account, posts, a reply, a DM, media, a list, filters,
markers, a followed tag, an announcement, a custom emoji and an export, so
that ids exist. Each operation is then sent a bounded number of requests
generated from the document (parameters and bodies in every documented media
type; ids in paths half the time taken from the seeded ones), and each answer
must: not be a 5xx, have a documented status, a documented content type, and
a body that conforms to the documented schema.

The document itself must describe every route of the app's router: a route
missing from it, or a parameter it reads that the document does not name,
fails ``test_given_the_router_when_the_document_is_built_then_it_names_every_route``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from roost.api.images import _solid_png
from roost.api.openapi import api_routes, readers
from roost.app import create_app
from roost.config import load_settings
from roost.web.errors import is_browser_path
from tests.conftest import PG_URL, REDIS_URL, REQUIRE_BACKENDS, _truncate
from tests.drills.support import GENEROUS_LIMITS

pytestmark = pytest.mark.slow

ROOST = Path(sys.executable).with_name("roost")
ALL_SCOPES = "read write follow push admin:read admin:write"
PASSWORD = "correct horse battery staple"
# Examples per operation: 161 operations, two backends, a 2-core machine.
EXAMPLES = int(os.environ.get("ROOST_TEST_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _document() -> dict[str, Any]:
    app = create_app(load_settings(data_dir=tempfile.mkdtemp(), secret_key="d" * 40))
    return app.openapi()


DOCUMENT = _document()
OPERATIONS = sorted(
    (method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item
)


def _streams(method: str, path: str) -> bool:
    """Server-Sent Event streams answer until the client leaves: a request
    of the fuzzer would never end (tests/streaming covers them)."""
    content = DOCUMENT["paths"][path][method.lower()]["responses"]["200"].get("content", {})
    return "text/event-stream" in content


# --- the document names every route and every parameter ------------------


def test_given_the_router_when_the_document_is_built_then_it_names_every_route() -> None:
    """Every route of the router is an operation, with every parameter it reads."""
    app = create_app(load_settings(data_dir=tempfile.mkdtemp(), secret_key="d" * 40))
    doc = app.openapi()
    schemas = doc["components"]["schemas"]
    missing, unnamed = [], []
    for path, route in api_routes(app):
        if not route.include_in_schema:
            # Files and pages, not API methods (media files, the web's static
            # files and pages): declared so in the route.
            # ActivityPub's addresses (roost/federation) are for other servers.
            kept_out = (
                path.startswith(("/media/", "/static/", "/users/", "/.well-known/"))
                or path in ("/inbox", "/actor")
                or is_browser_path(path)
            )
            assert kept_out, f"{path} is kept out of the document"
            continue
        for method in route.methods:
            operation = doc["paths"].get(path, {}).get(method.lower())
            if operation is None:
                missing.append(f"{method} {path}")
                continue
            named = {p["name"] for p in operation.get("parameters", [])}
            wanted = {p.name for p in route.dependant.path_params}
            wanted |= {p.alias for p in route.dependant.header_params}
            for reader in readers(route):
                fields = reader.model.model_json_schema(by_alias=True).get("properties", {})
                if reader.where == "query":
                    wanted |= {n + "[]" if fields[n].get("type") == "array" else n for n in fields}
                    continue
                body = operation.get("requestBody", {}).get("content", {})
                documented: set[str] = set()
                for content in body.values():
                    ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
                    documented |= {n.split("[", 1)[0] for n in schemas[ref]["properties"]}
                unnamed.extend(
                    f"{method} {path}: body {name}" for name in sorted(set(fields) - documented)
                )
            unnamed.extend(f"{method} {path}: {name}" for name in sorted(wanted - named))
            if not readers(route) and "requestBody" in operation:
                unnamed.append(f"{method} {path}: a body it does not read")
    assert not missing, missing
    assert not unnamed, unnamed
    assert len(OPERATIONS) == sum(
        len(route.methods) for _, route in api_routes(app) if route.include_in_schema
    )


def test_given_the_document_when_asked_at_either_url_then_both_answer_it() -> None:
    from fastapi.testclient import TestClient

    app = create_app(load_settings(data_dir=tempfile.mkdtemp(), secret_key="d" * 40))
    # Started and stopped (lifespan): an app never stopped leaves its pool's
    # connections to the garbage collector, which warns in some later test.
    with TestClient(app) as client:
        new, old = client.get("/openapi.json"), client.get("/api/openapi.json")
    assert new.status_code == old.status_code == 200
    assert new.json() == old.json()
    assert new.json()["paths"]["/api/v1/timelines/home"]["get"]["parameters"]


# --- a real server, seeded ------------------------------------------------


@dataclass
class Server:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]
    known: dict[str, list[str]] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [str(ROOST), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        response = requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _backend_env(backend: str, request: pytest.FixtureRequest) -> dict[str, str]:
    if backend == "sqlite":
        return {}
    if not PG_URL or not REDIS_URL:
        if REQUIRE_BACKENDS:
            pytest.fail("PostgreSQL and Redis are required (ROOST_REQUIRE_BACKENDS=1)")
        pytest.skip("ROOST_TEST_DATABASE_URL / ROOST_TEST_REDIS_URL are not set")
    url = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    prefix = f"roost-schemathesis-{os.getpid()}:"
    return {"ROOST_DATABASE_URL": url, "ROOST_REDIS_URL": REDIS_URL, "ROOST_REDIS_PREFIX": prefix}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    backend_env = _backend_env(request.param, request)
    root = tmp_path_factory.mktemp("schemathesis")
    data_dir = root / "data"
    data_dir.mkdir()
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ROOST_")},
        "ROOST_DATA_DIR": str(data_dir),
        "ROOST_DOMAIN": f"127.0.0.1:{port}",
        "ROOST_REGISTRATIONS": "open",
        # Every operation, many examples each, from one token and address.
        **GENEROUS_LIMITS,
        **backend_env,
    }
    env["ROOST_SECRET_KEY"] = "s" * 40
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(ROOST), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", "", process, log_path, env)
    try:
        _wait_until_live(server)
        _seed(server, root)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if backend_env.get("ROOST_REDIS_URL"):
            _forget_redis(backend_env["ROOST_REDIS_URL"], backend_env["ROOST_REDIS_PREFIX"])


def _forget_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def _wait_until_live(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"roost serve exited:\n{server.log_tail()}", pytrace=False)
        try:
            if requests.get(f"{server.url}/livez", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"roost serve did not answer /livez:\n{server.log_tail()}", pytrace=False)


def _seed(server: Server, root: Path) -> None:
    """Something of every kind, made the ways an operator and apps make them."""
    for name, admin in (("boss", True), ("pal", False)):
        args = ["accounts", "create", name, "--email", f"{name}@example.org"]
        server.cli(*args, "--password", PASSWORD, *(["--admin"] if admin else []))
    server.token = server.cli("tokens", "create", "boss", "--scopes", ALL_SCOPES)
    pal = server.cli("tokens", "create", "pal", "--scopes", "read write follow")
    emoji = root / "blob.png"
    emoji.write_bytes(_solid_png(16, 16, (200, 100, 50)))
    server.cli("emoji", "add", "blob", str(emoji))
    server.cli("announcements", "add", "Welcome to the test server")

    known: dict[str, list[str]] = {}

    def keep(name: str, value: Any) -> None:
        known.setdefault(name, []).append(str(value))

    me = server.api("GET", "/api/v1/accounts/verify_credentials")
    friend = server.api("GET", "/api/v1/accounts/verify_credentials", token=pal)
    keep("account_id", me["id"])
    keep("account_id", friend["id"])
    server.api("POST", f"/api/v1/accounts/{friend['id']}/follow")
    server.api("POST", f"/api/v1/accounts/{me['id']}/follow", token=pal)
    png = _solid_png(32, 32, (10, 120, 200))
    media = server.api("POST", "/api/v2/media", files={"file": ("a.png", png, "image/png")})
    spare = server.api("POST", "/api/v2/media", files={"file": ("b.png", png, "image/png")})
    keep("media_id", spare["id"])
    first = server.api(
        "POST", "/api/v1/statuses", json={"status": "Hello #roost", "media_ids": [media["id"]]}
    )
    reply = server.api(
        "POST", "/api/v1/statuses", json={"status": "More", "in_reply_to_id": first["id"]}
    )
    theirs = server.api("POST", "/api/v1/statuses", token=pal, json={"status": "@boss hi"})
    dm = server.api(
        "POST", "/api/v1/statuses", token=pal, json={"status": "@boss psst", "visibility": "direct"}
    )
    for status in (first, reply, theirs):
        keep("status_id", status["id"])
    server.api("POST", f"/api/v1/statuses/{theirs['id']}/favourite")
    server.api("POST", f"/api/v1/statuses/{theirs['id']}/bookmark")
    server.api("POST", f"/api/v1/statuses/{first['id']}/reblog", token=pal)
    time.sleep(1.0)  # notifications and conversations are made by jobs
    for note in server.api("GET", "/api/v1/notifications"):
        keep("notification_id", note["id"])
    for conversation in server.api("GET", "/api/v1/conversations"):
        keep("conversation_id", conversation["id"])
    assert dm["id"]
    made = server.api("POST", "/api/v1/lists", json={"title": "Friends"})
    keep("list_id", made["id"])
    server.api("POST", f"/api/v1/lists/{made['id']}/accounts", json={"account_ids": [friend["id"]]})
    gathered = server.api(
        "POST", "/api/v1/collections", json={"name": "Friends", "account_ids": [friend["id"]]}
    )["collection"]
    keep("collection_id", gathered["id"])
    keep("item_id", gathered["items"][0]["id"])
    kept = server.api(
        "POST",
        "/api/v2/filters",
        json={
            "title": "Spoilers",
            "context": ["home", "public"],
            "keywords_attributes": [{"keyword": "finale", "whole_word": True}],
        },
    )
    keep("filter_id", kept["id"])
    keep("keyword_id", kept["keywords"][0]["id"])
    hidden = server.api(
        "POST", f"/api/v2/filters/{kept['id']}/statuses", json={"status_id": theirs["id"]}
    )
    keep("status_filter_id", hidden["id"])
    phrase = server.api("POST", "/api/v1/filters", json={"phrase": "ending", "context": ["home"]})
    keep("keyword_id", phrase["id"])
    server.api("POST", "/api/v1/markers", json={"home": {"last_read_id": first["id"]}})
    server.api("POST", "/api/v1/tags/roost/follow")
    keep("name", "roost")
    keep("hashtag", "roost")
    for announcement in server.api("GET", "/api/v1/announcements"):
        keep("announcement_id", announcement["id"])
    export = server.api("POST", "/api/v1/roost/export")
    keep("export_id", export["id"])
    server.known = known


# --- every operation, fuzzed -----------------------------------------------


@pytest.fixture(scope="module")
def schema() -> Any:
    config = schemathesis.Config()
    config.projects.default.generation.update(with_security_parameters=False)
    return schemathesis.openapi.from_dict(DOCUMENT, config=config)


@st.composite
def _cases(draw: st.DrawFn, operation: Any, known: dict[str, list[str]]) -> Any:
    case = draw(operation.as_strategy())
    for name in list(case.path_parameters or {}):
        if name in known and draw(st.booleans()):
            case.path_parameters[name] = draw(st.sampled_from(known[name]))
    return case


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_given_an_operation_when_fuzzed_then_answers_conform_and_none_is_a_5xx(
    server: Server, schema: Any, method: str, path: str
) -> None:
    if _streams(method, path):
        pytest.skip("an event stream does not end: covered by tests/streaming")
    operation = schema[path][method]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_cases(operation, server.known))
    def fuzz(case: Any) -> None:
        response = case.call(base_url=server.url, headers=server.headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception:
            print(server.log_tail())
            raise

    fuzz()
