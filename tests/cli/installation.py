"""A Roost installation nothing has touched, driven through the installed `roost`.

Each ``Installation`` is one test's own: a data directory that does not exist
yet and, on PostgreSQL, a database made empty for it. Every command runs as
``<environment>/bin/roost ...`` in a new process whose ROOST_* settings are
exactly the installation's (none of the developer's leak in), as an operator
runs it: the command is the first and only thing its process does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from tests.drills.support import free_port, wait_for

ROOST = Path(sys.executable).with_name("roost")
T = TypeVar("T")


@dataclass(frozen=True)
class Ran:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return (
            f"roost {' '.join(self.args)} -> {self.code}\n--- out\n{self.out}\n--- err\n{self.err}"
        )


class Installation:
    def __init__(self, home: Path, settings: dict[str, str]) -> None:
        self.home = home
        self.data_dir = home / "data"
        self.settings = {"data_dir": str(self.data_dir), **settings}
        self.processes: list[subprocess.Popen[bytes]] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
        env.update({f"ROOST_{k.upper()}": v for k, v in {**self.settings, **extra}.items()})
        return env

    def roost(self, *args: str, expect: int = 0, timeout: float = 180, **extra: str) -> Ran:
        """Run one command to its end; it must exit with ``expect`` and never
        show a traceback."""
        done = subprocess.run(
            [str(ROOST), *args],
            env=self.env(**extra),
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        ran = Ran(args, done.returncode, done.stdout, done.stderr)
        assert "Traceback" not in ran.err, ran
        assert ran.code == expect, ran
        return ran

    def fails(self, *args: str, says: str, **extra: str) -> Ran:
        """Run a command that must refuse: exit 1, one line on stderr naming the
        problem (``says``), nothing on stdout."""
        ran = self.roost(*args, expect=1, **extra)
        lines = ran.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("roost: "), ran
        assert says in lines[0] and not ran.out, ran
        return ran

    def start(self, *args: str, log: str, **extra: str) -> subprocess.Popen[bytes]:
        """Start a long-running command (serve, worker); stopped at the end of the test."""
        with (self.home / log).open("ab") as out:
            process = subprocess.Popen(
                [str(ROOST), *args],
                env=self.env(**extra),
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.home / name).read_text(errors="replace")

    def serve(self, log: str = "serve.log", **extra: str) -> str:
        """Start `roost serve` on a free port; its base URL once /livez answers."""
        port = free_port()
        process = self.start("serve", "--port", str(port), log=log, **extra)
        base = f"http://127.0.0.1:{port}"

        def live() -> bool:
            assert process.poll() is None, self.log(log)
            try:
                return httpx.get(f"{base}/livez", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(live, 60, f"roost serve to answer /livez ({log})")
        return base

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def concurrently(*calls: Callable[[], T]) -> list[T]:
    """Run independent commands at once (each is its own process anyway)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]
