"""Checkers of exercise 6: the accuracy-explainability trade-off, its Pareto front, CEM on it.

The student

* sweeps the concept-loss weight α of the joint Sigmoid and Logit CBMs on Dot with ``run`` —
  checked on the configs the runs recorded (the right model, α in ``model.concept_loss_weight``,
  Dot, the same epochs and seed), so the check costs no training;
* writes ``dominates(p, q)`` and ``pareto_front(points)`` for points (task accuracy, concept
  accuracy), both to be maximised — checked against the reference on hand-made cases with ties
  and duplicates and on random ones;
* says whether CEM lies on the front and how many sweep points it dominates — judged on the
  student's own numbers, which differ between the fast and the full budget.

Dominance, as everywhere in multi-objective optimisation: ``p`` dominates ``q`` when ``p`` is at
least as good in both coordinates and strictly better in at least one. Equal points do not
dominate each other, so duplicates on the front are all kept. A wrong function is diagnosed by
comparing its answers on every case with those of typical mistakes (strict in both coordinates,
weak in both, minimising, one coordinate only, the complement of the front).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from cem.exercises.answers import as_array, as_int
from cem.exercises.feedback import (
    NotAnswered,
    call_student,
    fail,
    is_placeholder,
    passed,
    require,
    returned_none,
)

__all__ = ["alpha_sweep", "cem_on_front", "dominates_function", "pareto_function"]

DATASET = "dot"

# ---- the reference ---------------------------------------------------------------------------

Dominance = Callable[[np.ndarray, np.ndarray], bool]


def dominates(p: np.ndarray, q: np.ndarray) -> bool:
    """True when ``p`` is at least as good as ``q`` in both coordinates and better in one."""
    return bool(np.all(p >= q) and np.any(p > q))


def pareto_front(points: np.ndarray, dom: Dominance = dominates) -> np.ndarray:
    """(n,) bool: True for the points (n, 2) that no other point dominates (under ``dom``)."""
    points = np.asarray(points, dtype=np.float64)
    n = len(points)
    return np.array(
        [not any(dom(points[j], points[i]) for j in range(n) if j != i) for i in range(n)],
        dtype=bool,
    )


# Typical wrong dominance relations, each with the hint that explains it.
_DOMINANCE_MISTAKES: dict[str, tuple[Dominance, str]] = {
    "strict_both": (
        lambda p, q: bool(np.all(p > q)),
        "a point that ties in one accuracy and is better in the other is dominated too: p must "
        "be at least as good in both (>=) and strictly better in at least one (>).",
    ),
    "weak_both": (
        lambda p, q: bool(np.all(p >= q)),
        "equal points do not dominate each other: besides >= in both, p must be strictly better "
        "(>) in at least one coordinate.",
    ),
    "minimise": (
        lambda p, q: dominates(-p, -q),
        "higher accuracy is better: p dominates q when p's accuracies are at least as high, not "
        "as low.",
    ),
    "any_better": (
        lambda p, q: bool(np.any(p > q)),
        "being better in one accuracy is not enough: p must not be worse in the other.",
    ),
    "task_only": (
        lambda p, q: bool(p[0] > q[0]),
        "both accuracies count: compare the concept accuracy (second coordinate) too.",
    ),
}


# ---- task 1: the sweep -----------------------------------------------------------------------


def _config(what: str, key: Any, result: Any) -> dict[str, Any]:
    config = getattr(result, "config", None)
    if not isinstance(config, Mapping) or not hasattr(result, "metrics"):
        fail(
            what,
            f"runs[{key!r}] is {type(result).__name__}, not what `run(...)` returns.",
            "store the RunResult itself: runs[model, alpha] = run({...}).",
        )
    return dict(config)


def alpha_sweep(runs: Any, models: Sequence[str], alphas: Sequence[float], epochs: int) -> bool:
    """The sweep: ``runs[model, alpha]`` is the RunResult of ``model`` trained on Dot with
    concept-loss weight ``alpha`` for ``epochs`` epochs, one seed for all.

    Checked on the configs the runs recorded (``result.config``), so nothing is retrained.
    """
    what = "alpha_sweep"
    require(what, "runs", runs)
    if not isinstance(runs, Mapping):
        fail(what, "`runs` should be a dict {(model, alpha): result of run(...)}.")
    if not runs:
        raise NotAnswered(
            what,
            problem="`runs` is still empty: the loop body is still the `...` placeholder",
        )
    if not all(isinstance(key, tuple) and len(key) == 2 for key in runs):
        key = next(key for key in runs if not (isinstance(key, tuple) and len(key) == 2))
        fail(
            what,
            f"`runs` has the key {key!r}; key it by (model, alpha).",
            "write runs[model, alpha] = run({...}), which uses the tuple (model, alpha) as key.",
        )
    configs: dict[tuple[str, float], dict[str, Any]] = {}
    for model in models:
        for alpha in alphas:
            if (model, alpha) not in runs:
                fail(what, f"`runs` has no entry for ({model!r}, {alpha!r}).")
            configs[model, alpha] = _config(what, (model, alpha), runs[model, alpha])
    weights = {key: cfg["model"]["concept_loss_weight"] for key, cfg in configs.items()}
    for (model, alpha), cfg in configs.items():
        key = f"runs[{model!r}, {alpha!r}]"
        if cfg["model"]["name"] != model:
            fail(
                what,
                f"{key} trained {cfg['model']['name']!r}, not {model!r}.",
                'use the loop variable: "model": {"name": model, ...}.',
            )
        if cfg["dataset"]["name"] != DATASET:
            fail(
                what,
                f"{key} was trained on {cfg['dataset']['name']!r}; this sweep is on Dot.",
                'add "dataset": {"name": "dot"} to the config.',
            )
        if weights[model, alpha] != alpha:
            # (An unknown key such as "alpha" never gets here: run() refuses it in one line.)
            if cfg["model"]["task_loss_weight"] == alpha and alpha != 1:
                hint = (
                    "α weights the concept loss: `model.concept_loss_weight`, not "
                    "`task_loss_weight`."
                )
            elif len(set(weights.values())) == 1:
                hint = (
                    "every run has the same concept_loss_weight: put the loop's alpha in the "
                    'model config, "model": {"name": model, "concept_loss_weight": alpha}.'
                )
            else:
                hint = 'α goes in the model config: "concept_loss_weight": alpha.'
            fail(what, f"{key} has concept_loss_weight = {weights[model, alpha]!r}.", hint)
        if cfg["trainer"]["max_epochs"] != epochs:
            fail(
                what,
                f"{key} trained for {cfg['trainer']['max_epochs']} epochs, not EPOCHS = {epochs}.",
                'use the notebook\'s trainer settings: "trainer": TRAINER.',
            )
    seeds = {cfg["seed"] for cfg in configs.values()}
    if len(seeds) > 1:
        fail(
            what,
            f"the runs use different seeds ({sorted(seeds)}).",
            "use one seed for every run, so that α is the only thing that changes.",
        )
    return passed(
        what,
        f"{len(configs)} runs: {', '.join(models)} × α in {list(alphas)} on Dot, "
        f"{epochs} epochs, seed {seeds.pop()}.",
    )


# ---- task 2: dominance -----------------------------------------------------------------------

# (p, q, what it shows): dominance needs every one of these right.
_PAIRS: list[tuple[tuple[float, float], tuple[float, float], str]] = [
    ((0.9, 0.8), (0.8, 0.7), "better in both"),
    ((0.8, 0.7), (0.9, 0.8), "worse in both"),
    ((0.9, 0.8), (0.9, 0.7), "the same task accuracy, a higher concept accuracy"),
    ((0.9, 0.7), (0.9, 0.8), "the same task accuracy, a lower concept accuracy"),
    ((0.9, 0.8), (0.8, 0.8), "a higher task accuracy, the same concept accuracy"),
    ((0.9, 0.8), (0.9, 0.8), "two equal points"),
    ((0.9, 0.7), (0.8, 0.8), "a trade-off: higher task, lower concept accuracy"),
    ((0.8, 0.8), (0.9, 0.7), "a trade-off: lower task, higher concept accuracy"),
]


def _as_bool(what: str, name: str, value: Any) -> bool:
    """One True/False (a 0-dim array or tensor, or 0/1, is fine)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.ndim > 0:
        fail(
            what,
            f"`{name}` returned an array of shape {arr.shape}; it should return one True/False.",
            "combine the coordinate-wise comparisons with `and`/`or` or `.all()`/`.any()`.",
        )
    if arr.dtype != bool and arr.item() not in (0, 1):
        fail(what, f"`{name}` returned {arr.item()!r}; it should return True or False.")
    return bool(arr.item())


