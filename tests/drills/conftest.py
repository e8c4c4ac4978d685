"""The scaled stack for drills: PostgreSQL + Redis, real worker processes.

``stack`` gives settings for a fresh PostgreSQL database and a private Redis
key prefix, an in-process app for setting up data through the real actions,
and helpers to start ``roost worker`` / ``roost serve`` subprocesses on the same
settings. Every process a drill starts is stopped (by its own pid) at the end.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roost.config import Settings, load_settings
from roost.db.engine import Database
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.graph.actions import do_follow
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.domain.statuses.actions import NewStatus, do_create_status
from roost.domain.types import Page, Viewer
from roost.services import Services
from tests.conftest import _truncate
from tests.drills.support import ROOST, free_port, roost_env, wait_for


def viewer(account_id: int) -> Viewer:
    return Viewer(account_id=account_id, scopes=frozenset({"read", "write"}))


@dataclass
class Stack:
    settings: Settings
    client: TestClient
    tmp: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def services(self) -> Services:
        svc: Services = self.client.app.state.services  # type: ignore[attr-defined]
        return svc

    @property
    def db(self) -> Database:
        return self.services.db

    def run(self, body: Any) -> Any:
        portal = self.client.portal
        assert portal is not None
        return portal.call(body)

    def env(self, **extra: str) -> dict[str, str]:
        s = self.settings
        base = {
            "data_dir": str(s.data_dir),
            "database_url": s.database_url,
            "redis_url": s.redis_url,
            "redis_prefix": s.redis_prefix,
            "secret_key": s.secret_key,
            "run_jobs_in_process": "false",
        }
        return roost_env(**{**base, **extra})

    def start(self, *args: str, log: str, **extra: str) -> subprocess.Popen[bytes]:
        with (self.tmp / log).open("ab") as out:
            process = subprocess.Popen(
                [str(ROOST), *args], env=self.env(**extra), stdout=out, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process

    def worker(self, name: str, **extra: str) -> subprocess.Popen[bytes]:
        return self.start("worker", "--concurrency", "2", log=f"{name}.log", **extra)

    def server(self, name: str, **extra: str) -> tuple[subprocess.Popen[bytes], str]:
        import httpx

        port = free_port()
        process = self.start(
            "serve", "--port", str(port), "--log-level", "warning", log=f"{name}.log", **extra
        )
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(url + "/livez", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 30, f"roost serve on {url}")
        return process, url

    def drain_jobs(self) -> None:
        """Run every due job in this process (setting the scene before a drill)."""
        runner = self.client.app.state.job_runner  # type: ignore[attr-defined]
        self.run(runner.drain)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    # -- data, through the real actions ------------------------------------

    def accounts(self, prefix: str, count: int) -> list[int]:
        async def create() -> list[int]:
            ids = []
            async with self.db.write() as tx:
                for n in range(count):
                    ids.append(
                        await do_create_account(
                            tx,
                            NewAccount(
                                username=f"{prefix}{n}",
                                email=f"{prefix}{n}@example.org",
                                password="correct horse battery",
                            ),
                        )
                    )
            return ids

        result: list[int] = self.run(create)
        return result

    def follow(self, followers: list[int], target: int) -> None:
        async def follow_all() -> None:
            async with self.db.write() as tx:
                for follower in followers:
                    await do_follow(tx, viewer(follower), target)

        self.run(follow_all)

    def token(self, account_id: int) -> str:
        async def issue() -> str:
            async with self.db.write() as tx:
                issued = await do_issue_token(
                    tx, account_id, None, parse_scopes("read write follow")
                )
            return issued.token

        result: str = self.run(issue)
        return result

    def post(self, author: int, text: str) -> int:
        async def create() -> int:
            async with self.db.write() as tx:
                return await do_create_status(
                    tx,
                    viewer(author),
                    NewStatus(text=text),
                    base_url=self.settings.base_url,
                    max_chars=self.settings.max_post_chars,
                )

        result: int = self.run(create)
        return result

    def read_home(self, account_id: int, limit: int = 40) -> list[int]:
        """Read a home timeline in-process (which also makes the account active)."""

        async def read() -> list[int]:
            async with self.db.scope() as reads:
                views = await self.services.timelines.home(
                    reads, viewer(account_id), Page(limit=limit)
                )
            return [v.value.status.id for v in views]

        result: list[int] = self.run(read)
        return result


@pytest.fixture
def stack(postgres_url: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[Stack]:
    from roost.app import create_app

    asyncio.run(_truncate(postgres_url))
    data_dir = tmp_path / "data"
    settings = load_settings(
        data_dir=data_dir,
        database_url=postgres_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        secret_key="d" * 40,
        run_jobs_in_process=False,
    )
    with TestClient(create_app(settings)) as client:
        stack = Stack(settings, client, tmp_path)
        try:
            yield stack
        finally:
            for process in stack.processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
