"""Real processes for drills: a private redis-server, roost servers and workers.

Everything here starts processes on free loopback ports in the test's own
temporary directory and stops exactly the processes it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

ROOST = Path(sys.executable).with_name("roost")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A redis-server of the test's own, so stopping it disturbs nobody else.

    No snapshots or append-only file unless asked: ``stop(save=True)`` writes a
    snapshot that the next ``start()`` loads (a Redis that was away and came
    back with its data); a plain ``stop()`` loses everything (a restart of a
    cache without persistence).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        assert self.process is None
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, 10, "redis-server to answer")

    def _answers(self) -> bool:
        client = self.client()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self, *, save: bool = False) -> None:
        if self.process is None:
            return
        if save:
            client = self.client()
            try:
                client.shutdown(save=True)
            except redis.ConnectionError:
                pass  # the server closes the connection as it exits
            finally:
                client.close()
        else:
            (self.directory / "dump.rdb").unlink(missing_ok=True)
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


def roost_env(**settings: str) -> dict[str, str]:
    """The environment for a roost subprocess: this one's, minus any ROOST_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update({f"ROOST_{k.upper()}": v for k, v in settings.items()})
    return env
