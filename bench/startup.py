"""Time from launching ``roost serve`` to its first successful HTTP answer.

    .venv/bin/python -m bench.startup [--runs 5]

Warm start, as after a restart or a deploy: the virtualenv and the data
directory exist and the migrations are applied (``roost db upgrade`` runs once
first, then one untimed launch warms the file cache). Each timed run starts
the server as a child process and polls ``GET /livez`` on a fresh connection
every 5 ms; the clock stops at the first 200. Target: under 2 s.

Also printed: the CPU time the server process had used by then (Linux only).
On a busy machine the wall time grows with the other load; the CPU time much
less, so it tells a slower start from a crowded one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import _results, _server

TARGET_S = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        data_dir.mkdir()
        subprocess.run(
            [str(_server.ROOST), "db", "upgrade"],
            env=_server.server_env(data_dir),
            check=True,
            capture_output=True,
        )
        _launch_once(data_dir)
        runs = [_launch_once(data_dir) for _ in range(args.runs)]

    print(_server.machine())
    times = [wall for wall, _cpu in runs]
    for n, (wall, cpu) in enumerate(runs, 1):
        print(f"run {n}: {wall:.3f}s" + (f" (server CPU {cpu:.3f}s)" if cpu is not None else ""))
    median = statistics.median(times)
    verdict = "meets" if median < TARGET_S else "MISSES"
    print(
        f"startup to first answer: min {min(times):.3f}s, median {median:.3f}s, "
        f"max {max(times):.3f}s ({verdict} the {TARGET_S:.0f}s target)"
    )
    figures = {
        "startup_median_s": _results.lower(median, "s"),
        "startup_min_s": _results.lower(min(times), "s"),
    }
    cpus = [cpu for _wall, cpu in runs if cpu is not None]
    if cpus:
        figures["startup_cpu_median_s"] = _results.lower(statistics.median(cpus), "s")
    _results.record("startup", figures)
    return 0


def _launch_once(data_dir: Path) -> tuple[float, float | None]:
    """Seconds to the first answer, and the server's CPU seconds by then."""
    port = _server.free_port()
    log_path = data_dir / "serve.log"
    started = time.perf_counter()
    process = _server.launch(data_dir, port, log_path)
    try:
        _server.wait_until_answering(process, port)
        return time.perf_counter() - started, _cpu_seconds(process.pid)
    except RuntimeError:
        sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
        raise
    finally:
        _server.stop(process)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, from /proc (None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


if __name__ == "__main__":
    sys.exit(main())
