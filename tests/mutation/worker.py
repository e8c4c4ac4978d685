"""pytest plugin (``-p tests.mutation.worker``): one pytest process tries many mutants.

Started by tests/mutation/runner.py with ROOST_MUTATION_PLAN naming a JSON
plan (the target module, its mutants, how many at once, where verdicts go).
Loaded with ``-p``, it runs before any conftest imports the target, and:

1. Notes which lines of the target run while the suite is imported and
   collected (``sys.settrace``, this file only). A mutant whose lines run
   then acts at import (a module constant, a class body, a function called
   while importing): it is left to a fresh process with the mutant imported
   in place (tests/mutation/loader.py), as before.
2. Runs every test once, unmutated, each in a child forked from the state
   before any test ran, recording the lines of the target it executes (its
   threads too: the app runs on the test client's) and its seconds. If any
   fails, nothing else is meaningful.
3. For each other mutant, forks a child from this process as it stands after
   collection, before any test ran: the child puts the mutant's code into
   the function that holds it (its ``__code__``, so every importer and every
   ``from ... import`` sees it; defaults too), then runs only the tests that
   executed the mutant's lines, fastest first, stopping at the first failure.
   Killed: a test failed (or the child hung past its time limit, or died).
   Survived: every one of them passed. A mutant no test executes survives
   without running: no test would notice it.

Python and the suite are imported once per target instead of once per mutant,
and a mutant runs the few tests that reach it instead of all.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, FunctionType, ModuleType
from typing import Any

import pytest

from tests.mutation.loader import derandomised

PLAN = os.environ.get("ROOST_MUTATION_PLAN")
# Exit codes of a mutant's child.
SURVIVED_CODE, KILLED_CODE, BROKEN_CODE = 0, 1, 3


class _Lines:
    """The target's lines executed, gathered into ``into`` (swapped per test)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.into: set[int] = set()

    def _local(self, frame: FrameType, event: str, arg: object) -> Callable[..., Any]:
        if event == "line":
            self.into.add(frame.f_lineno)
        return self._local

    def _global(self, frame: FrameType, event: str, arg: object) -> Callable[..., Any] | None:
        if frame.f_code.co_filename == self.filename:
            self.into.add(frame.f_lineno)
            return self._local
        return None

    def start(self) -> None:
        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self) -> None:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type,unused-ignore]


_plan: dict[str, Any] | None = None
_import_lines: _Lines | None = None
if PLAN:
    _plan = json.loads(Path(PLAN).read_text(encoding="utf-8"))
    derandomised()
    _import_lines = _Lines(_plan["path"])
    _import_lines.start()


def _functions(
    namespace: dict[str, Any], module: str, filename: str, prefix: str = ""
) -> Iterator[tuple[str, FunctionType]]:
    """The functions a module defines (and its classes' methods), by
    qualified name; decorated ones unwrapped (``lru_cache`` keeps the
    function as ``__wrapped__``)."""
    for name, value in list(namespace.items()):
        if isinstance(value, type) and value.__module__ == module and not prefix:
            yield from _functions(dict(vars(value)), module, filename, f"{value.__qualname__}.")
            continue
        parts: list[Any] = [value]
        if isinstance(value, (staticmethod, classmethod)):
            parts = [value.__func__]
        elif isinstance(value, property):
            parts = [value.fget, value.fset, value.fdel]
        for part in parts:
            while part is not None and not isinstance(part, FunctionType):
                part = getattr(part, "__wrapped__", None)
            if part is None or part.__module__ != module:
                continue
            if part.__code__.co_filename != filename:
                continue  # made by a decorator (a dataclass's __init__)
            if part.__qualname__ == f"{prefix}{name}":
                yield part.__qualname__, part


def put_in_place(module: ModuleType, source: str, function: str) -> None:
    """Give the functions of ``module`` the code (and defaults) of ``source``.

    The function objects stay the same, so whoever holds one (``from ...
    import``, a partial, a cache wrapper, a router) runs the mutant. Raises
    when ``function`` (the one holding the slip) is not found."""
    filename = module.__file__ or "<mutant>"
    code = compile(source, filename, "exec")
    scratch: dict[str, Any] = {"__name__": module.__name__, "__file__": module.__file__}
    exec(code, scratch)
    new = dict(_functions(scratch, module.__name__, filename))
    seen = set()
    for name, old in _functions(vars(module), module.__name__, filename):
        made = new.get(name)
        if made is None:
            continue
        if len(made.__code__.co_freevars) != len(old.__code__.co_freevars):
            raise RuntimeError(f"{name}: its closure changed shape")
        old.__code__ = made.__code__
        old.__defaults__ = made.__defaults__
        old.__kwdefaults__ = made.__kwdefaults__
        seen.add(name)
    if function not in seen:
        raise RuntimeError(f"{function} is not a function of {module.__name__} this can patch")


