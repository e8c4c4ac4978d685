"""Starting ``roost serve`` as a child process and knowing when it answers.

The benchmarks measure the server as an operator runs it: its own process, the
embedded default (SQLite in a data directory), one event loop, loopback only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
ROOST = Path(sys.executable).with_name("roost")
# For measuring what a process can do: admission control off, so that a load
# beyond the knee is queued and timed, not refused (bench.overload measures
# admission control itself).
CAPACITY = {"max_queue_ms": "0", "max_in_flight": "0"}


def machine() -> str:
    """Cores and load average: other work on the machine skews every figure."""
    cores = os.cpu_count() or 0
    try:
        load = "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "load average unknown"
    return f"machine: {cores} cores, {load}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without its ROOST_* settings, pointed at ``data_dir``,
    plus ``settings`` (``max_queue_ms="0"`` sets ROOST_MAX_QUEUE_MS).

    A developer's ROOST_DATABASE_URL must not turn the embedded benchmark into a
    PostgreSQL one.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env["ROOST_DATA_DIR"] = str(data_dir)
    env["ROOST_DOMAIN"] = "localhost"
    # Load generators send from one address: API rate limits stay out of the
    # way (bench/ratelimit_overhead.py sets real ones).
    env["ROOST_RATE_LIMIT_REQUESTS"] = "10000000"
    env["ROOST_RATE_LIMIT_ADDRESS_REQUESTS"] = "10000000"
    env["ROOST_RATE_LIMIT_MEDIA"] = "1000000"
    env["ROOST_RATE_LIMIT_DELETES"] = "1000000"
    env["ROOST_RATE_LIMIT_FOLLOWS"] = "1000000"
    env["ROOST_RATE_LIMIT_SIGN_UPS"] = "1000000"
    env.update({f"ROOST_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


def launch(data_dir: Path, port: int, log_path: Path, **settings: str) -> subprocess.Popen[bytes]:
    """Start ``roost serve`` (access log off: its cost is not what is measured)."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [str(ROOST), "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"],
            env=server_env(data_dir, **settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def answers(port: int, path: str = "/livez", timeout: float = 1.0) -> bool:
    """True once ``GET path`` answers 200 on a fresh connection."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as conn:
            conn.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
            )
            head = conn.recv(64)
    except OSError:
        return False
    return head.startswith(b"HTTP/1.1 200")


def wait_until_answering(
    process: subprocess.Popen[bytes], port: int, *, limit_s: float = 30.0, poll_s: float = 0.005
) -> float:
    """Seconds until the server first answers; raises if it exits or takes too long."""
    started = time.perf_counter()
    while True:
        if answers(port, timeout=0.5):
            return time.perf_counter() - started
        if process.poll() is not None:
            raise RuntimeError(f"roost serve exited with status {process.returncode}")
        if time.perf_counter() - started > limit_s:
            raise RuntimeError(f"roost serve did not answer within {limit_s:.0f}s")
        time.sleep(poll_s)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (graceful), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def running(data_dir: Path, **settings: str) -> Iterator[Server]:
    """A started server that answers /livez; stopped on the way out."""
    port = free_port()
    log_path = data_dir / "serve.log"
    process = launch(data_dir, port, log_path, **settings)
    try:
        wait_until_answering(process, port)
        yield Server(process, port, log_path)
    except BaseException:
        sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
        raise
    finally:
        stop(process)
