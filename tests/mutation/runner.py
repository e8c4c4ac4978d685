"""Mutation testing of the modules a silent slip would hurt most.

    scripts/mutation                      # every target, report only
    scripts/mutation privacy --check      # fail under the recorded floor
    scripts/mutation privacy --mutant 17  # show one mutant and its verdict

For each target module every mutant (tests/mutation/mutants.py) is tried on
the target's tests, on SQLite, fastest first, stopping at the first failure.
One pytest process per target (tests/mutation/worker.py) runs the tests once
unmutated, noting the lines of the module each executes, then puts each
mutant in place in a forked child and runs only the tests that reach it; a
mutant acting at import gets a fresh process with the mutant imported in
place (tests/mutation/loader.py), on every test. A mutant the tests fail on
(or that hangs past the time limit) is killed; one they pass, or that no test
executes, is a survivor: a slip in that line would ship. The report names
each survivor with its line, and ``--check`` fails when the kill rate falls
under the floor recorded in tests/mutation/floor.json, so a change that
weakens the tests (or adds code they do not guard) is seen.

If the tests do not pass unmutated, nothing else is meaningful and the run
stops.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.mutation.mutants import Mutant, mutants, mutated_line

REPO = Path(__file__).resolve().parents[2]
FLOOR_FILE = Path(__file__).with_name("floor.json")
REPORTS = REPO / ".test-reports"


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]  # fastest first: most mutants die in the first file
    root: Path = REPO

    @property
    def path(self) -> Path:
        return self.root / (self.module.replace(".", "/") + ".py")


TARGETS: dict[str, Target] = {
    "privacy": Target(
        "roost.domain.privacy",
        (
            "tests/privacy/test_visibility.py",
            "tests/privacy/test_silenced.py",
            "tests/privacy/test_conversations.py",
            # Where the policy's discovery and quote rules are used.
            "tests/trends/test_trends.py",
            "tests/api/test_quote_states.py",
            "tests/privacy/test_policy_machine.py",
        ),
    ),
    "erasure-registry": Target(
        "roost.erasure.registry",
        ("tests/erasure/test_registry.py", "tests/erasure/test_polls_scheduled_quotes.py"),
    ),
    "audit-chain": Target(
        "roost.domain.audit.chain",
        ("tests/audit/test_chain.py",),
    ),
}

KILLED, TIMED_OUT, SURVIVED, NOT_RUN = "killed", "timed out", "survived", "not run"
# A survivor recorded in floor.json as unable to change behaviour (with why):
# left out of the kill rate, listed apart.
EQUIVALENT = "equivalent"


@dataclass(frozen=True)
class Floor:
    rate: float
    # (description, original line) -> why no test can kill it
    equivalent: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class Outcome:
    number: int
    line: int
    description: str
    original: str
    verdict: str
    seconds: float
    how: str = ""  # the tests it ran on, or why it ran none


@dataclass
class Report:
    target: str
    module: str
    made: int
    baseline_seconds: float  # the tests' own seconds, unmutated
    seconds: float = 0.0
    tests: int = 0
    baseline_run_seconds: float = 0.0  # start-up, import and the traced run
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, *verdicts: str) -> int:
        return sum(1 for o in self.outcomes if o.verdict in verdicts)

    @property
    def killed(self) -> int:
        return self.count(KILLED, TIMED_OUT)

    @property
    def run(self) -> int:
        return self.count(KILLED, TIMED_OUT, SURVIVED)

    @property
    def kill_rate(self) -> float:
        """Killed among the mutants run, equivalent ones left out."""
        return self.killed / self.run if self.run else 0.0

    def survivors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == SURVIVED]

    def equivalents(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.verdict == EQUIVALENT]


def _environment(module: str | None, source: Path | None) -> dict[str, str]:
    """SQLite only: the policy is the same SQL on both backends, and a run per
    mutant must be as short as it can be. The backend requirement of CI is
    lifted here (its PostgreSQL variants are deselected, not failed)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ROOST_TEST_DATABASE_URL", "ROOST_TEST_REDIS_URL", "ROOST_REQUIRE_BACKENDS"}
    }
    env.pop("ROOST_MUTANT_MODULE", None)
    env.pop("ROOST_MUTANT_SOURCE", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The loader plugin is tests.mutation.loader, wherever pytest runs.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if module is not None and source is not None:
        env["ROOST_MUTANT_MODULE"] = module
        env["ROOST_MUTANT_SOURCE"] = str(source)
    return env


def _pytest(
    tests: Sequence[str],
    env: dict[str, str],
    timeout: float | None,
    cwd: Path,
) -> tuple[int | None, float, str]:
    """(exit code or None on timeout, seconds, output tail)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "tests.mutation.loader",
        "-k",
        "not postgres",
        *tests,
    ]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - started, ""
    return done.returncode, time.monotonic() - started, (done.stdout + done.stderr)[-3000:]


def _worker(
    target: Target,
    env: dict[str, str],
    scratch: Path,
    results: Path,
    take: Callable[[dict[str, Any]], None],
) -> tuple[int, str]:
    """Run the worker's pytest process, handing each record it writes to
    ``take`` as it comes; (exit code, output tail)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "tests.mutation.worker",
        "-k",
        "not postgres",
        *target.tests,
    ]
    log = scratch / "worker.log"
    done = 0

    def drain() -> None:
        nonlocal done
        if not results.exists():
            return
        text = results.read_text(encoding="utf-8")
        complete = text[: text.rfind("\n") + 1]
        for line in complete[done:].splitlines():
            take(json.loads(line))
        done = len(complete)

    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            command, cwd=target.root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        while process.poll() is None:
            drain()
            time.sleep(0.2)
    drain()
    return process.returncode, log.read_text(encoding="utf-8", errors="replace")[-3000:]


