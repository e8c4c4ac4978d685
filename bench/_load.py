"""HTTP load for a fixed time over N keep-alive connections: wrk, or a fallback.

``wrk`` (one thread, so the server keeps the other core) reports through a small
Lua ``done`` hook. Without wrk, a built-in asyncio client with raw sockets does
the same job; being Python, it tops out far below wrk, so on a fast endpoint it
measures itself as much as the server, and the figures say which was used.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_WRK_REPORT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ROOST_BENCH %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # failed connections, reads and timeouts
    bad_status: int  # answers other than 2xx/3xx

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def generator(*, builtin: bool = False) -> str:
    """Which load generator ``measure`` uses here."""
    if shutil.which("wrk") and not builtin:
        return "wrk (1 thread)"
    return "built-in asyncio client (1 process)"


def measure(
    host: str,
    port: int,
    path: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    builtin: bool = False,
) -> LoadResult:
    """Load ``path`` for ``seconds`` over ``connections`` keep-alive connections;
    ``builtin`` uses the asyncio client even where wrk is installed."""
    headers = headers or {}
    if shutil.which("wrk") and not builtin:
        return _wrk(host, port, path, connections, seconds, headers)
    return asyncio.run(_builtin(host, port, path, connections, seconds, headers))


def _wrk(
    host: str, port: int, path: str, connections: int, seconds: float, headers: dict[str, str]
) -> LoadResult:
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "report.lua"
        script.write_text(_WRK_REPORT)
        command = [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(connections),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--script",
            str(script),
        ]
        for name, value in headers.items():
            command += ["--header", f"{name}: {value}"]
        command.append(f"http://{host}:{port}{path}")
        done = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 30
        )
    for line in done.stdout.splitlines():
        if line.startswith("ROOST_BENCH "):
            requests, duration_us, p50_us, p99_us, errors, bad = map(int, line.split()[1:])
            return LoadResult(requests, duration_us / 1e6, p50_us / 1e3, p99_us / 1e3, errors, bad)
    raise RuntimeError(f"wrk gave no report:\n{done.stdout}\n{done.stderr}")


async def _builtin(
    host: str, port: int, path: str, connections: int, seconds: float, headers: dict[str, str]
) -> LoadResult:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode("latin-1")
    latencies: list[float] = []
    counts = {"errors": 0, "bad": 0}
    started = time.perf_counter()
    deadline = started + seconds

    async def connection() -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            counts["errors"] += 1
            return
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status, length = _parse_head(head)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                if not 200 <= status < 400:
                    counts["bad"] += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            counts["errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        len(latencies),
        elapsed,
        _percentile(latencies, 50) * 1e3,
        _percentile(latencies, 99) * 1e3,
        counts["errors"],
        counts["bad"],
    )


def _parse_head(head: bytes) -> tuple[int, int]:
    """Status code and Content-Length of a response head (no chunked bodies here)."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return status, int(value.strip())
    raise ValueError("response without Content-Length")


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, math.ceil(pct / 100 * len(sorted_values)) - 1)
    return sorted_values[max(0, index)]
