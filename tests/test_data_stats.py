"""Pure statistics: ceilings (REFERENCE §1 values), balances, pattern counts."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from cem.data import paper
from cem.data.stats import (
    class_balance,
    concept_balance,
    concept_ceiling,
    pattern_counts,
    split_stats,
)


@pytest.mark.parametrize(
    ("name", "ceiling"),
    [("xor", 1.0), ("trig", 491 / 600), ("dot", 461 / 600)],  # 100%, 81.83%, 76.83%
)
def test_paper_test_ceilings_match_the_reference(name: str, ceiling: float) -> None:
    test = paper(name)["test"]
    assert concept_ceiling(test.c, test.y) == pytest.approx(ceiling, abs=1e-12)


def test_ceiling_by_hand() -> None:
    c = np.array([[0, 0], [0, 0], [0, 0], [1, 0], [1, 0], [1, 1]])
    y = np.array([0, 0, 1, 1, 1, 0])
    # (0,0): 2 vs 1 -> 2 right; (1,0): 0 vs 2 -> 2; (1,1): 1 -> 1. Total 5 / 6.
    assert concept_ceiling(c, y) == pytest.approx(5 / 6)
    assert pattern_counts(c, y) == {(0, 0): [2, 1], (1, 0): [0, 2], (1, 1): [1, 0]}


def test_ceiling_equals_the_best_of_all_concept_functions() -> None:
    """Brute force over every function {0,1}^2 -> {0,1} on random data."""
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2, (300, 2))
    y = rng.integers(0, 2, 300)
    idx = c[:, 0] * 2 + c[:, 1]
    best = max(np.mean(np.array(table)[idx] == y) for table in itertools.product((0, 1), repeat=4))
    assert concept_ceiling(c, y) == pytest.approx(best)


def test_ceiling_is_one_when_y_is_a_function_of_c_and_drops_with_noise() -> None:
    rng = np.random.default_rng(1)
    c = rng.integers(0, 2, (1000, 3))
    y = c[:, 0] & (c[:, 1] | c[:, 2])
    assert concept_ceiling(c, y) == 1.0
    assert concept_ceiling(c, np.where(rng.uniform(size=1000) < 0.2, 1 - y, y)) < 0.9


def test_multiclass_counts() -> None:
    c = np.array([[0], [0], [0], [1]])
    y = np.array([2, 2, 0, 1])
    assert pattern_counts(c, y) == {(0,): [1, 0, 2], (1,): [0, 1, 0]}
    assert concept_ceiling(c, y) == pytest.approx(3 / 4)


def test_balances() -> None:
    c = np.array([[1, 0], [1, 1], [0, 0], [1, 0]])
    y = np.array([1, 0, 0, 0])
    assert class_balance(y) == 0.25
    assert concept_balance(c) == [0.75, 0.25]
    st = split_stats(c, y)
    assert st == {
        "n": 4,
        "class_balance": 0.25,
        "concept_balance": [0.75, 0.25],
        "n_patterns": 3,
        "ceiling": 0.75,  # pattern (1, 0) holds one sample of each class
    }


def test_empty_split_gives_nan_not_an_error() -> None:
    c, y = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    assert math.isnan(concept_ceiling(c, y)) and math.isnan(class_balance(y))
    assert all(math.isnan(v) for v in concept_balance(c))
    assert pattern_counts(c, y) == {}


def test_paper_class_balances() -> None:
    assert class_balance(paper("xor")["test"].y) == pytest.approx(292 / 600)
    assert class_balance(paper("trig")["test"].y) == pytest.approx(229 / 600)
    assert class_balance(paper("dot")["test"].y) == pytest.approx(312 / 600)
