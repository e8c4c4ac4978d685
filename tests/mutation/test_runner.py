"""The mutation runner itself (scripts/mutation), on a toy module: it makes the
slips it promises, the tests it runs see the mutant and not the original
(put in place in a forked child, or imported in a fresh process when it acts
at import), a guarded line's mutants die, an unguarded one survives and is
named, and the floor check fails under its floor. The real runs are part of
CI (.ci/run); their figures are in docs/operations.md."""

from __future__ import annotations

from pathlib import Path

import pytest

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
PASS_MARK = 50


def grade(score: int) -> str:
    """Pass from fifty."""
    if score >= PASS_MARK:
        return "pass"
    return "fail"


def flip(flag: bool) -> bool:
    return not flag


def honours(score: int, *, cut: int = 90) -> bool:
    return score >= cut
'''

TOY_TESTS = """\
from toy import grade, honours


def test_fifty_passes_and_forty_nine_fails():
    assert grade(50) == "pass"
    assert grade(49) == "fail"


def test_ninety_is_honours():
    assert honours(90) and not honours(89)
"""


def test_the_recorded_floors_name_every_target_and_say_why_each_equivalent_is() -> None:
    recorded = floors()
    assert set(recorded) == {"privacy", "erasure-registry", "audit-chain"}
    for floor in recorded.values():
        assert 0.95 <= floor.rate <= 1.0
        assert all(why.strip() for why in floor.equivalent.values())


def test_given_a_module_then_its_mutants_are_the_promised_slips_and_skip_annotations() -> None:
    made = mutants(TOY)
    assert [(m.line, m.description) for m in made] == [
        (6, "50 -> 51"),
        (11, "negates the condition of `if`"),
        (11, ">= -> >"),
        (17, "drops `not`"),
        (20, "90 -> 91"),
        (21, ">= -> >"),
    ]
    assert "score > PASS_MARK" in made[2].source and "score >= PASS_MARK" not in made[2].source
    assert "int | None" in made[0].source  # the annotation is untouched
    assert [m.number for m in made] == [1, 2, 3, 4, 5, 6]
    assert [m.source for m in mutants(TOY)] == [m.source for m in made]  # stable
    # Where each acts: the constant at import; the rest when their function
    # runs (a default, when the function is called: its body's lines).
    assert [(m.lines, m.function) for m in made] == [
        ((6, 6), None),
        ((11, 12), "grade"),
        ((11, 11), "grade"),
        ((17, 17), "flip"),
        ((21, 21), "honours"),
        ((21, 21), "honours"),
    ]


def test_given_a_toy_suite_when_run_then_guarded_slips_die_and_the_unguarded_one_is_named(
    tmp_path: Path,
) -> None:
    (tmp_path / "toy.py").write_text(TOY)
    (tmp_path / "test_toy.py").write_text(TOY_TESTS)
    report = run_target("toy", Target("toy", ("test_toy.py",), root=tmp_path), jobs=2, log=False)
    assert report.made == 6
    assert [o.verdict for o in report.outcomes] == [KILLED] * 3 + [SURVIVED] + [KILLED] * 2
    assert [o.how for o in report.outcomes] == [
        "fresh process, 2 tests",  # acts at import: every test
        "1 tests",  # only the test that reaches grade()
        "1 tests",
        "no test executes it",
        "1 tests",
        "1 tests",
    ]
    assert report.kill_rate == 5 / 6
    [survivor] = report.survivors()
    assert (survivor.line, survivor.original) == (17, "return not flag")
    assert "survivor #4 line 17: drops `not`" in summary(report)
    assert check(report, 0.8) is None
    problem = check(report, 0.9)
    assert problem is not None and "83.3% is under the recorded floor 90.0%" in problem

    # Recorded as equivalent (with why), the survivor leaves the rate.
    again = run_target(
        "toy",
        Target("toy", ("test_toy.py",), root=tmp_path),
        only={4},
        log=False,
        equivalent={("drops `not`", "return not flag"): "nothing calls flip"},
    )
    assert [o.verdict for o in again.outcomes] == [EQUIVALENT]
    assert "equivalent #4 line 17" in summary(again) and again.survivors() == []


def test_given_tests_that_fail_unmutated_then_the_run_stops_before_any_mutant(
    tmp_path: Path,
) -> None:
    (tmp_path / "toy.py").write_text(TOY)
    (tmp_path / "test_toy.py").write_text(
        TOY_TESTS.replace("grade(49)", "grade(48) == grade(49) !=")
    )
    with pytest.raises(SystemExit, match="do not pass unmutated"):
        run_target("toy", Target("toy", ("test_toy.py",), root=tmp_path), log=False)