def run_target(
    name: str,
    target: Target,
    *,
    jobs: int = 1,
    budget_s: float | None = None,
    only: set[int] | None = None,
    log: bool = True,
    progress: Path | None = None,
    equivalent: dict[tuple[str, str], str] | None = None,
) -> Report:
    """Run every mutant of ``target`` (or those in ``only``). Each verdict is
    also appended to ``progress`` (JSON lines) as it comes, so a run stopped
    part way keeps what it found.

    One pytest process (tests/mutation/worker.py) runs the tests unmutated,
    noting which lines each executes, then tries each mutant in a forked
    child on the tests that reach it. A mutant acting at import is run in a
    fresh process of its own, on every test (tests/mutation/loader.py)."""
    original = target.path.read_text(encoding="utf-8")
    made = mutants(original)
    chosen = {m.number: m for m in made if only is None or m.number in only}
    started = time.monotonic()
    lock = threading.Lock()
    if progress is not None:
        progress.write_text("", encoding="utf-8")
    outcomes: dict[int, Outcome] = {}

    def settle(mutant: Mutant, verdict: str, seconds: float, how: str) -> None:
        outcome = Outcome(
            mutant.number,
            mutant.line,
            mutant.description,
            mutated_line(original, mutant),
            verdict,
            round(seconds, 1),
            how,
        )
        if verdict == SURVIVED and (mutant.description, outcome.original) in (equivalent or {}):
            outcome.verdict = EQUIVALENT
        with lock:
            outcomes[mutant.number] = outcome
            if progress is not None:
                with progress.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(asdict(outcome)) + "\n")
        if log:
            print(
                f"  {name} #{mutant.number} line {mutant.line} {mutant.description}: "
                f"{outcome.verdict} ({seconds:.1f}s, {how})",
                flush=True,
            )

    with tempfile.TemporaryDirectory(prefix="roost-mutants-") as scratch:
        plan_file = Path(scratch) / "plan.json"
        results = Path(scratch) / "results.jsonl"
        plan_file.write_text(
            json.dumps(
                {
                    "module": target.module,
                    "path": str(target.path),
                    "jobs": jobs,
                    "budget": budget_s,
                    "results": str(results),
                    "mutants": [
                        {
                            "number": m.number,
                            "source": m.source,
                            "lines": list(m.lines),
                            "function": m.function,
                        }
                        for m in chosen.values()
                    ],
                }
            ),
            encoding="utf-8",
        )
        env = _environment(None, None)
        env["ROOST_MUTATION_PLAN"] = str(plan_file)
        fresh: list[tuple[Mutant, list[str]]] = []
        head: dict[str, Any] = {}

        def take(record: dict[str, Any]) -> None:
            if "baseline" in record:
                head.update(record)
                if record["baseline"] and log:
                    print(
                        f"  {name}: {len(record['baseline'])} tests pass unmutated "
                        f"({sum(record['baseline'].values()):.0f}s of tests, traced; "
                        f"{record['seconds']:.0f}s)",
                        flush=True,
                    )
                return
            mutant = chosen[record["number"]]
            if "fresh" in record:
                fresh.append((mutant, record["fresh"]))
                return
            how = (
                f"{record['tests']} tests"
                if record["tests"]
                else "budget spent"
                if record["verdict"] == NOT_RUN
                else "no test executes it"
            )
            settle(mutant, record["verdict"], record["seconds"], how)

        code, output = _worker(target, env, Path(scratch), results, take)
        if not head.get("baseline") or head.get("failed"):
            raise SystemExit(
                f"{name}: the tests of {target.module} do not pass unmutated (exit {code}):\n"
                f"{head.get('problem') or json.dumps(head.get('failed')) or ''}\n{output}"
            )
        if code != 0:
            raise SystemExit(f"{name}: the mutation worker failed (exit {code}):\n{output}")
        baseline: dict[str, float] = head["baseline"]
        report = Report(
            name,
            target.module,
            len(made),
            round(sum(baseline.values()), 1),
            tests=len(baseline),
            baseline_run_seconds=head["seconds"],
        )

        # Mutants acting at import: each in a fresh process, on every test.
        timeout = 3 * sum(baseline.values()) + 60

        def one(item: tuple[Mutant, list[str]]) -> None:
            mutant, tests = item
            if budget_s is not None and time.monotonic() - started > budget_s:
                settle(mutant, NOT_RUN, 0, "budget spent")
                return
            source = Path(scratch) / f"mutant_{mutant.number}.py"
            source.write_text(mutant.source, encoding="utf-8")
            code, seconds, _ = _pytest(
                tests, _environment(target.module, source), timeout, target.root
            )
            verdict = TIMED_OUT if code is None else SURVIVED if code == 0 else KILLED
            settle(mutant, verdict, seconds, f"fresh process, {len(tests)} tests")

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, fresh))
    report.outcomes = [outcomes[n] for n in sorted(outcomes)]
    report.seconds = round(time.monotonic() - started, 1)
    return report


