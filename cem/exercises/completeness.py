"""Checkers of exercise 2: the concept-only ceiling of XOR, Trig and Dot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cem.data import paper
from cem.data.stats import concept_ceiling, pattern_counts
from cem.exercises.answers import as_choice, as_float, as_patterns
from cem.exercises.feedback import call_student, fail, passed, require, returned_none

__all__ = ["ceiling_function", "ceilings", "trig_worst_pattern", "why_incomplete"]

DATASETS: tuple[str, ...] = ("xor", "trig", "dot")
SPLIT = "test"  # the paper's ceilings (REFERENCE: 100%, 81.8%, 76.8%) are on the test split

WHY_CHOICES = {
    "a": "the concept labels are noisy: some are flipped at random",
    "b": "samples with the same concept pattern can have different labels: the task uses "
    "information that the binary concepts do not keep",
    "c": "the label predictor is too small to learn the task",
    "d": "the test split is too small to measure the ceiling",
}
WHY_HINTS = {
    "a": "the paper protocol flips nothing (concept_noise = 0): every concept is computed "
    "exactly from the latents. Look at the pattern table instead.",
    "c": "the ceiling is about any function of the concepts, however large; no model is "
    "involved in it.",
    "d": "the ceilings on the 2100 training samples are below 100% as well.",
}

# A case small enough to work out by hand: pattern 0 holds labels 0, 0, 1 (best guess 0: 2 right),
# pattern 1 holds 1, 1 (best guess 1: 2 right), so the ceiling is 4/5.
_HAND_C = np.array([[0], [0], [0], [1], [1]])
_HAND_Y = np.array([0, 0, 1, 1, 1])


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2, (300, 3))
    y = (c.sum(1) + rng.integers(0, 2, 300) >= 2).astype(np.int64)
    trig = paper("trig")[SPLIT]
    return [
        ("c = [[0],[0],[0],[1],[1]], y = [0, 0, 1, 1, 1]", _HAND_C, _HAND_Y),
        ("random concepts (300 samples, k = 3) with a noisy label", c, y),
        ("Trig's test split", trig.c, trig.y),
    ]


def ceiling_function(fn: Callable[[np.ndarray, np.ndarray], Any]) -> bool:
    """The student's ``concept_ceiling(c (n, k) 0/1, y (n,) 0/1) -> float`` vs the library's."""
    what = "ceiling_function"
    require(what, "concept_ceiling", fn)
    if not callable(fn):
        fail(what, "pass the function itself, e.g. check.ceiling_function(concept_ceiling).")
    for description, c, y in _cases():
        got = call_student(what, f"concept_ceiling on {description}", fn, c.copy(), y.copy())
        if got is None:
            raise returned_none(what, "concept_ceiling")
        value = as_float(what, "concept_ceiling(c, y)", got)
        truth = concept_ceiling(c, y)
        if abs(value - truth) <= 1e-9:
            continue
        majority = max(np.mean(y), 1 - np.mean(y))
        if abs(value - 100 * truth) < 1e-6:
            hint = "return a fraction in [0, 1], not a percentage."
        elif abs(value - (1 - truth)) < 1e-9:
            hint = "that is the share the best function gets wrong; return the share it gets right."
        elif abs(value - majority) < 1e-9:
            hint = (
                "that is the accuracy of always predicting the most common label; the best "
                "function of the concepts predicts a label per concept pattern (each row of c)."
            )
        else:
            hint = (
                "group the samples by their concept pattern (np.unique(c, axis=0, "
                "return_inverse=True)); in each group the best guess is the group's most common "
                "label; the ceiling is the number of samples those guesses get right over n."
            )
        fail(what, f"on {description} it gives {value:.4f}; the ceiling is {truth:.4f}.", hint)
    return passed(what, "your ceiling matches the library's on every test case.")


def ceilings(values: Any) -> bool:
    """The test-split ceilings ``{"xor": …, "trig": …, "dot": …}`` of the paper's datasets."""
    what = "ceilings"
    require(what, "ceilings", values)
    if not isinstance(values, dict):
        fail(what, 'give a dict such as {"xor": 1.0, "trig": ..., "dot": ...}.')
    missing = [d for d in DATASETS if d not in values]
    if missing:
        fail(what, f"the dict has no {missing[0]!r} entry; expected keys: xor, trig, dot.")
    for name in DATASETS:
        value = as_float(what, f'ceilings["{name}"]', values[name])
        data = paper(name)
        truth = concept_ceiling(data[SPLIT].c, data[SPLIT].y)
        if abs(value - truth) <= 5e-4:
            continue
        on_train = concept_ceiling(data["train"].c, data["train"].y)
        if abs(value - 100 * truth) < 0.05:
            hint = "give fractions in [0, 1], not percentages."
        elif abs(value - on_train) <= 5e-4:
            hint = "that is the training split's ceiling; measure on the test split, as the paper."
        else:
            hint = "apply your concept_ceiling to paper(name)['test'].c and .y."
        fail(what, f'ceilings["{name}"] = {value:.4f} is not the test-split ceiling.', hint)
    return passed(what, "XOR is concept-complete; Trig and Dot are not.")


def trig_worst_pattern(pattern: Any) -> bool:
    """The Trig concept pattern ``(a>0, b>0, z>0)`` where the best concept-only guess makes the
    most errors on the test split (any of the tied ones)."""
    what = "trig_worst_pattern"
    got = as_patterns(what, "pattern", [pattern] if _is_flat(pattern) else pattern, 3)
    if len(got) != 1:
        fail(what, "give one pattern, a tuple of three 0/1 values such as (1, 0, 1).")
    (p,) = got
    split = paper("trig")[SPLIT]
    errors = {
        q: sum(counts) - max(counts) for q, counts in pattern_counts(split.c, split.y).items()
    }
    worst = max(errors.values())
    if errors.get(p, -1) == worst:
        return passed(what, f"{p}: {worst} of its test samples are mislabelled by the best guess.")
    mixed = "pure" if errors.get(p, 0) == 0 else f"{errors[p]} errors"
    fail(
        what,
        f"pattern {p} has {mixed}, but another pattern has {worst}.",
        "for each pattern count both labels; the errors are the smaller count.",
    )


def _is_flat(value: Any) -> bool:
    """True for one pattern such as (1, 0, 1), False for a collection of patterns."""
    try:
        return all(not hasattr(v, "__len__") for v in value)
    except TypeError:
        return False


def why_incomplete(answer: Any) -> bool:
    """Why are the Trig and Dot ceilings below 100%? (a letter of WHY_CHOICES)."""
    what = "why_incomplete"
    letter = as_choice(what, "answer", answer, WHY_CHOICES)
    if letter == "b":
        return passed(
            what,
            "the task depends on the latents beyond the sign of each one (Trig: a + b + z > 1; "
            "Dot: the angle between v1 and v2), so one concept pattern holds both labels. "
            "These datasets are concept-incomplete by design.",
        )
    fail(what, f'"{letter}" ({WHY_CHOICES[letter]}) is not the reason.', WHY_HINTS[letter])
