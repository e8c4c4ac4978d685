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


# POST with a body numbered request by request (``%d`` in it).
_WRK_POST = """\
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, nil, string.format(BODY, counter))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Admitted (2xx) requests timed apart from refusals: the server echoes the
# X-Request-Id a request carries, so each answer that carries one is matched to
# when its request was written (a refusal is answered before any id is read,
# and is only counted). LuaJIT's FFI gives a monotonic clock. Requests written
# in the first SETTLE_US are counted but not timed: they include waiting for
# the server to accept the load's own connections, all opened at once.
_WRK_ADMITTED = """\
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } roost_timespec;
int clock_gettime(int clk_id, roost_timespec *tp);
]]
local now_ts = ffi.new("roost_timespec")
local function now_us()
  ffi.C.clock_gettime(1, now_ts)
  return tonumber(now_ts.tv_sec) * 1000000 + tonumber(now_ts.tv_nsec) / 1000
end
local threads = {}
function setup(thread)
  thread:set("prefix", "bench" .. #threads .. "-")
  thread:set("settle_us", SETTLE_US)
  table.insert(threads, thread)
end
local sent = 0
local started = {}
local began = nil
admitted = {}
served = 0
refused = 0
other = 0
function request()
  sent = sent + 1
  local id = prefix .. sent
  local now = now_us()
  if began == nil then began = now end
  started[id] = now
  wrk.headers["X-Request-Id"] = id
  return wrk.format()
end
function response(status, headers, body)
  local id = headers["x-request-id"] or headers["X-Request-Id"]
  local at = id and started[id]
  if id then started[id] = nil end
  if status >= 200 and status < 300 and at then
    served = served + 1
    if at - began >= settle_us then
      admitted[#admitted + 1] = now_us() - at
    end
  elseif status >= 200 and status < 300 then
    served = served + 1
  elseif status == 503 then
    refused = refused + 1
  else
    other = other + 1
  end
end
function done(summary, latency, requests)
  local all = {}
  local served_all, refused_all, other_all = 0, 0, 0
  for _, thread in ipairs(threads) do
    for _, v in ipairs(thread:get("admitted")) do all[#all + 1] = v end
    served_all = served_all + thread:get("served")
    refused_all = refused_all + thread:get("refused")
    other_all = other_all + thread:get("other")
  end
  table.sort(all)
  local function pct(p)
    if #all == 0 then return -1 end
    return all[math.max(1, math.ceil(p / 100 * #all))]
  end
  local e = summary.errors
  io.write(string.format("ROOST_ADMITTED %d %d %d %d %d %d %d %d\\n",
    served_all, refused_all, other_all, e.connect + e.read + e.write + e.timeout,
    summary.duration, pct(50), pct(99), pct(100)))
end
"""


@dataclass(frozen=True)
class AdmittedResult:
    """Load with refusals: admitted (2xx) requests timed, 503s only counted."""

    admitted: int
    refused: int  # 503
    other: int  # any other answer
    errors: int  # failed connections, reads and timeouts
    seconds: float
    p50_ms: float  # of admitted requests
    p99_ms: float
    max_ms: float

    @property
    def admitted_rps(self) -> float:
        return self.admitted / self.seconds if self.seconds else 0.0

    @property
    def refused_share(self) -> float:
        answered = self.admitted + self.refused + self.other
        return self.refused / answered if answered else 0.0


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
    post_json: str | None = None,
) -> LoadResult:
    """Load ``path`` for ``seconds`` over ``connections`` keep-alive connections;
    ``builtin`` uses the asyncio client even where wrk is installed.

    ``post_json``: POST this JSON body instead of a GET; ``%d`` in it is
    replaced by a number counted up request by request (with wrk; the
    built-in client sends number 0 every time), so posts are not identical.
    """
    headers = headers or {}
    if post_json is not None:
        headers = {**headers, "Content-Type": "application/json"}
    if shutil.which("wrk") and not builtin:
        return _wrk(host, port, path, connections, seconds, headers, post_json)
    return asyncio.run(_builtin(host, port, path, connections, seconds, headers, post_json))


def measure_admitted(
    host: str,
    port: int,
    path: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    builtin: bool = False,
    settle_s: float = 0.0,
) -> AdmittedResult:
    """Like ``measure``, but the latency figures are of 2xx answers only, of
    requests written after the first ``settle_s``, and 503s are counted apart
    (wrk, or the asyncio client without it, which times every request)."""
    headers = headers or {}
    if shutil.which("wrk") and not builtin:
        lua = _WRK_ADMITTED.replace("SETTLE_US", str(round(settle_s * 1e6)))
        out = _run_wrk(host, port, path, connections, seconds, headers, lua)
        for line in out.splitlines():
            if line.startswith("ROOST_ADMITTED "):
                admitted, refused, other, errors, duration_us, p50, p99, top = map(
                    int, line.split()[1:]
                )
                return AdmittedResult(
                    admitted,
                    refused,
                    other,
                    errors,
                    duration_us / 1e6,
                    p50 / 1e3,
                    p99 / 1e3,
                    top / 1e3,
                )
        raise RuntimeError(f"wrk gave no report:\n{out}")
    answers, failures, elapsed = asyncio.run(
        _builtin_answers(host, port, path, connections, seconds, headers)
    )
    served = sorted(latency for latency, status in answers if 200 <= status < 300)
    refusals = sum(1 for _, status in answers if status == 503)
    return AdmittedResult(
        len(served),
        refusals,
        len(answers) - len(served) - refusals,
        failures,
        elapsed,
        _percentile(served, 50) * 1e3,
        _percentile(served, 99) * 1e3,
        _percentile(served, 100) * 1e3,
    )


def _wrk(
    host: str,
    port: int,
    path: str,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    post_json: str | None = None,
) -> LoadResult:
    lua = _WRK_REPORT
    if post_json is not None:
        lua = _WRK_POST.replace("BODY", _lua_string(post_json)) + lua
    out = _run_wrk(host, port, path, connections, seconds, headers, lua)
    for line in out.splitlines():
        if line.startswith("ROOST_BENCH "):
            requests, duration_us, p50_us, p99_us, errors, bad = map(int, line.split()[1:])
            return LoadResult(requests, duration_us / 1e6, p50_us / 1e3, p99_us / 1e3, errors, bad)
    raise RuntimeError(f"wrk gave no report:\n{out}")


def _run_wrk(
    host: str,
    port: int,
    path: str,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    lua: str,
) -> str:
    """wrk's standard output (stderr appended) for one run with the ``lua`` script."""
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "report.lua"
        script.write_text(lua)
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
    return f"{done.stdout}\n{done.stderr}"


async def _builtin(
    host: str,
    port: int,
    path: str,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    post_json: str | None = None,
) -> LoadResult:
    body = None if post_json is None else (post_json.replace("%d", "0")).encode()
    answers, errors, elapsed = await _builtin_answers(
        host, port, path, connections, seconds, headers, body
    )
    latencies = sorted(latency for latency, _ in answers)
    bad = sum(1 for _, status in answers if not 200 <= status < 400)
    return LoadResult(
        len(latencies),
        elapsed,
        _percentile(latencies, 50) * 1e3,
        _percentile(latencies, 99) * 1e3,
        errors,
        bad,
    )


async def _builtin_answers(
    host: str,
    port: int,
    path: str,
    connections: int,
    seconds: float,
    headers: dict[str, str],
    body: bytes | None = None,
) -> tuple[list[tuple[float, int]], int, float]:
    """(latency, status) of every answer, the failed connections, the seconds taken."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    method = "GET" if body is None else "POST"
    if body is not None:
        extra += f"Content-Length: {len(body)}\r\n"
    request = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode(
        "latin-1"
    ) + (body or b"")
    answers: list[tuple[float, int]] = []
    failures = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def connection() -> None:
        nonlocal failures
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            failures += 1
            return
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status, length = _parse_head(head)
                await reader.readexactly(length)
                answers.append((time.perf_counter() - sent, status))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            failures += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return answers, failures, time.perf_counter() - started


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