def _function(what: str, name: str, fn: Any) -> Callable[..., Any]:
    require(what, name, fn)
    if not callable(fn):
        fail(what, f"pass the function itself, e.g. check.{what}({name}).")
    return fn


def dominates_function(dominates_fn: Any) -> bool:
    """The student's ``dominates(p, q) -> bool`` for points p, q = arrays (task, concept)."""
    what = "dominates_function"
    fn = _function(what, "dominates", dominates_fn)
    got = []
    for p, q, _ in _PAIRS:
        a, b = np.array(p), np.array(q)
        out = call_student(what, f"dominates({a}, {b})", fn, a.copy(), b.copy())
        if out is None:
            raise returned_none(what, "dominates")
        got.append(_as_bool(what, "dominates", out))
    truth = [dominates(np.array(p), np.array(q)) for p, q, _ in _PAIRS]
    if got == truth:
        return passed(what, "at least as good in both accuracies and better in one.")
    i = next(i for i, (g, t) in enumerate(zip(got, truth, strict=True)) if g != t)
    p, q, case = _PAIRS[i]
    problem = f"dominates({p}, {q}) gives {got[i]} ({case}); it should be {truth[i]}."
    for rule, hint in _DOMINANCE_MISTAKES.values():
        if got == [rule(np.array(p), np.array(q)) for p, q, _ in _PAIRS]:
            fail(what, problem, hint)
    fail(what, problem, "p dominates q when p >= q in both coordinates and p > q in at least one.")


