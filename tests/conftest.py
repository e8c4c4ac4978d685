"""Fixtures every test shares.

Backends: each test that takes ``settings`` (directly or through ``client``)
runs on SQLite, and again on PostgreSQL when ROOST_TEST_DATABASE_URL names a
server (a fresh database is created for the run and dropped at the end). With
ROOST_REQUIRE_BACKENDS=1 (set by .ci/run) a missing backend fails the run
instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from roost.app import create_app
from roost.config import Settings, load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.domain.accounts import passwords
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.domain.roles.actions import do_restore_built_in_roles
from roost.keys import ring
from roost.process import prepare_process
from tests.s3_server import s3_bucket, s3_server

# Fixtures defined elsewhere, registered once for every test that takes them.
__all__ = ["s3_bucket", "s3_server"]

# The suite's own health: its collected count and its slow and flaky tests.
pytest_plugins = ["tests.suite_health"]

T = TypeVar("T")

passwords.use_fast_hashing_for_tests()

SHARED = Path(__file__).resolve().parents[2] / "shared"
PG_URL = os.environ.get("ROOST_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("ROOST_TEST_REDIS_URL", "")
REQUIRE_BACKENDS = os.environ.get("ROOST_REQUIRE_BACKENDS") == "1"

# Tests make many requests from one client: API rate limits are generous
# unless a test sets its own (tests/api/test_rate_limits.py).
GENEROUS_LIMITS: dict[str, Any] = {
    "rate_limit_requests": 10_000_000,
    "rate_limit_address_requests": 10_000_000,
    "rate_limit_media": 1_000_000,
    "rate_limit_deletes": 1_000_000,
    "rate_limit_follows": 1_000_000,
    "rate_limit_sign_ups": 1_000_000,
}

for _name in list(os.environ):
    # The developer's own ROOST_* settings must not leak into tests.
    if _name.startswith("ROOST_") and not _name.startswith(
        ("ROOST_TEST_", "ROOST_REQUIRE", "ROOST_SCREENSHOTS_DIR")
    ):
        del os.environ[_name]


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_BACKENDS:
        pytest.fail(f"{reason}, and ROOST_REQUIRE_BACKENDS=1 demands every backend")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time is slow)."""
    directory = tmp_path_factory.mktemp("template")
    settings = load_settings(data_dir=directory, secret_key="t" * 40)

    async def migrate() -> None:
        db = Database(settings)
        await upgrade(db)
        await db.dispose()

    asyncio.run(migrate())
    return directory / "roost.sqlite3"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database made for this run on ROOST_TEST_DATABASE_URL's server, then dropped."""
    if not PG_URL:
        _skip_or_fail("ROOST_TEST_DATABASE_URL is not set")
    import asyncpg

    name = f"roost_test_{secrets.token_hex(4)}"
    admin_url = PG_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    url = f"{base}/{name}"
    settings = load_settings(database_url=url, secret_key="t" * 40)

    async def migrate() -> None:
        db = Database(settings)
        await upgrade(db)
        await db.dispose()

    asyncio.run(migrate())
    try:
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    """Empty every table, as a fresh migrated database has them.

    DELETE with foreign-key triggers set aside (``session_replication_role``)
    takes some 15 ms on a mostly empty schema; TRUNCATE of every table took
    280 ms, paid by each of the suite's PostgreSQL tests. A server role that
    may not set it (not a superuser) gets TRUNCATE."""
    import asyncpg

    conn = await asyncpg.connect(url)
    # Every table, those made outside the metadata too (the search index,
    # which TRUNCATE ... CASCADE reached through its foreign key and DELETE
    # with triggers set aside does not); not the schema's version.
    names = [
        row[0]
        for row in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename != 'alembic_version'"
        )
    ]
    try:
        async with conn.transaction():
            await conn.execute(
                "SET LOCAL session_replication_role = replica;"
                + "".join(f'DELETE FROM "{name}";' for name in names)
            )
    except asyncpg.InsufficientPrivilegeError:
        async with conn.transaction():
            await conn.execute("TRUNCATE " + ", ".join(f'"{name}"' for name in names) + " CASCADE")
    finally:
        await conn.close()
    db = Database(load_settings(database_url=url, secret_key="t" * 40))
    async with db.write() as tx:
        # What migrations seed, an emptied database needs again.
        await do_restore_built_in_roles(tx)
    await db.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """ROOST_TEST_REDIS_URL, checked to answer. Tests share it through key
    prefixes (``redis_prefix``): each test's keys are its own and only those are
    deleted, so a developer's other data in that Redis is left alone."""
    if not REDIS_URL:
        _skip_or_fail("ROOST_TEST_REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        _skip_or_fail(f"ROOST_TEST_REDIS_URL does not answer ({error})")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix for one test; its keys are deleted afterwards."""
    import redis

    prefix = f"roost-test-{secrets.token_hex(4)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    overrides: dict[str, Any] = {**GENEROUS_LIMITS, **(getattr(request, "param", {}) or {})}
    marker = request.node.get_closest_marker("settings")
    if marker is not None:
        overrides = {**overrides, **marker.kwargs}
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        shutil.copy(template, data_dir / "roost.sqlite3")
        return _prepared(load_settings(data_dir=data_dir, secret_key="s" * 40, **overrides))
    url = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    # The key store's rows were just deleted but its location is unchanged,
    # so installing it again is a no-op and this process would go on sealing
    # with keys cached from the previous test (for up to ring.TTL_S), which
    # the emptied store no longer holds: a value sealed so opens nowhere else.
    ring.forget_all()
    if REDIS_URL or REQUIRE_BACKENDS:
        # The scaled stack: PostgreSQL with Redis, so every test also runs
        # against the Redis timeline store and rate limiter.
        overrides = {
            "redis_url": request.getfixturevalue("redis_url"),
            "redis_prefix": request.getfixturevalue("redis_prefix"),
            **overrides,
        }
    return _prepared(
        load_settings(data_dir=data_dir, database_url=url, secret_key="s" * 40, **overrides)
    )


def _prepared(settings: Settings) -> Settings:
    """The test's settings, with this process prepared for them (its key store,
    its media URL key), as every entry point of Roost does."""
    prepare_process(settings)
    return settings


@dataclass
class Roost:
    """A running app in a test, with helpers that act through the real actions."""

    client: TestClient
    settings: Settings

    def run(self, body: Callable[[], Awaitable[T]]) -> T:
        """Run async code on the app's own event loop."""
        portal = self.client.portal
        assert portal is not None
        return portal.call(body)

    @property
    def db(self) -> Database:
        db: Database = self.client.app.state.services.db  # type: ignore[attr-defined]
        return db

    def drain_jobs(self) -> None:
        runner = self.client.app.state.job_runner  # type: ignore[attr-defined]
        self.run(runner.drain)

    def account(
        self,
        username: str,
        *,
        locked: bool = False,
        admin: bool = False,
        scopes: str = "read write follow push",
    ) -> User:
        async def create() -> tuple[int, str]:
            async with self.db.write() as tx:
                account_id = await do_create_account(
                    tx,
                    NewAccount(
                        username=username,
                        email=f"{username}@example.org",
                        password="correct horse battery",
                        locked=locked,
                        admin=admin,
                    ),
                )
                issued = await do_issue_token(tx, account_id, None, parse_scopes(scopes))
            return account_id, issued.token

        account_id, token = self.run(create)
        return User(self, username, str(account_id), token)


@dataclass
class User:
    roost: Roost
    username: str
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.roost.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.roost.client.post(path, headers=self.headers, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.roost.client.put(path, headers=self.headers, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.roost.client.patch(path, headers=self.headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.roost.client.delete(path, headers=self.headers, **kwargs)

    def post_status(self, text: str, **fields: Any) -> dict[str, Any]:
        response = self.post("/api/v1/statuses", json={"status": text, **fields})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def follow(self, other: User) -> dict[str, Any]:
        response = self.post(f"/api/v1/accounts/{other.id}/follow")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def roost(settings: Settings) -> Iterator[Roost]:
    # Jobs run when a test drains them, so each test sees a known state.
    test_settings = settings.model_copy(update={"run_jobs_in_process": False})
    app = create_app(test_settings)
    with TestClient(app) as client:
        yield Roost(client, test_settings)


@pytest.fixture
def client(roost: Roost) -> TestClient:
    return roost.client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**overrides): Roost settings for this test")


# Tests whose figures a neighbour's load would skew (latency, throughput,
# timeouts measured against a clock), and the browser tests (one Chromium at a
# time): under pytest-xdist (scripts/test) they share one group and so run one
# after another on one process, never two at once.
ONE_AT_A_TIME = (
    "tests/drills/",
    "tests/web/browser/",
    "tests/streaming/test_heartbeat.py",
    "tests/importers/test_api.py",
    "tests/api/test_schemathesis.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(ONE_AT_A_TIME):
            item.add_marker(pytest.mark.xdist_group("one-at-a-time"))
