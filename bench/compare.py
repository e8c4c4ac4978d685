"""Compare each benchmark's newest run with the one before it.

    python -m bench.compare                  # every history in bench/results
    python -m bench.compare http_timeline    # one benchmark
    python -m bench.compare --threshold 0.1  # flag a change of 10% or worse

For each figure both runs have, the ratio new / old; a figure whose better
direction is ``higher`` regresses when the ratio falls below 1 - threshold,
one whose better direction is ``lower`` when it rises above 1 + threshold.
Exits 1 when any figure regressed (so a script or CI step can stop on it),
0 otherwise, 2 when there is nothing to compare. The machine's load average
per core is shown for both runs: figures taken under different load are not
comparable, and a regression under much higher load says little.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._results import RESULTS, load

DEFAULT_THRESHOLD = 0.2


@dataclass(frozen=True)
class Change:
    bench: str
    figure: str
    old: float
    new: float
    better: str
    unit: str

    @property
    def ratio(self) -> float:
        if self.old == 0:
            return float("inf") if self.new else 1.0
        return self.new / self.old

    def regressed(self, threshold: float) -> bool:
        if self.better == "higher":
            return self.ratio < 1 - threshold
        return self.ratio > 1 + threshold


def _load_per_core(run: dict[str, Any]) -> float | None:
    machine = run.get("machine") or {}
    load, cores = machine.get("load_average"), machine.get("cores")
    if not load or not cores:
        return None
    return float(load[0]) / float(cores)


def changes(previous: dict[str, Any], newest: dict[str, Any]) -> list[Change]:
    found = []
    old_figures = previous.get("figures", {})
    for key, figure in newest.get("figures", {}).items():
        if key not in old_figures:
            continue
        found.append(
            Change(
                newest.get("name", ""),
                key,
                float(old_figures[key]["value"]),
                float(figure["value"]),
                figure["better"],
                figure.get("unit", ""),
            )
        )
    return found


def compare(paths: list[Path], threshold: float, out: Any = sys.stdout) -> int:
    compared = 0
    regressions: list[Change] = []
    for path in paths:
        history = load(path)
        if len(history) < 2:
            print(f"{path.stem}: {len(history)} run(s), nothing to compare yet", file=out)
            continue
        previous, newest = history[-2], history[-1]
        compared += 1
        print(
            f"\n{path.stem}: {previous.get('commit', '?')[:12]} ({previous.get('date', '?')}) "
            f"-> {newest.get('commit', '?')[:12]} ({newest.get('date', '?')})",
            file=out,
        )
        loads = [_load_per_core(previous), _load_per_core(newest)]
        if None not in loads:
            print(f"  load per core: {loads[0]:.2f} -> {loads[1]:.2f}", file=out)
            if abs(loads[0] - loads[1]) > 0.5:  # type: ignore[operator]
                print("  (the load differs a lot: compare these with care)", file=out)
        for change in changes(previous, newest):
            flag = "REGRESSED" if change.regressed(threshold) else ""
            if flag:
                regressions.append(change)
            print(
                f"  {change.figure:<40}{change.old:>12.4g}{change.new:>12.4g} "
                f"{change.unit:<6}x{change.ratio:<8.3f}({change.better} is better) {flag}",
                file=out,
            )
    if not compared:
        print("no benchmark has two runs to compare", file=out)
        return 2
    if regressions:
        print(
            f"\n{len(regressions)} figure(s) regressed beyond {threshold:.0%}: "
            + ", ".join(f"{c.bench}.{c.figure} x{c.ratio:.2f}" for c in regressions),
            file=out,
        )
        return 1
    print(f"\nno figure regressed beyond {threshold:.0%}", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to compare (default: all)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"the change that counts as a regression (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results directory")
    args = parser.parse_args(argv)
    if args.names:
        paths = [args.results / f"{name}.json" for name in args.names]
    else:
        paths = sorted(args.results.glob("*.json"))
    return compare(paths, args.threshold)


if __name__ == "__main__":
    sys.exit(main())
