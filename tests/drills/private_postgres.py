"""A PostgreSQL cluster of the drill's own, and a streaming replica of it.

Debian's binaries (/usr/lib/postgresql/<version>/bin): ``initdb`` a cluster on
a free port in a fresh directory, ``pg_basebackup -R`` a standby that streams
from it, ``pg_ctl promote`` to make the standby a writable copy. PostgreSQL
refuses to run as root, so as root every command runs as the ``postgres``
user (``runuser``) in a directory that user owns. Every server started here
is stopped by ``stop_all`` (``pg_ctl stop`` on its own data directory).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_BACKENDS
from tests.drills.support import free_port


def _bin_dir() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


class PrivatePostgres:
    def __init__(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            message = "Debian's PostgreSQL binaries (/usr/lib/postgresql/*/bin) are not installed"
            if REQUIRE_BACKENDS:
                pytest.fail(message)
            pytest.skip(message)
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="roost-pg-drill-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.started: list[Path] = []

    def run(self, tool: str, *args: str) -> str:
        done = subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.root,
        )
        assert done.returncode == 0, f"{tool} {args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def _start(self, data: Path, port: int) -> None:
        self.run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(self.root / f"{data.name}.log"),
            "-o",
            f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
        )
        self.started.append(data)

    def primary(self) -> int:
        """initdb and start a primary; returns its port."""
        data = self.root / "primary"
        self.run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\n")
        port = free_port()
        self._start(data, port)
        return port

    def replica(self, primary_port: int) -> int:
        """A streaming standby of the primary (pg_basebackup -R); returns its port."""
        data = self.root / "replica"
        self.run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary_port),
            "-U",
            "postgres",
            "-D",
            str(data),
            "-R",
            "-X",
            "stream",
            # A checkpoint at once: the default waits for a spread one, which
            # on a busy machine outlasted the two minutes allowed.
            "-c",
            "fast",
        )
        port = free_port()
        self._start(data, port)
        return port

    def promote(self) -> None:
        self.run("pg_ctl", "-D", str(self.root / "replica"), "-w", "promote")

    def stop_all(self) -> None:
        for data in reversed(self.started):
            subprocess.run(
                [
                    *self.as_user,
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
        self.started.clear()
        shutil.rmtree(self.root, ignore_errors=True)