# ---- task 3: the front -----------------------------------------------------------------------


def _cases() -> list[tuple[str, np.ndarray]]:
    """Point sets the front is checked on: hand-made ones with ties and duplicates, random ones."""
    rng = np.random.default_rng(6)
    return [
        (
            "a sweep-like set",
            np.array(
                [[0.98, 0.50], [0.97, 0.52], [0.63, 0.99], [0.60, 0.98], [0.52, 0.995], [0.9, 0.9]]
            ),
        ),
        ("ties and a duplicate", np.array([[0.9, 0.8], [0.9, 0.7], [0.8, 0.8], [0.9, 0.8]])),
        ("one point", np.array([[0.7, 0.6]])),
        ("three equal points", np.array([[0.5, 0.5]] * 3)),
        ("40 points on a coarse grid (many ties)", rng.integers(0, 5, (40, 2)) / 4),
        ("60 random points", rng.random((60, 2))),
    ]


_FRONT_HINTS = {
    "strict_both": "your front keeps points that another point beats in one accuracy while "
    "tying in the other. Those are dominated: use dominance with >= in both and > in one.",
    "weak_both": "your front drops equal points (duplicates). Equal points do not dominate each "
    "other, so every copy of a non-dominated point stays on the front.",
    "minimise": "your front holds the *worst* points: higher accuracy is better (maximise).",
    "complement": "you marked the dominated points; the front is the points that no other point "
    "dominates.",
}


def _mask(what: str, out: Any, n: int) -> np.ndarray:
    """The student's front as an (n,) bool mask, with a plain sentence for other shapes."""
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    try:
        arr = np.asarray(out)
    except (TypeError, ValueError):
        fail(what, f"`pareto_front` returned {type(out).__name__}; return a bool array (n,).")
    mask_help = "front[i] is True when point i is on the front (then points[front] are the points)."
    if arr.ndim == 2:
        fail(
            what,
            f"`pareto_front` returned an array of shape {arr.shape} (points?); return a boolean "
            f"mask of shape ({n},).",
            mask_help,
        )
    if arr.ndim == 0:
        fail(what, f"`pareto_front` returned one value, {arr.item()!r}; return a mask ({n},).")
    if len(arr) != n or (arr.dtype != bool and not np.isin(arr, (0, 1)).all()):
        fail(
            what,
            f"`pareto_front` returned {len(arr)} values that are not a boolean mask of shape "
            f"({n},) (indices?).",
            mask_help,
        )
    return arr.astype(bool)


def _point(p: np.ndarray) -> str:
    return f"({p[0]:.3g}, {p[1]:.3g})"


def _front_problem(description: str, points: np.ndarray, got: np.ndarray) -> str:
    truth = pareto_front(points)
    i = int(np.flatnonzero(got != truth)[0])
    if got[i]:
        j = next(j for j in range(len(points)) if j != i and dominates(points[j], points[i]))
        return (
            f"on {description}, your front keeps point {i} {_point(points[i])}, which point {j} "
            f"{_point(points[j])} dominates."
        )
    return (
        f"on {description}, your front drops point {i} {_point(points[i])}, which no other point "
        "dominates."
    )


