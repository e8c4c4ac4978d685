"""Real processes for drills: a private redis-server, roost servers and workers.

Everything here starts processes on free loopback ports in the test's own
temporary directory and stops exactly the processes it started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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
    env.update(GENEROUS_LIMITS)
    env.update({f"ROOST_{k.upper()}": v for k, v in settings.items()})
    return env


# Drills send many requests from one address: API rate limits are generous
# unless a drill sets its own (test_floods.py).
GENEROUS_LIMITS = {
    "ROOST_RATE_LIMIT_REQUESTS": "10000000",
    "ROOST_RATE_LIMIT_ADDRESS_REQUESTS": "10000000",
    "ROOST_RATE_LIMIT_MEDIA": "1000000",
    "ROOST_RATE_LIMIT_DELETES": "1000000",
    "ROOST_RATE_LIMIT_FOLLOWS": "1000000",
    "ROOST_RATE_LIMIT_SIGN_UPS": "1000000",
}


class FaultyProxy:
    """A TCP proxy in front of PostgreSQL that a drill can break on cue.

    ``cut_before(marker)``: the next time a client sends bytes containing
    ``marker`` (say ``b"COMMIT"``), those bytes are dropped and the connection
    is closed both ways, as when a network link dies at that very moment.
    ``refuse()`` closes every connection and turns new ones away until
    ``restore()``. ``freeze()`` keeps every connection open but carries
    nothing more either way, as a link that died without a word (a cut cable,
    a NAT that forgot the flow): only a heartbeat that stops arriving tells.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._marker: bytes | None = None
        self._refusing = False
        self._frozen = False
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

    def freeze(self) -> None:
        with self._lock:
            self._frozen = True

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
            with self._lock:
                frozen = self._frozen
            if frozen:
                continue  # swallowed: neither end hears anything again
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


class ServerProcess:
    """``roost serve`` as a subprocess on a free loopback port, its output kept
    in ``log_path``; ``cli`` runs other ``roost`` commands on the same settings."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        log_level: str = "info",
        port: int | None = None,
    ) -> None:
        self.env = env
        self.log_path = log_path
        # A port chosen beforehand: a server that must know its own address
        # (ROOST_DOMAIN=127.0.0.1:PORT, as federating ones do).
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [str(ROOST), "serve", "--port", str(self.port), "--log-level", log_level],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(self._live, 30, f"roost serve on {self.url}")
        except AssertionError:
            self.stop()
            raise AssertionError(f"roost serve did not start:\n{self.log()[-4000:]}") from None

    def _live(self) -> bool:
        import httpx

        if self.process.poll() is not None:
            raise AssertionError(f"roost serve exited:\n{self.log()[-4000:]}")
        try:
            return httpx.get(self.url + "/livez", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def cli(self, *args: str) -> str:
        """Run ``roost ARGS`` on this server's settings; its stdout (must succeed)."""
        done = subprocess.run(
            [str(ROOST), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def postgres_bin() -> Path | None:
    """Debian's PostgreSQL server binaries (the newest installed), if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return found[-1].parent if found else None


class PostgresServer:
    """A PostgreSQL cluster of the test's own (initdb on a spare port), so
    stopping it disturbs nobody else. Run as the ``postgres`` user when the
    tests run as root (PostgreSQL refuses to run as root); its directory is
    then outside pytest's private temporary directory; ``remove()`` stops
    it and deletes the directory."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="roost-pg-"))
        self.data = self.directory / "data"
        self._as: dict[str, object] = {}
        if os.geteuid() == 0:
            self._as = {"user": "postgres", "group": "postgres", "extra_groups": []}
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run(
            [
                str(binaries / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            **self._as,  # type: ignore[call-overload]
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        assert self.process is None
        self.process = subprocess.Popen(
            [
                str(self.binaries / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.directory),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **self._as,  # type: ignore[call-overload]
        )
        wait_for(self._answers, 30, "the test's PostgreSQL to answer")

    def _answers(self) -> bool:
        ready = subprocess.run(
            [str(self.binaries / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return ready.returncode == 0

    def stop(self) -> None:
        """A fast shutdown: connections are closed, the port refuses."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
