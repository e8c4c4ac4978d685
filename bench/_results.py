"""Each benchmark's figures, kept run after run so that creep shows.

``record(name, figures)`` appends one run to ``bench/results/<name>.json`` (a
JSON list, oldest first; the directory is not committed: results belong to
the machine they were measured on) with the commit measured, the date and the
machine's cores and load average. ``python -m bench.compare`` compares the
newest run of each benchmark with the one before it.

A figure is a value with the direction that is better: ``higher`` (requests
per second, a share of a trivial endpoint's rate) or ``lower`` (seconds,
milliseconds, megabytes).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]

Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Figure:
    value: float
    better: Better
    unit: str = ""


def higher(value: float, unit: str = "") -> Figure:
    return Figure(float(value), "higher", unit)


def lower(value: float, unit: str = "") -> Figure:
    return Figure(float(value), "lower", unit)


def commit() -> str:
    """The commit measured, with ``-dirty`` when the work tree had changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def machine() -> dict[str, Any]:
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cores": os.cpu_count() or 0, "load_average": load}


def record(
    name: str,
    figures: dict[str, Figure],
    *,
    directory: Path | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Append this run to the benchmark's history; returns the file."""
    where = directory or RESULTS
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{name}.json"
    history = load(path)
    run: dict[str, Any] = {
        "name": name,
        "commit": commit(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": {
            key: {"value": f.value, "better": f.better, "unit": f.unit}
            for key, f in figures.items()
        },
    }
    if extra:
        run["settings"] = extra
    history.append(run)
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(history, indent=1) + "\n")
    temp.replace(path)
    print(f"results: {path} (run {len(history)})")
    return path


def load(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of runs")
    return data


def load_figures(prefix: str, result: Any) -> dict[str, Figure]:
    """A load measurement (bench/_load.py's LoadResult): rate and latencies."""
    return {
        f"{prefix}_rps": higher(result.rps, "req/s"),
        f"{prefix}_p50_ms": lower(result.p50_ms, "ms"),
        f"{prefix}_p99_ms": lower(result.p99_ms, "ms"),
    }