def pareto_function(pareto_front_fn: Any) -> bool:
    """The student's ``pareto_front(points (n, 2)) -> bool (n,)`` against :func:`pareto_front`
    on hand-made cases (ties, duplicates, one point, equal points) and random ones."""
    what = "pareto_function"
    fn = _function(what, "pareto_front", pareto_front_fn)
    results = []
    for description, points in _cases():
        arg = points.copy()
        out = call_student(what, f"pareto_front on {description}", fn, arg)
        if out is None:
            raise returned_none(what, "pareto_front")
        if not np.array_equal(arg, points):
            fail(
                what,
                "your `pareto_front` changed `points` in place (sorted it?).",
                "work on a copy, e.g. `np.argsort` to get an order instead of sorting the array.",
            )
        results.append((description, points, _mask(what, out, len(points))))
    wrong = [(d, p, g) for d, p, g in results if not np.array_equal(g, pareto_front(p))]
    if not wrong:
        return passed(what, "your front matches on every case, ties and duplicates included.")
    problem = _front_problem(*wrong[0])
    mistakes = {name: rule for name, (rule, _) in _DOMINANCE_MISTAKES.items()}
    for name, hint in _FRONT_HINTS.items():
        if name == "complement":
            expected = [~pareto_front(p) for _, p, _ in results]
        else:
            expected = [pareto_front(p, mistakes[name]) for _, p, _ in results]
        if all(np.array_equal(g, e) for (_, _, g), e in zip(results, expected, strict=True)):
            fail(what, problem, hint)
    fail(
        what,
        problem,
        "point i is on the front when no other point j dominates it: loop over i, and over "
        "j != i, with your `dominates`.",
    )


# ---- task 4: CEM on the front ----------------------------------------------------------------


def _bool_answer(what: str, name: str, value: Any) -> bool:
    require(what, name, value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    fail(what, f"`{name}` should be True or False, not {type(value).__name__} {value!r}.")


def cem_on_front(cem_on_front: Any, dominated_by_cem: Any, points: Any, cem_point: Any) -> bool:
    """Is CEM's point on the Pareto front of the sweep, and how many sweep points does it
    dominate? Judged on the student's own numbers.

    cem_on_front : bool; dominated_by_cem : int;
    points : (n, 2) the sweep's (task accuracy, concept accuracy); cem_point : (2,) CEM's.
    """
    what = "cem_on_front"
    on = _bool_answer(what, "cem_on_front", cem_on_front)
    if is_placeholder(dominated_by_cem):
        raise NotAnswered(what, "dominated_by_cem")
    count = as_int(what, "dominated_by_cem", dominated_by_cem)
    sweep = as_array(what, "points", points, (None, 2))
    cem = as_array(what, "cem_point", cem_point, (2,))
    beaters = [i for i, p in enumerate(sweep) if dominates(p, cem)]
    if on != (not beaters):
        if beaters:
            i = beaters[0]
            hint = (
                f"point {i} {_point(sweep[i])} of the sweep dominates CEM's {_point(cem)}: at "
                "least as good in both accuracies and better in one."
            )
        else:
            best_task = int(np.argmax(sweep[:, 0]))
            best_concept = int(np.argmax(sweep[:, 1]))
            hint = (
                f"no sweep point dominates CEM's {_point(cem)}: the best task accuracy "
                f"{_point(sweep[best_task])} and the best concept accuracy "
                f"{_point(sweep[best_concept])} are each worse than CEM's in the other accuracy "
                "(or not better in either)."
            )
        fail(what, f"cem_on_front = {on} does not match your numbers.", hint)
    truth = sum(dominates(cem, p) for p in sweep)
    if count != truth:
        strict = sum(bool(np.all(cem > p)) for p in sweep)
        better_somewhere = sum(bool(np.any(cem > p)) for p in sweep)
        if count == strict:
            hint = "a point that ties CEM in one accuracy and is worse in the other counts too."
        elif count == better_somewhere:
            hint = "CEM dominates a point only when it is not worse in either accuracy."
        elif count == len(sweep) - truth:
            hint = "that is the number of sweep points CEM does *not* dominate."
        else:
            hint = "count the sweep points p for which dominates(cem_point, p) is True."
        fail(what, f"dominated_by_cem = {count}, but CEM dominates {truth} of your points.", hint)
    where = "on the front" if on else "off the front"
    return passed(
        what,
        f"CEM {_point(cem)} is {where} and dominates {truth} of the {len(sweep)} CBM points.",
    )
