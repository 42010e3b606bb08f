"""How checkers talk: pass lines, one-paragraph failures, student errors, budgets and setup."""

from __future__ import annotations

import pytest
import torch

from cem.exercises import CheckFailed, NotAnswered, budget, fast_mode, setup
from cem.exercises.feedback import call_student, install_display, passed, require


def test_passed_prints_one_line_and_returns_true(capsys: pytest.CaptureFixture[str]) -> None:
    assert passed("task", "well done.") is True
    assert capsys.readouterr().out == "✓ task: well done.\n"


def test_failure_message_has_the_problem_and_the_hint() -> None:
    e = CheckFailed("task", "x is 3.", "count again.")
    assert str(e) == "✗ task: x is 3.\n  Hint: count again."
    assert str(CheckFailed("task", "x is 3.")) == "✗ task: x is 3."


@pytest.mark.parametrize("value", [..., None])
def test_placeholders_are_not_answered(value: object) -> None:
    with pytest.raises(NotAnswered, match="`x` is still a placeholder"):
        require("task", "x", value)
    assert require("task", "x", 0) == 0  # falsy answers are answers


def test_errors_in_student_code_become_one_plain_message() -> None:
    def student(a):
        return a @ torch.ones(3, 2)

    with pytest.raises(CheckFailed) as e:
        call_student("task", "your function on a (4, 5) batch", student, torch.ones(4, 5))
    msg = str(e.value)
    assert "your function on a (4, 5) batch raised RuntimeError" in msg
    assert "return a @ torch.ones(3, 2)" in msg  # the student's own line, not the library's
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_not_implemented_counts_as_a_placeholder() -> None:
    def todo():
        raise NotImplementedError

    with pytest.raises(NotAnswered, match="`todo` still raises NotImplementedError"):
        call_student("task", "todo()", todo)


def test_display_is_only_installed_in_ipython() -> None:
    assert install_display() is False  # plain pytest: no IPython shell


def test_the_display_prints_one_message_for_checks_and_library_errors(capsys) -> None:
    from cem.errors import CemError
    from cem.exercises.feedback import _show

    assert _show(None, CheckFailed, CheckFailed("task", "x is 3.", "count."), None) == []
    assert capsys.readouterr().err == "✗ task: x is 3.\n  Hint: count.\n"
    error = CemError("model.alpha is unknown; allowed: name, emb_size")
    assert _show(None, CemError, error, None) == []
    assert (
        capsys.readouterr().err == "✗ cem-bench: model.alpha is unknown; allowed: name, emb_size\n"
    )


@pytest.mark.parametrize(
    ("value", "fast"), [("1", True), ("yes", True), ("0", False), ("", False), ("false", False)]
)
def test_fast_mode_and_budget(monkeypatch: pytest.MonkeyPatch, value: str, fast: bool) -> None:
    monkeypatch.setenv("CEM_EXERCISES_FAST", value)
    assert fast_mode() is fast
    assert budget(full=500, fast=5) == (5 if fast else 500)


def test_setup_pins_threads_and_says_the_mode(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CEM_EXERCISES_FAST", "1")
    before = torch.get_num_threads()
    try:
        session = setup("02", threads=1)
        assert torch.get_num_threads() == 1 and session.fast
        assert session.exercise is not None and session.exercise.name == "02_completeness"
        out = capsys.readouterr().out
        assert out.startswith("Exercise 2: Concept completeness — fast mode")
    finally:
        torch.set_num_threads(before)
