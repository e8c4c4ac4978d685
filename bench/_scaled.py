"""The scaled stack for benchmarks: a fresh PostgreSQL database, a private Redis,
and ``roost serve`` / ``roost worker`` processes on them.

    ROOST_BENCH_DATABASE_URL   the PostgreSQL server to make the database on
                               (default postgresql://postgres@127.0.0.1:5432/postgres)

The database is created for the run and dropped afterwards; the redis-server
is started on a free port with no persistence and stopped afterwards, so a
benchmark that flushes it disturbs nothing else. ``kept(where)`` instead keeps
both: the database is named in ``where/stack.json`` and left in place, and
Redis saves its data under ``where/redis`` when stopped and loads it when
started again (``bench.growth --scaled --keep``, ``bench.explain --scaled``).

Accounts that only follow (thousands of them) are inserted in bulk with
SQLAlchemy Core, as ``do_create_account`` and ``do_follow`` would leave them
(counters included); accounts that sign in get a real token from the actions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import insert, update

from bench import _server
from roost.clock import utcnow
from roost.config import Settings, load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.db.tables import accounts, follows, statuses
from roost.domain.accounts import passwords
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.domain.types import Visibility
from roost.ids import new_id
from roost.process import prepare_process

ADMIN_URL = os.environ.get(
    "ROOST_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_CHUNK = 5000


@dataclass
class Stack:
    database_url: str
    redis_port: int
    data_dir: Path
    prefix: str = "bench:"
    redis_pid: int = 0

    @property
    def database_name(self) -> str:
        return self.database_url.rpartition("/")[2]

    def backend_cpu_seconds(self) -> dict[int, float]:
        """CPU time so far of the redis-server and of each PostgreSQL backend
        serving this stack's database (by pid: backends come and go)."""
        return {
            pid: _cpu_seconds(pid)
            for pid in [self.redis_pid, *_backends_of(self.database_name)]
            if pid and _cpu_seconds(pid) >= 0
        }

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def settings(self, **extra: Any) -> Settings:
        return load_settings(
            data_dir=self.data_dir,
            database_url=self.database_url,
            redis_url=self.redis_url,
            redis_prefix=self.prefix,
            secret_key="b" * 40,
            **extra,
        )

    def env(self, **extra: str) -> dict[str, str]:
        env = _server.server_env(self.data_dir)
        env.update(
            ROOST_DATABASE_URL=self.database_url,
            ROOST_REDIS_URL=self.redis_url,
            ROOST_REDIS_PREFIX=self.prefix,
            ROOST_SECRET_KEY="b" * 40,
            ROOST_RUN_JOBS_IN_PROCESS="false",
        )
        env.update({f"ROOST_{k.upper()}": v for k, v in extra.items()})
        return env


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def stack() -> Iterator[Stack]:
    with (
        tempfile.TemporaryDirectory(prefix="roost-bench-") as directory,
        _stack(Path(directory)) as built,
    ):
        yield built


@contextlib.contextmanager
def _stack(scratch: Path) -> Iterator[Stack]:
    name = f"roost_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        with _redis(scratch, persist=False) as (port, pid):
            built = _built(name, port, pid, scratch / "data")
            asyncio.run(_migrate(built.settings()))
            yield built
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def kept(where: Path) -> Iterator[tuple[Stack, bool]]:
    """The stack kept in ``where``: made (and migrated) the first time, reused
    after. Yields it and whether it was there already. Dropped by hand:
    ``DROP DATABASE`` the name in ``where/stack.json``, then remove ``where``."""
    described = where / "stack.json"
    again = described.is_file()
    if again:
        name = json.loads(described.read_text())["database"]
    else:
        name = f"roost_bench_kept_{secrets.token_hex(4)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        where.mkdir(parents=True, exist_ok=True)
        described.write_text(json.dumps({"database": name}))
    (where / "redis").mkdir(parents=True, exist_ok=True)
    with _redis(where / "redis", persist=True) as (port, pid):
        built = _built(name, port, pid, where / "data")
        if not again:
            asyncio.run(_migrate(built.settings()))
        yield built, again


def _built(name: str, port: int, redis_pid: int, data_dir: Path) -> Stack:
    base, _, _ = ADMIN_URL.rpartition("/")
    built = Stack(f"{base}/{name}", port, data_dir, redis_pid=redis_pid)
    built.data_dir.mkdir(parents=True, exist_ok=True)
    return built


@contextlib.contextmanager
def _redis(directory: Path, *, persist: bool) -> Iterator[tuple[int, int]]:
    """A private redis-server on a free port: (port, pid). Persisting, it
    loads ``directory/dump.rdb`` on start and writes it when stopped."""
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not on PATH")
    port = _server.free_port()
    # A save point makes SIGTERM write the snapshot; none makes it write none.
    save = "3600 1" if persist else ""
    redis = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", save, "--appendonly", "no", "--dir", str(directory)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _until_redis_answers(port)
        yield port, redis.pid
    finally:
        redis.terminate()
        redis.wait(timeout=120)


