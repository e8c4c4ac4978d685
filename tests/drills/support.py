"""Real processes for drills: a private redis-server, roost servers and workers.

Everything here starts processes on free loopback ports in the test's own
temporary directory and stops exactly the processes it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
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


class FaultyProxy:
    """A TCP proxy in front of PostgreSQL that a drill can break on cue.

    ``cut_before(marker)``: the next time a client sends bytes containing
    ``marker`` (say ``b"COMMIT"``), those bytes are dropped and the connection
    is closed both ways, as when a network link dies at that very moment.
    ``refuse()`` closes every connection and turns new ones away until
    ``restore()``.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._marker: bytes | None = None
        self._refusing = False
        self.cuts = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_before(self, marker: bytes) -> None:
        with self._lock:
            self._marker = marker

    def refuse(self) -> None:
        with self._lock:
            self._refusing = True
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            self._close(pair)

    def restore(self) -> None:
        with self._lock:
            self._refusing = False

    def close(self) -> None:
        self._closed = True
        self.refuse()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refusing = self._refusing
            if refusing:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            pair = (client, upstream)
            with self._lock:
                self._pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, False), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket], outbound: bool) -> None:
        source, target = pair if outbound else (pair[1], pair[0])
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                break
            if not data:
                break
            if outbound:
                with self._lock:
                    marker = self._marker
                    hit = marker is not None and marker in data
                    if hit:
                        self._marker = None
                        self.cuts += 1
                if hit:
                    break
            try:
                target.sendall(data)
            except OSError:
                break
        self._close(pair)

    @staticmethod
    def _close(pair: tuple[socket.socket, socket.socket]) -> None:
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
