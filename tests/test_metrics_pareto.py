"""Pareto fronts and hypervolume of two maximised objectives, against brute-force oracles."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cem.metrics.pareto import hypervolume, non_dominated

points = st.lists(
    st.tuples(
        st.floats(0, 1, allow_nan=False).map(lambda v: round(v, 2)),
        st.floats(0, 1, allow_nan=False).map(lambda v: round(v, 2)),
    ),
    min_size=1,
    max_size=12,
)


def oracle_front(p: np.ndarray) -> set[int]:
    return {
        i
        for i in range(len(p))
        if not any((p[j] >= p[i]).all() and (p[j] > p[i]).any() for j in range(len(p)))
    }


def oracle_area(p: np.ndarray, ref: tuple[float, float]) -> float:
    """Exact area by cells of the grid the points' coordinates make: a cell counts when some
    point dominates its upper corner."""
    xs = sorted({ref[0], *p[:, 0]})
    ys = sorted({ref[1], *p[:, 1]})
    area = 0.0
    for (x0, x1), (y0, y1) in itertools.product(itertools.pairwise(xs), itertools.pairwise(ys)):
        if x0 >= ref[0] and y0 >= ref[1] and ((p[:, 0] >= x1) & (p[:, 1] >= y1)).any():
            area += (x1 - x0) * (y1 - y0)
    return area


@settings(max_examples=200, deadline=None)
@given(points)
def test_front_and_area_match_the_oracles(pts: list[tuple[float, float]]) -> None:
    p = np.array(pts)
    front = non_dominated(p)
    assert set(front.tolist()) == oracle_front(p)
    assert list(p[front, 0]) == sorted(p[front, 0], reverse=True)
    assert hypervolume(p) == pytest.approx(oracle_area(p, (0.0, 0.0)), abs=1e-12)
    assert hypervolume(p, (0.3, 0.2)) == pytest.approx(oracle_area(p, (0.3, 0.2)), abs=1e-12)


def test_known_values() -> None:
    assert hypervolume([[1.0, 1.0]]) == 1.0
    # Two corners: 0.9 x 0.5 + 0.5 x (0.9 - 0.5)
    assert hypervolume([[0.9, 0.5], [0.5, 0.9], [0.4, 0.4]]) == pytest.approx(0.65)
    assert hypervolume([[0.1, 0.9]], reference=(0.5, 0.5)) == 0.0
    with pytest.raises(ValueError, match="finite"):
        hypervolume([[np.nan, 1.0]])
