"""bench.compare on synthetic result histories: a ratio regression beyond the
threshold exits 1 and names the figure; an improvement, a change within the
threshold, or a single run does not."""

from __future__ import annotations

import io
import json
from pathlib import Path

from bench import compare
from bench._results import Figure, higher, load, lower, record


def _two_runs(directory: Path, old: dict[str, Figure], new: dict[str, Figure]) -> None:
    record("timeline", old, directory=directory)
    record("timeline", new, directory=directory)


def _run(directory: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    paths = sorted(directory.glob("*.json"))
    threshold = float(args[0]) if args else compare.DEFAULT_THRESHOLD
    return compare.compare(paths, threshold, out), out.getvalue()


def test_given_a_run_when_recorded_then_the_history_keeps_commit_date_load_and_figures(
    tmp_path: Path,
) -> None:
    record("timeline", {"home_rps": higher(100, "req/s")}, directory=tmp_path)
    record("timeline", {"home_rps": higher(90, "req/s")}, directory=tmp_path)
    history = load(tmp_path / "timeline.json")
    assert len(history) == 2
    run = history[-1]
    assert len(run["commit"].removesuffix("-dirty")) == 40
    assert run["date"].endswith("+00:00")
    assert run["machine"]["cores"] >= 1 and len(run["machine"]["load_average"]) == 3
    assert run["figures"]["home_rps"] == {"value": 90.0, "better": "higher", "unit": "req/s"}


def test_given_throughput_fell_beyond_the_threshold_when_compared_then_exit_1_naming_it(
    tmp_path: Path,
) -> None:
    _two_runs(
        tmp_path,
        {"home_rps": higher(1000), "p99_ms": lower(20)},
        {"home_rps": higher(700), "p99_ms": lower(20)},
    )
    code, text = _run(tmp_path)
    assert code == 1
    assert "timeline.home_rps x0.70" in text
    assert "p99_ms" in text and "timeline.p99_ms" not in text.split("regressed beyond")[1]


def test_given_latency_rose_beyond_the_threshold_when_compared_then_exit_1(
    tmp_path: Path,
) -> None:
    _two_runs(tmp_path, {"p99_ms": lower(20)}, {"p99_ms": lower(26)})
    code, text = _run(tmp_path)
    assert code == 1 and "timeline.p99_ms x1.30" in text


def test_given_changes_within_the_threshold_or_improvements_when_compared_then_exit_0(
    tmp_path: Path,
) -> None:
    _two_runs(
        tmp_path,
        {"home_rps": higher(1000), "p99_ms": lower(20), "startup_s": lower(2.0)},
        {"home_rps": higher(850), "p99_ms": lower(23), "startup_s": lower(1.0)},
    )
    code, text = _run(tmp_path)
    assert code == 0, text
    assert "no figure regressed beyond 20%" in text
    code, text = _run(tmp_path, "0.1")
    assert code == 1 and "timeline.home_rps x0.85" in text and "timeline.p99_ms x1.15" in text


def test_given_only_the_previous_run_counts_when_compared_then_older_runs_are_ignored(
    tmp_path: Path,
) -> None:
    record("timeline", {"home_rps": higher(2000)}, directory=tmp_path)
    _two_runs(tmp_path, {"home_rps": higher(1000)}, {"home_rps": higher(1000)})
    assert _run(tmp_path)[0] == 0


def test_given_one_run_or_none_when_compared_then_exit_2(tmp_path: Path) -> None:
    assert compare.main(["--results", str(tmp_path)]) == 2
    record("timeline", {"home_rps": higher(1000)}, directory=tmp_path)
    assert compare.main(["--results", str(tmp_path), "timeline"]) == 2


def test_given_a_written_history_when_compared_from_the_command_line_then_exit_1(
    tmp_path: Path,
) -> None:
    runs = [
        {
            "name": "search",
            "commit": c,
            "date": f"2026-12-0{n}T00:00:00+00:00",
            "machine": {"cores": 2, "load_average": [0.5, 0.5, 0.5]},
            "figures": {"query_ms": {"value": v, "better": "lower", "unit": "ms"}},
        }
        for n, (c, v) in enumerate([("a" * 40, 10.0), ("b" * 40, 15.0)], start=1)
    ]
    (tmp_path / "search.json").write_text(json.dumps(runs))
    assert compare.main(["--results", str(tmp_path)]) == 1
    assert compare.main(["--results", str(tmp_path), "--threshold", "0.6"]) == 0
