"""Exercise 6's checkers: the right answers pass, typical wrong ones get their specific hint,
placeholders and bad input get one plain sentence."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from exercise_checks import message_of
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cem.exercises import NotAnswered, check
from cem.exercises.tradeoff import dominates, pareto_front
from cem.train import resolve_config, run

MODELS = ("cbm_sigmoid", "cbm_logit")
ALPHAS = [0, 0.1, 10]
EPOCHS = 30


# ---- task 1: the sweep, checked on the recorded configs --------------------------------------


def _result(model="cbm_sigmoid", weight=1.0, dataset="dot", epochs=EPOCHS, seed=42, **extra):
    """A stand-in for a RunResult: the config ``run`` would record (resolved by the library)."""
    config = resolve_config(
        {
            "dataset": {"name": dataset},
            "model": {"name": model, "concept_loss_weight": weight, **extra},
            "trainer": {"max_epochs": epochs},
            "seed": seed,
        }
    )
    return SimpleNamespace(config=config, metrics={})


def _sweep(**change) -> dict:
    return {(m, a): _result(m, a, **change) for m in MODELS for a in ALPHAS}


def test_a_real_sweep_passes(capsys) -> None:
    torch.set_num_threads(1)
    runs = {
        ("cbm_sigmoid", a): run(
            {
                "dataset": {"name": "dot"},
                "model": {"name": "cbm_sigmoid", "concept_loss_weight": a},
                "trainer": {"max_epochs": 2, "accelerator": "cpu", "progress": "none"},
                "evaluation": {"interventions": False, "alignment": False, "impurity": False},
                "seed": 42,
            }
        )
        for a in (0, 1)
    }
    assert check.alpha_sweep(runs, ("cbm_sigmoid",), [0, 1], 2)
    assert "2 runs" in capsys.readouterr().out


def test_the_right_configs_pass() -> None:
    assert check.alpha_sweep(_sweep(), MODELS, ALPHAS, EPOCHS)


def test_alpha_as_the_task_loss_weight_gets_its_hint() -> None:
    runs = {(m, a): _result(m, 1.0, task_loss_weight=a) for m in MODELS for a in ALPHAS}
    assert "not `task_loss_weight`" in message_of(check.alpha_sweep, runs, MODELS, ALPHAS, EPOCHS)


def test_the_loop_variable_forgotten_gets_its_hint() -> None:
    runs = {(m, a): _result(m, 1.0) for m in MODELS for a in ALPHAS}
    assert "every run has the same" in message_of(check.alpha_sweep, runs, MODELS, ALPHAS, EPOCHS)
    one_model = {(m, a): _result("cbm_sigmoid", a) for m in MODELS for a in ALPHAS}
    message = message_of(check.alpha_sweep, one_model, MODELS, ALPHAS, EPOCHS)
    assert "trained 'cbm_sigmoid', not 'cbm_logit'" in message


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"dataset": "trig"}, '"dataset": {"name": "dot"}'),
        ({"epochs": 5}, "EPOCHS"),
    ],
)
def test_other_settings_get_their_hint(change, hint) -> None:
    assert hint in message_of(check.alpha_sweep, _sweep(**change), MODELS, ALPHAS, EPOCHS)


def test_different_seeds_are_refused() -> None:
    runs = {(m, a): _result(m, a, seed=i) for i, (m, a) in enumerate(_sweep())}
    assert "one seed" in message_of(check.alpha_sweep, runs, MODELS, ALPHAS, EPOCHS)


def test_sweep_structure_errors_are_plain() -> None:
    with pytest.raises(NotAnswered, match="still empty"):
        check.alpha_sweep({}, MODELS, ALPHAS, EPOCHS)
    with pytest.raises(NotAnswered):
        check.alpha_sweep(..., MODELS, ALPHAS, EPOCHS)
    by_alpha = {a: _result("cbm_sigmoid", a) for a in ALPHAS}
    assert "key it by (model, alpha)" in message_of(check.alpha_sweep, by_alpha, MODELS, ALPHAS, 30)
    partial = dict(list(_sweep().items())[:-1])
    assert "no entry for ('cbm_logit', 10)" in message_of(
        check.alpha_sweep, partial, MODELS, ALPHAS, EPOCHS
    )
    metrics_only = {key: {"test/task_acc": 0.9} for key in _sweep()}
    assert "not what `run(...)` returns" in message_of(
        check.alpha_sweep, metrics_only, MODELS, ALPHAS, EPOCHS
    )


# ---- task 2: dominance -----------------------------------------------------------------------


def test_right_dominates_passes() -> None:
    assert check.dominates_function(lambda p, q: bool(np.all(p >= q) and np.any(p > q)))
    # a plain-Python version, returning numpy booleans through `and`, passes as well
    assert check.dominates_function(
        lambda p, q: p[0] >= q[0] and p[1] >= q[1] and (p[0] > q[0] or p[1] > q[1])
    )


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda p, q: bool(np.all(p > q)), "a point that ties in one accuracy"),
        (lambda p, q: bool(np.all(p >= q)), "equal points do not dominate each other"),
        (lambda p, q: bool(np.all(p <= q) and np.any(p < q)), "higher accuracy is better"),
        (lambda p, q: bool(np.any(p > q)), "better in one accuracy is not enough"),
        (lambda p, q: bool(p[0] > q[0]), "compare the concept accuracy"),
    ],
)
def test_typical_wrong_dominance_gets_its_hint(wrong, hint) -> None:
    message = message_of(check.dominates_function, wrong)
    assert hint in message and "should be" in message


def test_dominates_bad_returns_are_plain() -> None:
    assert "one True/False" in message_of(check.dominates_function, lambda p, q: p >= q)
    with pytest.raises(NotAnswered):
        check.dominates_function(...)

    def stub(p, q): ...

    with pytest.raises(NotAnswered, match="returned None"):
        check.dominates_function(stub)
    message = message_of(check.dominates_function, lambda p, q: p.dominates(q))
    assert "raised AttributeError" in message


# ---- task 3: the front -----------------------------------------------------------------------


def _sorted_front(points) -> np.ndarray:
    """Another right answer: a sweep in order of task accuracy (ties: concept accuracy)."""
    points = np.asarray(points)
    order = np.lexsort((-points[:, 1], -points[:, 0]))  # task descending, then concept
    front = np.zeros(len(points), dtype=bool)
    best_concept, last = -np.inf, None
    for i in order:
        p = tuple(points[i])
        if p == last or p[1] > best_concept:
            front[i] = True
            best_concept, last = max(best_concept, p[1]), p
    return front


def test_right_fronts_pass() -> None:
    assert check.pareto_function(pareto_front)
    assert check.pareto_function(_sorted_front)
    assert check.pareto_function(lambda pts: torch.as_tensor(pareto_front(pts)))  # a tensor is ok
    assert check.pareto_function(lambda pts: pareto_front(pts).astype(int))  # 0/1 is ok


def _with(rule):
    return lambda pts: pareto_front(pts, rule)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_with(lambda p, q: bool(np.all(p > q))), "keeps points that another point beats"),
        (_with(lambda p, q: bool(np.all(p >= q))), "drops equal points (duplicates)"),
        (_with(lambda p, q: dominates(-p, -q)), "holds the *worst* points"),
        (lambda pts: ~pareto_front(pts), "you marked the dominated points"),
    ],
)
def test_typical_wrong_fronts_get_their_hint(wrong, hint) -> None:
    message = message_of(check.pareto_function, wrong)
    assert hint in message
    assert "your front keeps point" in message or "your front drops point" in message


def test_a_front_that_sorts_in_place_is_caught() -> None:
    def sorts(points):
        points.sort(axis=0)
        return pareto_front(points)

    assert "changed `points` in place" in message_of(check.pareto_function, sorts)


def test_front_shapes_get_a_plain_sentence() -> None:
    assert "points?" in message_of(check.pareto_function, lambda pts: pts[pareto_front(pts)])
    assert "indices?" in message_of(
        check.pareto_function, lambda pts: np.flatnonzero(pareto_front(pts))
    )
    assert "returned one value" in message_of(check.pareto_function, lambda pts: True)

    def stub(points): ...

    with pytest.raises(NotAnswered):
        check.pareto_function(stub)


# Few distinct values, so that ties and duplicates are common.
POINT_SETS = arrays(
    np.float64,
    st.tuples(st.integers(1, 12), st.just(2)),
    elements=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
)


@settings(max_examples=60, deadline=None)
@given(POINT_SETS)
def test_reference_front_is_the_non_dominated_set(points) -> None:
    front = pareto_front(points)
    assert front.any()  # a finite set always has a non-dominated point
    for i in np.flatnonzero(~front):  # every point off the front is beaten by one on it
        assert any(dominates(points[j], points[i]) for j in np.flatnonzero(front))
    for i in np.flatnonzero(front):
        assert not any(dominates(points[j], points[i]) for j in range(len(points)))
    assert np.array_equal(front, _sorted_front(points))


# ---- task 4: CEM, judged on the student's numbers --------------------------------------------

SWEEP = np.array([[0.97, 0.51], [0.975, 0.52], [0.64, 0.998], [0.52, 0.995], [0.98, 0.76]])
CEM = np.array([0.98, 0.997])  # ties the best task accuracy; 0.998 beats it in concepts


def test_the_right_reading_passes(capsys) -> None:
    assert check.cem_on_front(True, 4, SWEEP, CEM)
    assert "dominates 4 of the 5" in capsys.readouterr().out
    beaten = np.array([0.99, 0.999])
    assert check.cem_on_front(False, 0, np.vstack([SWEEP, beaten]), np.array([0.95, 0.99]))


def test_wrong_on_front_names_the_point_that_dominates() -> None:
    sweep = np.vstack([SWEEP, [0.99, 0.999]])
    message = message_of(check.cem_on_front, True, 4, sweep, CEM)
    assert "point 5 (0.99, 0.999) of the sweep dominates" in message
    assert "no sweep point dominates" in message_of(check.cem_on_front, False, 4, SWEEP, CEM)


@pytest.mark.parametrize(
    ("count", "hint"),
    [
        (3, "ties CEM in one accuracy"),  # strict in both misses (0.98, 0.76)
        (5, "not worse in either accuracy"),  # better in one coordinate is not enough
        (1, "does *not* dominate"),
        (2, "dominates(cem_point, p)"),
    ],
)
def test_wrong_counts_get_their_hint(count, hint) -> None:
    assert hint in message_of(check.cem_on_front, True, count, SWEEP, CEM)


def test_cem_answers_of_the_wrong_type_are_plain() -> None:
    with pytest.raises(NotAnswered):
        check.cem_on_front(..., 4, SWEEP, CEM)
    with pytest.raises(NotAnswered):
        check.cem_on_front(True, ..., SWEEP, CEM)
    assert "True or False" in message_of(check.cem_on_front, "yes", 4, SWEEP, CEM)
    assert "whole number" in message_of(check.cem_on_front, True, 3.5, SWEEP, CEM)
    assert "expected (n, 2)" in message_of(check.cem_on_front, True, 4, SWEEP[:, 0], CEM)
