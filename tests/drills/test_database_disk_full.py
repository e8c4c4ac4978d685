"""Drill (threats 1, 11): the DATABASE's volume fills up.

SQLite: a real ``roost serve`` whose data directory is a small tmpfs, mounted
in a mount namespace of its own (so nothing outside the drill sees it, and it
goes away with the drill's processes), filled with a real file until the
volume is full. Once with ``ROOST_DB_MIN_FREE_MB`` set (writes are refused
before they start) and once with it off (SQLite itself answers "database or
disk is full"). Either way: a write answers 507 saying the disk is full,
reads still work, /readyz names the database as not writable, `roost doctor`
(the installed command, in the same namespace) exits 1 naming the database's
volume; once the file is removed writes work again, and nothing was
half-written.

PostgreSQL: a tablespace on a 1 MiB tmpfs, the posts table moved into it and
the rest of it filled: PostgreSQL itself refuses to extend the table
("could not extend file ...: No space left on device", SQLSTATE 53100), and
the same answers follow.

Mounting needs root (CAP_SYS_ADMIN); elsewhere these drills are skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from fastapi.testclient import TestClient

from roost.app import create_app
from roost.config import load_settings
from tests.conftest import Roost, _truncate
from tests.drills.support import ROOST, free_port, roost_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

MIB = 2**20
FULL_MESSAGE = "The server's disk is full"


def _need_mounts() -> None:
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("nsenter")):
        pytest.skip("filling a real volume needs root to mount a small tmpfs")


@dataclass
class Namespace:
    """A private mount namespace holding a small tmpfs at ``mount``."""

    holder: subprocess.Popen[bytes]
    mount: Path

    def command(self, *args: str) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--", *args]

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), env=env, capture_output=True, text=True, timeout=120
        )

    def fill(self, name: str, leave: int) -> None:
        """Fill the volume with a real file, leaving ``leave`` bytes (0: every last one)."""
        script = (
            "import os, sys\n"
            "path, leave = sys.argv[1], int(sys.argv[2])\n"
            "s = os.statvfs(os.path.dirname(path))\n"
            "size = s.f_bavail * s.f_frsize - max(leave, 2**20)\n"
            "fd = os.open(path, os.O_WRONLY | os.O_CREAT)\n"
            "os.posix_fallocate(fd, 0, size)\n"
            "if leave == 0:\n"
            "    os.lseek(fd, 0, os.SEEK_END)\n"
            "    for block in (4096, 512, 1):\n"
            "        try:\n"
            "            while True:\n"
            "                os.write(fd, b'\\0' * block)\n"
            "        except OSError:\n"
            "            pass\n"
            "os.close(fd)\n"
        )
        done = self.run(sys.executable, "-c", script, str(self.mount / name), str(leave))
        assert done.returncode == 0, done.stderr

    def remove(self, name: str) -> None:
        done = self.run("rm", "-f", str(self.mount / name))
        assert done.returncode == 0, done.stderr


@pytest.fixture
def namespace(tmp_path: Path) -> Iterator[Namespace]:
    _need_mounts()
    mount = tmp_path / "volume"
    mount.mkdir()
    holder = subprocess.Popen(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount -t tmpfs -o size=48m tmpfs "$0" && echo mounted && exec sleep 3600',
            str(mount),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        if holder.stdout.readline().strip() != b"mounted":
            holder.wait(timeout=10)
            assert holder.stderr is not None
            pytest.skip(f"cannot mount a tmpfs here: {holder.stderr.read().decode().strip()}")
        yield Namespace(holder, mount)
    finally:
        holder.kill()
        holder.wait(timeout=10)
        for pipe in (holder.stdout, holder.stderr):
            if pipe is not None:
                pipe.close()


@dataclass
class Server:
    url: str
    env: dict[str, str]
    space: Namespace
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post(self, text: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/v1/statuses", json={"status": text}, headers=self.headers, timeout=30
        )

    def doctor(self) -> tuple[int, dict[str, Any]]:
        done = self.space.run(str(ROOST), "doctor", "--json", env=self.env)
        return done.returncode, json.loads(done.stdout)


def _sign_up(url: str) -> str:
    app = httpx.post(
        f"{url}/api/v1/apps",
        json={
            "client_name": "drill",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        },
    ).json()
    app_token = httpx.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write",
        },
    ).json()["access_token"]
    signed_up = httpx.post(
        f"{url}/api/v1/accounts",
        headers={"Authorization": f"Bearer {app_token}"},
        json={
            "username": "writer",
            "email": "writer@example.org",
            "password": "long enough password",
            "agreement": True,
        },
    )
    assert signed_up.status_code == 200, signed_up.text
    token: str = signed_up.json()["access_token"]
    return token


@pytest.fixture
def server(
    namespace: Namespace, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """``roost serve`` on the small volume; ``request.param`` is ROOST_DB_MIN_FREE_MB."""
    port = free_port()
    env = roost_env(
        data_dir=str(namespace.mount / "data"),
        domain=f"127.0.0.1:{port}",
        secret_key="f" * 40,
        registrations="open",
        db_min_free_mb=str(request.param),
        media_min_free_mb="0",
        media_min_free_percent="0",
    )
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            namespace.command(str(ROOST), "serve", "--port", str(port), "--log-level", "warning"),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/livez", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 60, f"roost serve on {url}")
        token = _sign_up(url)
        # Sign-up waits for the e-mail address to be confirmed; the operator does it.
        confirmed = namespace.run(str(ROOST), "accounts", "confirm", "writer", env=env)
        assert confirmed.returncode == 0, confirmed.stderr
        yield Server(url, env, namespace, token)
    finally:
        process.kill()  # nsenter execs roost: this pid is the server itself
        process.wait(timeout=10)


def _ready(url: str) -> httpx.Response:
    return httpx.get(f"{url}/readyz", timeout=10)


def _posted(server: Server) -> list[str]:
    me = httpx.get(
        f"{server.url}/api/v1/accounts/verify_credentials", headers=server.headers
    ).json()
    listed = httpx.get(
        f"{server.url}/api/v1/accounts/{me['id']}/statuses",
        params={"limit": 40},
        headers=server.headers,
    ).json()
    texts = [s["content"] for s in listed]
    assert me["statuses_count"] == len(texts), "the account's count and its posts disagree"
    return texts


def _integrity(server: Server) -> str:
    database = server.space.mount / "data" / "roost.sqlite3"
    done = server.space.run(
        sys.executable,
        "-c",
        "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
        "'PRAGMA integrity_check').fetchone()[0])",
        str(database),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("server", "floor_mb"),
    [(8, 8), (0, 0)],
    ids=["under-the-floor", "sqlite-says-full"],
    indirect=["server"],
)
def test_given_the_database_volume_full_then_writes_507_reads_work_and_readyz_and_doctor_say_so(
    server: Server, floor_mb: int
) -> None:
    space = server.space
    before = server.post("written while there was room")
    assert before.status_code == 200, before.text
    assert _ready(server.url).status_code == 200
    _, report = server.doctor()
    assert _check(report, "free space")["status"] == "ok"

    # Full: under the floor (2 MiB left of an 8 MiB floor), or to the last byte.
    space.fill("filler.bin", leave=2 * MIB if floor_mb else 0)
    refused = None
    for n in range(300):
        # With no floor, the first writes may still fit in pages the database
        # already has; the first one that needs more is refused.
        text = f"attempt {n} on a full disk " + "x" * 400
        attempt = server.post(text)
        if attempt.status_code != 200:
            refused = attempt
            break
    assert refused is not None, "no write was refused on a full volume"
    assert refused.status_code == 507, refused.text
    assert refused.json()["error"].startswith(FULL_MESSAGE)
    assert refused.headers["Retry-After"]

    read = httpx.get(f"{server.url}/api/v1/statuses/{before.json()['id']}")
    assert read.status_code == 200 and "room" in read.json()["content"]
    assert httpx.get(f"{server.url}/api/v1/timelines/public").status_code == 200

    ready = _ready(server.url)
    assert ready.status_code == 503
    body = ready.json()
    assert body["failed"] == ["database"]
    database = body["checks"]["database"]
    assert database["readable"] is True and database["writable"] is False
    assert "disk is full" in database["error"]

    code, report = server.doctor()
    assert code == 1
    free_space = _check(report, "free space")
    assert free_space["status"] == "fail"
    assert "database's volume is full" in free_space["detail"]

    space.remove("filler.bin")
    again = server.post("written once space was freed")
    assert again.status_code == 200, again.text
    assert _ready(server.url).status_code == 200
    texts = _posted(server)
    assert not any(f"attempt {n} on a full disk" in t for t in texts), "a refused post was written"
    assert _integrity(server) == "ok"


def _check(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["name"] == name)
    return found


# --- PostgreSQL: a tablespace on a volume of 1 MiB -------------------------


@pytest.fixture
def small_tablespace(postgres_url: str) -> Iterator[str]:
    """A tablespace on a 1 MiB tmpfs, mounted where the PostgreSQL server (on
    this machine) can reach it; dropped and unmounted afterwards."""
    _need_mounts()
    host = urlsplit(postgres_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        pytest.skip("the PostgreSQL server must run on this machine to use a local volume")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres system user to own the tablespace's directory")
    directory = Path(tempfile.mkdtemp(prefix="roost-pg-full-", dir="/tmp"))
    mounted = subprocess.run(
        [
            "mount",
            "-t",
            "tmpfs",
            "-o",
            f"size=1m,uid={owner.pw_uid},gid={owner.pw_gid},mode=0700",
            "tmpfs",
            str(directory),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        directory.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    name = f"roost_full_{secrets.token_hex(4)}"
    try:
        asyncio.run(_admin(postgres_url, f"CREATE TABLESPACE {name} LOCATION '{directory}'"))
        yield name
    finally:
        asyncio.run(_admin(postgres_url, f"DROP TABLESPACE IF EXISTS {name}"))
        subprocess.run(["umount", "-l", str(directory)], check=False)
        directory.rmdir()


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _fill(url: str, tablespace: str) -> None:
    """Fill the tablespace until PostgreSQL refuses for want of space."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE TABLE drill_filler (x text) TABLESPACE {tablespace}")
        with pytest.raises(asyncpg.exceptions.DiskFullError):
            for _ in range(1000):
                await conn.execute(
                    "INSERT INTO drill_filler SELECT string_agg(md5(random()::text), '') "
                    "FROM generate_series(1, 64) GROUP BY 1 = 1"
                )
    finally:
        await conn.close()