def _run(items: list[pytest.Item]) -> bool:
    """Run ``items`` in turn, stopping at the first failure; True if all pass."""
    from _pytest.runner import runtestprotocol

    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        reports = runtestprotocol(item, log=False, nextitem=following)
        if any(report.failed for report in reports):
            return False
    return True


def _own_temp(config: pytest.Config, root: Path, name: str) -> Path:
    """A base temporary directory for one child, so that children never
    number (or clean up) each other's."""
    base = root / name
    base.mkdir()
    config._tmp_path_factory._basetemp = base  # type: ignore[attr-defined]
    return base


def _baseline(session: pytest.Session, plan: dict[str, Any], root: Path, out: Path) -> None:
    """In a child: every test once, unmutated, with the lines each executes.

    Each test runs in a child of its own, forked from the state before any
    test ran, as a mutant's tests do. Run one after another in one process,
    a test found built what an earlier one had built and kept (a prepared
    statement compiled on first use, a clause cached per viewer), so the
    builder's lines counted as executed by the first test only: a mutant
    there ran that one test and survived, though the tests that read
    through the cached result would have failed on it."""
    found: dict[str, Any] = {}
    for index, item in enumerate(session.items):
        record = root / f"baseline-{index}.json"

        def one(item: pytest.Item = item, index: int = index, record: Path = record) -> int:
            from _pytest.runner import runtestprotocol

            _own_temp(session.config, root, f"baseline-{index}")
            lines = _Lines(plan["path"])
            lines.start()
            started = time.monotonic()
            reports = runtestprotocol(item, log=False, nextitem=None)
            seconds = time.monotonic() - started
            lines.stop()
            failed = [r for r in reports if r.failed]
            record.write_text(
                json.dumps(
                    {
                        "seconds": round(seconds, 3),
                        "lines": sorted(lines.into),
                        "failed": str(failed[0].longrepr)[-3000:] if failed else None,
                    }
                ),
                encoding="utf-8",
            )
            return 0

        errors = root / f"baseline-{index}.error"
        pid = _fork(one, errors)
        _, status = os.waitpid(pid, 0)
        if record.exists():
            found[item.nodeid] = json.loads(record.read_text(encoding="utf-8"))
        else:
            why = errors.read_text(encoding="utf-8") if errors.exists() else f"status {status}"
            died = f"the test's child died: {why}"
            found[item.nodeid] = {"seconds": 0.0, "lines": [], "failed": died}
    out.write_text(json.dumps(found), encoding="utf-8")


def _fork(body: Callable[[], int], errors: Path) -> int:
    """Run ``body`` in a child (its own process group, so that a timeout
    ends whatever it started); its exit code is what ``body`` returns, or
    BROKEN_CODE with the traceback in ``errors`` should it raise."""
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = BROKEN_CODE
        try:
            os.setpgid(0, 0)
            code = body()
        except BaseException:
            errors.write_text(traceback.format_exc(), encoding="utf-8")
        finally:
            os._exit(code)
    return pid


# Session fixtures made once, before forking, and handed to every child as
# made (``pytest_fixture_setup`` below): each child would otherwise migrate
# its own SQLite template. Made while the import-time tracer runs, so a
# mutant of a line they execute is left to a fresh process.
SHARED_FIXTURES = ("sqlite_template",)
_shared: dict[str, Any] = {}


def _make_shared(session: pytest.Session) -> None:
    for name in SHARED_FIXTURES:
        for item in session.items:
            if name not in getattr(item, "fixturenames", ()):
                continue
            defs = session._fixturemanager.getfixturedefs(name, item)
            if not defs:
                break
            fixturedef = defs[-1]
            if fixturedef.scope != "session" or set(fixturedef.argnames) - {"tmp_path_factory"}:
                break
            kwargs = {a: session.config._tmp_path_factory for a in fixturedef.argnames}  # type: ignore[attr-defined]
            _shared[name] = fixturedef.func(**kwargs)
            break


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Any:
    if fixturedef.argname not in _shared:
        return None
    value = _shared[fixturedef.argname]
    fixturedef.cached_result = (value, fixturedef.cache_key(request), None)
    return value


