"""Pareto fronts of two objectives to maximise (task and concept accuracy): pure functions.

:func:`non_dominated` keeps the points no other point dominates; :func:`hypervolume` is the area
they dominate above a reference point (the origin by default: for accuracies in [0, 1] it is the
area of the task × concept accuracy square under the front, 1 for a perfect model).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _points(points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    if not np.isfinite(p).all():
        raise ValueError("points must be finite")
    return p


def non_dominated(points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Indices of the points that no other point dominates (at least as good in both objectives
    and better in one), both maximised; equal points are all kept. Sorted by the first
    objective, descending.

    Parameters
    ----------
    points : (n, 2) float
    """
    p = _points(points)
    keep = []
    for i, q in enumerate(p):
        dominated = np.any(np.all(p >= q, axis=1) & np.any(p > q, axis=1))
        if not dominated:
            keep.append(i)
    order = sorted(keep, key=lambda i: (-p[i, 0], -p[i, 1]))
    return np.asarray(order, dtype=int)


def hypervolume(
    points: Sequence[Sequence[float]] | np.ndarray, reference: Sequence[float] = (0.0, 0.0)
) -> float:
    """Area dominated by ``points`` (both objectives maximised) and bounded below by
    ``reference``; points not above the reference in both objectives add nothing.

    Parameters
    ----------
    points : (n, 2) float
    reference : (2,) float
    """
    p = _points(points)
    ref = np.asarray(reference, dtype=float)
    p = p[np.all(p > ref, axis=1)]
    if len(p) == 0:
        return 0.0
    front = p[non_dominated(p)]  # first objective descending, so the second ascends
    area, floor = 0.0, ref[1]
    for x, y in front:
        if y > floor:
            area += (x - ref[0]) * (y - floor)
            floor = y
    return float(area)