def summary(report: Report) -> str:
    lines = [
        f"{report.target} ({report.module}): {report.made} mutants, "
        f"{report.killed} killed ({report.count(TIMED_OUT)} by timeout), "
        f"{len(report.survivors())} survived, {len(report.equivalents())} equivalent, "
        f"{report.count(NOT_RUN)} not run; "
        f"kill rate {report.kill_rate:.1%}; tests {report.baseline_seconds:.0f}s clean, "
        f"{report.seconds:.0f}s in all"
    ]
    for o in report.survivors():
        lines.append(f"  survivor #{o.number} line {o.line}: {o.description}  |  {o.original}")
    for o in report.equivalents():
        lines.append(f"  equivalent #{o.number} line {o.line}: {o.description}  |  {o.original}")
    return "\n".join(lines)


def floors(path: Path = FLOOR_FILE) -> dict[str, Floor]:
    """floor.json: per target, the kill rate it must keep and the survivors
    recorded as equivalent, each with the reason no test can kill it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: Floor(
            float(entry["floor"]),
            {(e["mutation"], e["line"]): e["why"] for e in entry.get("equivalent", [])},
        )
        for name, entry in data.items()
    }


def check(report: Report, floor: float) -> str | None:
    """Why the report fails its floor, or None."""
    if report.count(NOT_RUN):
        return (
            f"{report.target}: {report.count(NOT_RUN)} mutants were not run within the "
            "budget; a partial run proves nothing (raise --budget)"
        )
    if report.kill_rate < floor:
        return (
            f"{report.target}: kill rate {report.kill_rate:.1%} is under the recorded floor "
            f"{floor:.1%} (tests/mutation/floor.json): a test was weakened or new code is "
            "unguarded; kill the survivors listed above"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help=f"any of {', '.join(TARGETS)} (all)")
    parser.add_argument("--check", action="store_true", help="fail under the recorded floor")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--budget", type=float, default=None, help="seconds per target")
    parser.add_argument("--mutant", type=int, action="append", help="run only these numbers")
    parser.add_argument("--show", type=int, help="print one mutant's source diff and exit")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    names = list(args.targets) or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"no target {', '.join(unknown)}; targets: {', '.join(TARGETS)}")

    if args.show is not None or args.list:
        for name in names:
            target = TARGETS[name]
            original = target.path.read_text(encoding="utf-8")
            for m in mutants(original):
                if args.list:
                    print(f"{name} #{m.number} line {m.line}: {m.description}")
                elif m.number == args.show:
                    print(f"{name} #{m.number} line {m.line}: {m.description}")
                    print(f"  was: {mutated_line(original, m)}")
        return 0

    REPORTS.mkdir(exist_ok=True)
    failures: list[str] = []
    recorded = floors()
    for name in names:
        only = set(args.mutant) if args.mutant else None
        report = run_target(
            name,
            TARGETS[name],
            jobs=args.jobs,
            budget_s=args.budget,
            only=only,
            progress=REPORTS / f"mutation-{name}.progress.jsonl",
            equivalent=recorded[name].equivalent,
        )
        (REPORTS / f"mutation-{name}.json").write_text(
            json.dumps(asdict(report), indent=1), encoding="utf-8"
        )
        print(summary(report), flush=True)
        if args.check:
            problem = check(report, recorded[name].rate)
            if problem:
                failures.append(problem)
    for problem in failures:
        print("FAIL " + problem, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
