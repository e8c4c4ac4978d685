"""A closed-loop HTTP load for drills, run as a process of its own.

    python -m tests.drills.closed_loop REPORT PORT PATH CONNECTIONS SECONDS [HEADER: VALUE]...

Each of CONNECTIONS keep-alive connections sends ``GET PATH`` again as soon as
its last answer is in. Prints ``steady`` once every connection has had an
answer; at the end writes to the file REPORT one JSON object: the latencies
(seconds) of the requests sent after that, by status, up to five refusals'
headers and their distinct bodies, and what failed. A process of its own so that the drill's
prober does not wait for this one's turns of the GIL.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

TIMEOUT_S = 10.0


async def run(
    port: int, path: str, connections: int, seconds: float, headers: list[str]
) -> dict[str, Any]:
    extra = "".join(f"{header}\r\n" for header in headers)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()
    deadline = time.perf_counter() + seconds
    latencies: dict[int, list[float]] = {}
    refusal_headers: list[dict[str, str]] = []
    refusal_bodies: set[str] = set()
    failures: list[str] = []
    answered_once = 0
    steady = asyncio.Event()

    async def connection() -> None:
        nonlocal answered_once
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as error:
            failures.append(f"connect: {error}")
            return
        first = True
        try:
            while time.perf_counter() < deadline:
                counted = steady.is_set()
                sent = time.perf_counter()
                writer.write(request)
                async with asyncio.timeout(TIMEOUT_S):
                    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                    fields = {
                        name.strip().lower(): value.strip()
                        for name, _, value in (line.partition(":") for line in lines[1:] if line)
                    }
                    body = await reader.readexactly(int(fields["content-length"]))
                status = int(lines[0].split()[1])
                if counted:
                    latencies.setdefault(status, []).append(time.perf_counter() - sent)
                if status == 503 and len(refusal_headers) < 5:
                    refusal_headers.append(fields)
                    refusal_bodies.add(body.decode())
                if first:
                    first = False
                    answered_once += 1
                    if answered_once == connections:
                        steady.set()
                        print("steady", flush=True)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    report: dict[str, Any] = {
        "steady": steady.is_set(),
        "latencies": {str(status): values for status, values in latencies.items()},
        "refusal_headers": refusal_headers,
        "refusal_bodies": sorted(refusal_bodies),
        "failures": failures,
    }
    return report


if __name__ == "__main__":
    report, port, path, connections, seconds, *headers = sys.argv[1:]
    outcome = asyncio.run(run(int(port), path, int(connections), float(seconds), headers))
    Path(report).write_text(json.dumps(outcome))
