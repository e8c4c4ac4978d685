"""The suite's own health: it cannot shrink unseen, and its slow and flaky
tests are named (a pytest plugin that tests/conftest.py loads).

Collected count. tests/collected.json records how many tests each file held
when last recorded. A run of the whole suite that collects fewer, in total or
in any file (a test function renamed out of ``test_*``, a file renamed out of
``test_*.py``, a parametrisation that lost its cases), stops before running
anything and names the files. Removed tests on purpose? Record again:

    scripts/test --collect-only -q --record-collected

A run on a machine also remembers its own count in .test-reports/, so a
developer's next whole run is held to it even before anyone records.

Report. ``--health-report DIR`` writes DIR/tests.json (each test's seconds,
setup and teardown included, and its outcome, with the commit) and prints the
slowest tests. ``python -m tests.suite_health rerun DIR`` runs the failed tests
of that report once more in a fresh process: those that pass then are flaky,
listed in DIR/flaky.json and on the terminal; .ci/run passes with them named,
and fails if any fails again or if there are too many to call flaky.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "tests" / "collected.json"
LOCAL = REPO / ".test-reports" / "collected-last.json"
SLOWEST = 20
RERUN_AT_MOST = 10

_seconds: dict[str, float] = {}
_outcomes: dict[str, str] = {}
_problem: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("roost suite health")
    group.addoption(
        "--health-report", metavar="DIR", help="write DIR/tests.json: seconds and outcome per test"
    )
    group.addoption(
        "--record-collected",
        action="store_true",
        help="record this whole run's collected counts in tests/collected.json",
    )


def _whole_suite(config: pytest.Config) -> bool:
    tests_dir = (REPO / "tests").resolve()
    args = [a for a in config.args if not a.startswith("-")]
    if not args:
        return True
    return all(Path(config.invocation_params.dir, a).resolve() == tests_dir for a in args)


def _counts(nodeids: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(nodeid.split("::", 1)[0] for nodeid in nodeids).items()))


def shrunk(before: dict[str, Any], now: dict[str, int]) -> list[str]:
    """What collects fewer tests than ``before`` recorded, one line each."""
    lines = []
    for path, count in before.get("files", {}).items():
        have = now.get(path, 0)
        if have < count:
            why = "no longer collected at all" if have == 0 else f"{have} collected"
            lines.append(f"{path}: {count} recorded, {why}")
    total = sum(now.values())
    if total < before.get("total", 0):
        lines.append(f"the suite: {before['total']} recorded, {total} collected")
    return lines


def _check_collected(config: pytest.Config, now: dict[str, int]) -> list[str]:
    """Record or check a whole run's counts; the lines of what shrank."""
    record = {"total": sum(now.values()), "files": now}
    if config.getoption("record_collected"):
        for path in (RECORD, LOCAL):
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        return []
    problems: list[str] = []
    for source in (RECORD, LOCAL):
        if source.is_file():
            problems += shrunk(json.loads(source.read_text(encoding="utf-8")), now)
    if problems:
        _problem.extend(dict.fromkeys(problems))
        return list(_problem)
    if not config.option.collectonly:
        LOCAL.parent.mkdir(exist_ok=True)
        LOCAL.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return []


def _shrunk_message(problems: list[str]) -> str:
    return (
        "the suite collects fewer tests than it did:\n  "
        + "\n  ".join(problems)
        + "\nA test renamed out of test_*, a file that no longer collects, or tests "
        "removed on purpose (then record: scripts/test --collect-only -q "
        "--record-collected)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    # tryfirst: counted before -k and -m deselect anything.
    if hasattr(config, "workerinput") or not _whole_suite(config):
        # An xdist worker leaves the check to the controller, which sees every
        # worker's collection: a worker that stopped here would end its session
        # with tests assigned to it, which xdist reports as an internal error
        # naming an innocent test instead of what shrank.
        return
    problems = _check_collected(config, _counts([item.nodeid for item in items]))
    if problems:
        raise pytest.UsageError(_shrunk_message(problems))


_distributed_checked: list[bool] = []


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Under xdist, the controller checks the first worker's collection (the
    others must match it, or xdist stops the run itself)."""
    config: pytest.Config = node.config
    if _distributed_checked or not _whole_suite(config):
        return
    _distributed_checked.append(True)
    problems = _check_collected(config, _counts(ids))
    if problems:
        pytest.exit(_shrunk_message(problems), returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.when == "call" or report.skipped:
        _outcomes.setdefault(report.nodeid, report.outcome)


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    directory = config.getoption("health_report")
    if not directory:
        return
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tests = {
        nodeid: {"seconds": round(seconds, 3), "outcome": _outcomes.get(nodeid, "error")}
        for nodeid, seconds in sorted(_seconds.items(), key=lambda kv: -kv[1])
    }
    failed = [n for n, t in tests.items() if t["outcome"] in ("failed", "error")]
    body = {"commit": _commit(), "tests": tests, "failed": failed}
    (out / "tests.json").write_text(json.dumps(body, indent=1), encoding="utf-8")
    terminalreporter.section(f"slowest {SLOWEST} tests (all of them in {out / 'tests.json'})")
    for nodeid, t in list(tests.items())[:SLOWEST]:
        terminalreporter.write_line(f"{t['seconds']:8.2f}s  {nodeid}")


def rerun(directory: Path) -> int:
    """Run the report's failed tests once more; 0 when every one passes (flaky)."""
    report_file = directory / "tests.json"
    if not report_file.is_file():
        print(f"no {report_file}: the run stopped before any test ran", file=sys.stderr)
        return 1
    failed: list[str] = json.loads(report_file.read_text(encoding="utf-8"))["failed"]
    if not failed:
        print("nothing failed, yet the run did: not a flaky test", file=sys.stderr)
        return 1
    if len(failed) > RERUN_AT_MOST:
        print(f"{len(failed)} tests failed: a break, not flakiness; not rerun", file=sys.stderr)
        return 1
    again = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *failed], cwd=REPO
    )
    if again.returncode != 0:
        return again.returncode
    (directory / "flaky.json").write_text(
        json.dumps({"commit": _commit(), "flaky": failed}, indent=1), encoding="utf-8"
    )
    print(f"FLAKY: {len(failed)} test(s) failed, then passed when run again:")
    for nodeid in failed:
        print(f"  {nodeid}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "rerun":
        sys.exit("usage: python -m tests.suite_health rerun DIR")
    sys.exit(rerun(Path(sys.argv[2])))