def _until_redis_answers(port: int) -> None:
    """Loading a large snapshot takes a while; PING answers LOADING until done."""
    import redis as redis_client

    client = redis_client.Redis(port=port)
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                client.ping()
                return
            except (redis_client.ConnectionError, redis_client.BusyLoadingError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        client.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid``, or -1 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backends_of(database: str) -> list[int]:
    """PostgreSQL backends connected to ``database``, found by their process
    titles ("postgres: 15/main: USER DATABASE HOST(PORT) STATE") on this
    machine."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            found.append(int(entry.name))
    return found


async def _migrate(settings: Settings) -> None:
    db = Database(settings)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


@contextlib.contextmanager
def processes(stack: Stack, *commands: Sequence[str], **env: str) -> Iterator[list[int]]:
    """Start ``roost`` subcommands; for each ``serve`` a port is chosen and
    waited on. Yields the ports (in order of the serve commands)."""
    started: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        for number, command in enumerate(commands):
            args = list(command)
            port = 0
            if args[0] == "serve":
                port = _server.free_port()
                args += ["--host", _server.HOST, "--port", str(port), "--log-level", "warning"]
            elif args[0] == "worker":
                args += ["--log-level", "warning"]
            log = stack.data_dir / f"{args[0]}-{number}.log"
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [str(_server.ROOST), *args],
                    env=stack.env(**env),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            started.append(process)
            if port:
                _server.wait_until_answering(process, port)
                ports.append(port)
        time.sleep(0.5)  # workers: past their start-up, waiting for jobs
        yield ports
    finally:
        for process in started:
            _server.stop(process)


@contextlib.contextmanager
def serving(stack: Stack, *, counting: bool = False) -> Iterator[tuple[int, list[int]]]:
    """One ``roost serve`` and one ``roost worker`` on ``stack``, at the
    capacity benchmarks use: yields the server's port and both pids.
    ``counting``: the server counts its round trips (bench/_counting.py)."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        port = _server.free_port()
        env = stack.env(**_server.CAPACITY)
        env["ROOST_DOMAIN"] = "localhost"
        for args in (
            ["serve", "--host", _server.HOST, "--port", str(port), "--log-level", "warning"],
            ["worker", "--log-level", "warning"],
        ):
            program = [str(_server.ROOST)]
            if counting and args[0] == "serve":
                program = [sys.executable, "-m", "bench._counting"]
            with (stack.data_dir / f"{args[0]}.log").open("ab") as out:
                started.append(
                    subprocess.Popen(
                        [*program, *args],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
        _server.wait_until_answering(started[0], port)
        time.sleep(0.5)  # the worker: past its start-up, waiting for jobs
        yield port, [p.pid for p in started]
    finally:
        for process in started:
            _server.stop(process)


# -- seeding -----------------------------------------------------------------


def run(settings: Settings, body: Any) -> Any:
    prepare_process(settings)

    async def main() -> Any:
        db = Database(settings)
        try:
            return await body(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


async def signed_in(db: Database, name: str) -> tuple[int, str]:
    """An account with a user and a token, made by the actions."""
    passwords.use_fast_hashing_for_tests()
    async with db.write() as tx:
        account_id = await do_create_account(
            tx, NewAccount(name, f"{name}@example.org", "a long enough password")
        )
        issued = await do_issue_token(tx, account_id, None, parse_scopes("read write follow"))
    return account_id, issued.token


async def bulk_accounts(db: Database, prefix: str, count: int) -> list[int]:
    now = utcnow()
    ids: list[int] = []
    for start in range(0, count, _CHUNK):
        rows = []
        for n in range(start, min(count, start + _CHUNK)):
            account_id = new_id()
            ids.append(account_id)
            rows.append(
                {
                    "id": account_id,
                    "username": f"{prefix}{n}",
                    "username_key": f"{prefix}{n}".lower(),
                    "created_at": now,
                }
            )
        async with db.write() as tx:
            await tx.execute(insert(accounts), rows)
    return ids


async def bulk_follow(db: Database, followers: Sequence[int], target: int) -> None:
    now = utcnow()
    for start in range(0, len(followers), _CHUNK):
        chunk = followers[start : start + _CHUNK]
        async with db.write() as tx:
            await tx.execute(
                insert(follows),
                [
                    {
                        "id": new_id(),
                        "account_id": follower,
                        "target_account_id": target,
                        "created_at": now,
                    }
                    for follower in chunk
                ],
            )
            await tx.execute(
                update(accounts)
                .where(accounts.c.id.in_(chunk))
                .values(following_count=accounts.c.following_count + 1)
            )
    async with db.write() as tx:
        await tx.execute(
            update(accounts)
            .where(accounts.c.id == target)
            .values(followers_count=accounts.c.followers_count + len(followers))
        )


async def bulk_posts(db: Database, authors: Sequence[int], count: int) -> list[int]:
    """Plain public posts, oldest first, spread over the authors."""
    now = utcnow()
    ids: list[int] = []
    rows = []
    for n in range(count):
        status_id = new_id()
        ids.append(status_id)
        text = f"post number {n} about the weather and the garden"
        rows.append(
            {
                "id": status_id,
                "account_id": authors[n % len(authors)],
                "visibility": int(Visibility.PUBLIC),
                "text": text,
                "content": f"<p>{text}</p>",
                "language": "en",
                "created_at": now,
            }
        )
    for start in range(0, len(rows), _CHUNK):
        async with db.write() as tx:
            await tx.execute(insert(statuses), rows[start : start + _CHUNK])
    return ids