def _write(out: Path, record: dict[str, Any]) -> None:
    with out.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    if _plan is None or _import_lines is None:
        return None
    _make_shared(session)
    _import_lines.stop()
    gc.collect()
    gc.freeze()  # children share these pages instead of copying them
    plan = _plan
    at_import = _import_lines.into
    out = Path(plan["results"])
    root = Path(tempfile.mkdtemp(prefix="roost-mutation-"))
    try:
        _loop(session, plan, at_import, out, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return True


def _loop(
    session: pytest.Session, plan: dict[str, Any], at_import: set[int], out: Path, root: Path
) -> None:
    module = sys.modules.get(plan["module"])
    if module is None:
        raise RuntimeError(f"the tests never import {plan['module']}")
    if module.__file__ != plan["path"]:
        raise RuntimeError(f"{plan['module']} was imported from {module.__file__}")
    if threading.active_count() > 1:
        raise RuntimeError("threads run after collection: forking here would be unsafe")

    started = time.monotonic()
    baseline_file = root / "baseline.json"

    def baseline_body() -> int:
        _baseline(session, plan, root, baseline_file)
        return 0

    errors = root / "baseline.error"
    pid = _fork(baseline_body, errors)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not baseline_file.exists():
        why = errors.read_text(encoding="utf-8") if errors.exists() else f"status {status}"
        _write(out, {"baseline": None, "problem": f"the unmutated run died: {why}"})
        return
    baseline: dict[str, Any] = json.loads(baseline_file.read_text(encoding="utf-8"))
    failed = {k: v["failed"] for k, v in baseline.items() if v["failed"]}
    _write(
        out,
        {
            "baseline": {k: v["seconds"] for k, v in baseline.items()},
            "seconds": round(time.monotonic() - started, 1),
            "failed": failed,
            "at_import": sorted(at_import),
        },
    )
    if failed:
        return

    by_id = {item.nodeid: item for item in session.items}
    fastest = sorted(baseline, key=lambda k: baseline[k]["seconds"])
    everything = list(fastest)
    executed = {k: set(v["lines"]) for k, v in baseline.items()}
    queue: list[tuple[dict[str, Any], list[str]]] = []
    for mutant in plan["mutants"]:
        first, last = mutant["lines"]
        span = set(range(first, last + 1))
        if mutant["function"] is None or span & at_import:
            _write(out, {"number": mutant["number"], "fresh": everything})
            continue
        chosen = [k for k in fastest if executed[k] & span]
        if not chosen:
            record = {"number": mutant["number"], "verdict": "survived", "seconds": 0, "tests": 0}
            _write(out, record)
            continue
        queue.append((mutant, chosen))

    jobs = max(1, int(plan["jobs"]))
    budget = plan.get("budget")
    running: dict[int, _Child] = {}
    while queue or running:
        while queue and len(running) < jobs:
            mutant, chosen = queue.pop(0)
            number = mutant["number"]
            if budget is not None and time.monotonic() - started > budget:
                _write(out, {"number": number, "verdict": "not run", "seconds": 0, "tests": 0})
                continue

            def body(mutant: dict[str, Any] = mutant, chosen: list[str] = chosen) -> int:
                _own_temp(session.config, root, f"mutant-{mutant['number']}")
                put_in_place(module, mutant["source"], mutant["function"])
                return SURVIVED_CODE if _run([by_id[k] for k in chosen]) else KILLED_CODE

            child = _Child(
                number,
                len(chosen),
                time.monotonic(),
                3 * sum(baseline[k]["seconds"] for k in chosen) + 30,
                root / f"mutant-{number}",
            )
            running[_fork(body, child.errors)] = child
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for pid, child in running.items():
                if child.overdue():
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
            time.sleep(0.02)
            continue
        child = running.pop(pid)
        shutil.rmtree(child.temp, ignore_errors=True)
        seconds = round(time.monotonic() - child.began, 2)
        code = os.waitstatus_to_exitcode(status)
        if code == -signal.SIGKILL and child.overdue():
            verdict = "timed out"
        elif code == BROKEN_CODE:
            # Not put in place (or the harness failed): a fresh process
            # imports it instead, as for a mutant acting at import.
            why = child.errors.read_text(encoding="utf-8") if child.errors.exists() else ""
            _write(out, {"number": child.number, "fresh": everything, "broken": why})
            continue
        else:
            verdict = "survived" if code == SURVIVED_CODE else "killed"
        _write(
            out,
            {"number": child.number, "verdict": verdict, "seconds": seconds, "tests": child.tests},
        )


@dataclass(frozen=True)
class _Child:
    """A mutant's child process: which, on how many tests, since when, its
    time limit and its own temporary directory."""

    number: int
    tests: int
    began: float
    limit: float
    temp: Path

    @property
    def errors(self) -> Path:
        return self.temp.with_suffix(".error")

    def overdue(self) -> bool:
        return time.monotonic() - self.began > self.limit
