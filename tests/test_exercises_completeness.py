"""Exercise 2's checkers: the right answers pass, typical wrong ones get their specific hint."""

from __future__ import annotations

import numpy as np
import pytest

from cem.data import paper
from cem.data.stats import concept_ceiling, pattern_counts
from cem.exercises import CheckFailed, NotAnswered, check


def good(c: np.ndarray, y: np.ndarray) -> float:
    return concept_ceiling(c, y)


def test_ceiling_function_right_answer_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert check.ceiling_function(good)
    assert "✓ ceiling_function" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda c, y: 100 * concept_ceiling(c, y), "not a percentage"),
        (lambda c, y: 1 - concept_ceiling(c, y), "gets wrong"),
        (lambda c, y: max(y.mean(), 1 - y.mean()), "most common label"),
        (lambda c, y: 0.5, "group the samples by their concept pattern"),
    ],
)
def test_ceiling_function_wrong_answers_get_their_hint(fn, hint: str) -> None:
    with pytest.raises(CheckFailed, match=hint):
        check.ceiling_function(fn)


def test_ceiling_function_placeholders_and_errors_are_plain() -> None:
    def todo(c, y): ...

    def broken(c, y):
        return c[:, 7].mean()

    with pytest.raises(NotAnswered, match="returned None"):
        check.ceiling_function(todo)
    with pytest.raises(NotAnswered):
        check.ceiling_function(...)
    with pytest.raises(CheckFailed, match=r"raised IndexError: .*line \d+") as e:
        check.ceiling_function(broken)
    assert "Traceback" not in str(e.value)
    with pytest.raises(CheckFailed, match="pass the function itself"):
        check.ceiling_function(0.8)
    with pytest.raises(CheckFailed, match="should be a number"):
        check.ceiling_function(lambda c, y: np.array([0.5, 0.5]))


def truth(split: str = "test") -> dict[str, float]:
    return {
        n: concept_ceiling(paper(n)[split].c, paper(n)[split].y) for n in ("xor", "trig", "dot")
    }


def test_ceilings_right_answer_passes_and_matches_the_reference_values() -> None:
    values = truth()
    assert check.ceilings(values)
    # REFERENCE §1: 100%, 81.8%, 76.8% on the paper's test split.
    assert [round(100 * values[n], 1) for n in ("xor", "trig", "dot")] == [100.0, 81.8, 76.8]


def test_ceilings_wrong_answers_get_their_hint() -> None:
    with pytest.raises(CheckFailed, match="training split"):
        check.ceilings(truth("train"))
    with pytest.raises(CheckFailed, match="not percentages"):
        check.ceilings({k: 100 * v for k, v in truth().items()})
    with pytest.raises(CheckFailed, match="no 'dot' entry"):
        check.ceilings({"xor": 1.0, "trig": 0.8})
    with pytest.raises(CheckFailed, match="give a dict"):
        check.ceilings([1.0, 0.8, 0.7])


def test_trig_worst_pattern_accepts_any_tied_pattern_and_rejects_the_others() -> None:
    split = paper("trig")["test"]
    errors = {p: sum(n) - max(n) for p, n in pattern_counts(split.c, split.y).items()}
    worst = max(errors.values())
    for p, e in errors.items():
        if e == worst:
            assert check.trig_worst_pattern(p)
        else:
            with pytest.raises(CheckFailed, match="another pattern has"):
                check.trig_worst_pattern(p)
    with pytest.raises(CheckFailed, match="three 0/1 values|tuple of 3"):
        check.trig_worst_pattern((1, 1))


def test_why_incomplete() -> None:
    assert check.why_incomplete("b")
    with pytest.raises(CheckFailed, match="flips nothing"):
        check.why_incomplete("a")
    with pytest.raises(CheckFailed, match="any function of the concepts"):
        check.why_incomplete("c")
