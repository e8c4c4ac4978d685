"""The mutation runner itself (scripts/mutation), on a toy module: it makes the
slips it promises, the tests it runs see the mutant and not the original, a
guarded line's mutants die, an unguarded one survives and is named, and the
floor check fails under its floor. The real runs take many minutes and are not
part of the suite; their figures are in docs/operations.md."""

from __future__ import annotations

from pathlib import Path

from tests.mutation.mutants import mutants
from tests.mutation.runner import (
    EQUIVALENT,
    KILLED,
    SURVIVED,
    Target,
    check,
    floors,
    run_target,
    summary,
)

TOY = '''\
"""A docstring is never mutated."""

from __future__ import annotations

LIMIT: int | None = None


def grade(score: int) -> str:
    """Pass from fifty."""
    if score >= 50:
        return "pass"
    return "fail"


def flip(flag: bool) -> bool:
    return not flag
'''

TOY_TESTS = """\
from toy import grade


def test_fifty_passes_and_forty_nine_fails():
    assert grade(50) == "pass"
    assert grade(49) == "fail"
"""


def test_the_recorded_floors_name_every_target_and_say_why_each_equivalent_is() -> None:
    recorded = floors()
    assert set(recorded) == {"privacy", "erasure-registry", "audit-chain"}
    for floor in recorded.values():
        assert 0.9 <= floor.rate <= 1.0
        assert all(why.strip() for why in floor.equivalent.values())


def test_given_a_module_then_its_mutants_are_the_promised_slips_and_skip_annotations() -> None:
    made = mutants(TOY)
    assert [(m.line, m.description) for m in made] == [
        (10, "negates the condition of `if`"),
        (10, ">= -> >"),
        (10, "50 -> 51"),
        (16, "drops `not`"),
    ]
    assert "score > 50" in made[1].source and "score >= 50" not in made[1].source
    assert "int | None" in made[0].source  # the annotation is untouched
    assert [m.number for m in made] == [1, 2, 3, 4]
    assert [m.source for m in mutants(TOY)] == [m.source for m in made]  # stable


def test_given_a_toy_suite_when_run_then_guarded_slips_die_and_the_unguarded_one_is_named(
    tmp_path: Path,
) -> None:
    (tmp_path / "toy.py").write_text(TOY)
    (tmp_path / "test_toy.py").write_text(TOY_TESTS)
    report = run_target("toy", Target("toy", ("test_toy.py",), root=tmp_path), jobs=2, log=False)
    assert report.made == 4
    assert [o.verdict for o in report.outcomes] == [KILLED, KILLED, KILLED, SURVIVED]
    assert report.kill_rate == 0.75
    [survivor] = report.survivors()
    assert (survivor.line, survivor.original) == (16, "return not flag")
    assert "survivor #4 line 16: drops `not`" in summary(report)
    assert check(report, 0.75) is None
    problem = check(report, 0.9)
    assert problem is not None and "75.0% is under the recorded floor 90.0%" in problem

    # Recorded as equivalent (with why), the survivor leaves the rate.
    again = run_target(
        "toy",
        Target("toy", ("test_toy.py",), root=tmp_path),
        only={4},
        log=False,
        equivalent={("drops `not`", "return not flag"): "nothing calls flip"},
    )
    assert [o.verdict for o in again.outcomes] == [EQUIVALENT]
    assert "equivalent #4 line 16" in summary(again) and again.survivors() == []
