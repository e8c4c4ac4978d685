"""The suite's health checks (tests/suite_health.py) on a toy suite of their
own: a renamed test or file stops the whole run, and a test that fails once
and then passes is named flaky, with every test's seconds in the report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tests.suite_health

PLUGIN = Path(tests.suite_health.__file__)

TWO_TESTS = """\
def test_one():
    pass


def test_two():
    pass
"""

FLAKY = """\
from pathlib import Path


def test_fails_the_first_time():
    marker = Path(__file__).with_name("ran-once")
    if not marker.exists():
        marker.write_text("")
        raise AssertionError("first run")
"""


def _toy(root: Path) -> Path:
    """A project whose tests/ holds a copy of the plugin and two tests."""
    toy = root / "tests"
    toy.mkdir()
    (toy / "__init__.py").write_text("")
    shutil.copy(PLUGIN, toy / "suite_health.py")
    (toy / "conftest.py").write_text('pytest_plugins = ["tests.suite_health"]\n')
    (toy / "test_a.py").write_text(TWO_TESTS)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    return toy


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
    )


def test_given_a_recorded_count_when_a_test_or_file_stops_collecting_then_the_run_stops(
    tmp_path: Path,
) -> None:
    tests = _toy(tmp_path)
    assert _pytest(tmp_path, "--collect-only", "-q", "--record-collected").returncode == 0
    recorded = json.loads((tests / "collected.json").read_text())
    assert recorded == {"total": 2, "files": {"tests/test_a.py": 2}}

    (tests / "test_a.py").write_text(TWO_TESTS.replace("def test_two", "def tset_two"))
    renamed = _pytest(tmp_path)
    assert renamed.returncode == pytest.ExitCode.USAGE_ERROR
    assert "tests/test_a.py: 2 recorded, 1 collected" in renamed.stderr
    assert "the suite: 2 recorded, 1 collected" in renamed.stderr

    (tests / "test_a.py").rename(tests / "a_test.py")
    gone = _pytest(tmp_path)
    assert "tests/test_a.py: 2 recorded, no longer collected at all" in gone.stderr

    # A narrower run is not held to the whole suite's count.
    assert _pytest(tmp_path, "tests/a_test.py").returncode == pytest.ExitCode.OK


def test_given_a_recorded_count_when_xdist_workers_collect_fewer_then_the_run_names_them(
    tmp_path: Path,
) -> None:
    # As scripts/test runs the suite: under xdist a worker that stopped in its
    # own collection left xdist to report an internal error naming an innocent
    # test, and nothing said what had shrunk.
    tests = _toy(tmp_path)
    assert _pytest(tmp_path, "--collect-only", "-q", "--record-collected").returncode == 0
    (tests / "test_a.py").write_text(TWO_TESTS.replace("def test_two", "def tset_two"))

    shrunk = _pytest(tmp_path, "-n", "2", "--dist", "loadgroup")

    said = shrunk.stdout + shrunk.stderr
    assert shrunk.returncode == pytest.ExitCode.USAGE_ERROR, said
    assert "INTERNALERROR" not in said
    assert "tests/test_a.py: 2 recorded, 1 collected" in said
    assert "passed" not in said

    # Recorded again, the same distributed run passes.
    assert _pytest(tmp_path, "--collect-only", "-q", "--record-collected").returncode == 0
    again = _pytest(tmp_path, "-n", "2", "--dist", "loadgroup")
    assert again.returncode == pytest.ExitCode.OK, again.stdout + again.stderr


def test_given_a_test_that_fails_once_when_rerun_then_it_is_named_flaky(tmp_path: Path) -> None:
    tests = _toy(tmp_path)
    (tests / "test_flaky.py").write_text(FLAKY)
    first = _pytest(tmp_path, "--health-report", "out")
    assert first.returncode == 1
    assert "slowest 20 tests" in first.stdout
    report = json.loads((tmp_path / "out" / "tests.json").read_text())
    assert report["failed"] == ["tests/test_flaky.py::test_fails_the_first_time"]
    assert set(report["tests"]) == {
        "tests/test_a.py::test_one",
        "tests/test_a.py::test_two",
        "tests/test_flaky.py::test_fails_the_first_time",
    }
    assert all(t["seconds"] >= 0 for t in report["tests"].values())

    again = subprocess.run(
        [sys.executable, "-m", "tests.suite_health", "rerun", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "FLAKY: 1 test(s) failed, then passed" in again.stdout
    flaky = json.loads((tmp_path / "out" / "flaky.json").read_text())
    assert flaky["flaky"] == ["tests/test_flaky.py::test_fails_the_first_time"]


def test_given_a_test_that_fails_every_time_when_rerun_then_the_run_fails(
    tmp_path: Path,
) -> None:
    tests = _toy(tmp_path)
    (tests / "test_broken.py").write_text("def test_broken():\n    raise AssertionError\n")
    assert _pytest(tmp_path, "--health-report", "out").returncode == 1
    again = subprocess.run(
        [sys.executable, "-m", "tests.suite_health", "rerun", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1
    assert not (tmp_path / "out" / "flaky.json").exists()