def test_given_postgresql_out_of_room_then_writes_507_whole_and_readyz_says_so(
    postgres_url: str, small_tablespace: str, tmp_path: Path
) -> None:
    """The outbox table, written last in every post's transaction, is moved to
    the full tablespace: PostgreSQL itself refuses to extend it, so the whole
    post (its row, its author's count) must be rolled back."""
    asyncio.run(_truncate(postgres_url))
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=postgres_url,
        secret_key="p" * 40,
        run_jobs_in_process=False,
    )
    with TestClient(create_app(settings)) as client:
        roost = Roost(client, settings)
        alice = roost.account("alice")
        asyncio.run(
            _admin(
                postgres_url,
                f"ALTER TABLE jobs SET TABLESPACE {small_tablespace}",
                "TRUNCATE jobs",
            )
        )
        try:
            asyncio.run(_fill(postgres_url, small_tablespace))

            refused = alice.post("/api/v1/statuses", json={"status": "no room for this"})

            assert refused.status_code == 507, refused.text
            assert refused.json()["error"].startswith(FULL_MESSAGE)
            assert alice.get(f"/api/v1/accounts/{alice.id}").status_code == 200
            assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []
            me = alice.get("/api/v1/accounts/verify_credentials").json()
            assert me["statuses_count"] == 0
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["failed"] == ["database"]
            database = ready.json()["checks"]["database"]
            assert database["writable"] is False and "No space left" in database["error"]

            asyncio.run(_admin(postgres_url, "DROP TABLE drill_filler"))
            again = alice.post("/api/v1/statuses", json={"status": "room again"})
            assert again.status_code == 200, again.text
            assert client.get("/readyz").json()["checks"]["database"]["writable"] is True
        finally:
            asyncio.run(
                _admin(
                    postgres_url,
                    "DROP TABLE IF EXISTS drill_filler",
                    "ALTER TABLE jobs SET TABLESPACE pg_default",
                )
            )
