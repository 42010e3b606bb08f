"""Checkers of exercise 8: the Concept Alignment Score with a clustering of the student's own.

CAS (Espinosa Zarlenga et al., NeurIPS 2022): for each concept, cluster its representation at
several cluster counts ρ, measure the homogeneity of the clusters with respect to the concept,
and take the normalised area under that curve; average over concepts. The library clusters with
k-medoids (:func:`cem.metrics.alignment.concept_alignment_score`); the exercise uses k-means, so
the two scores are compared within ``CAS_MARGIN``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from cem.exercises.answers import as_array, as_choice, as_float
from cem.exercises.feedback import call_student, fail, passed, require, returned_none
from cem.metrics.alignment import concept_alignment_score

__all__ = ["kmeans", "normalised_area", "my_cas", "alignment_why"]

# k-means and the library's k-medoids find different clusterings; on the exercise's CEM and
# Hybrid representations their CAS differ by a few points (tests/test_exercises_alignment.py).
CAS_MARGIN = 0.06


def _labels(what: str, got: Any, n: int, rho: int) -> np.ndarray:
    """The student's cluster labels as an (n,) int array in [0, rho)."""
    if got is None:
        raise returned_none(what, "kmeans")
    arr = np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got)
    if arr.ndim == 2 and arr.shape[0] == rho:
        fail(
            what,
            f"it returned an array of shape {arr.shape}: the cluster centres?",
            "return the label of every point, an array of shape (n,).",
        )
    lab = as_array(what, "kmeans(X, n_clusters, seed)", arr, (n,))
    if not np.all(lab == np.round(lab)):
        fail(what, "the labels are not whole numbers.", "return the index of each point's cluster.")
    lab = lab.astype(np.int64)
    if lab.min() < 0 or lab.max() >= rho:
        hint = "number the clusters 0 … n_clusters - 1." if lab.max() == rho else ""
        fail(what, f"labels run from {lab.min()} to {lab.max()}; expected 0 … {rho - 1}.", hint)
    return lab


def _blobs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centres = np.array([[0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0]], dtype=float)
    truth = np.repeat(np.arange(3), [60, 40, 20])
    return centres[truth] + rng.normal(0, 0.5, (len(truth), 4)), truth


def kmeans(fn: Callable[..., Any]) -> bool:
    """The student's ``kmeans(X (n, d), n_clusters, seed) -> labels (n,)`` (Lloyd's algorithm)."""
    what = "kmeans"
    require(what, "kmeans", fn)
    rng = np.random.default_rng(0)
    x, truth = _blobs(rng)
    lab = _labels(what, call_student(what, "kmeans on 3 blobs", fn, x.copy(), 3, 0), len(x), 3)
    if adjusted_rand_score(truth, lab) < 1:
        fail(
            what,
            "it does not recover three well-separated blobs.",
            "start from n_clusters distinct data points, then repeat: assign each point to its "
            "nearest centre, move each centre to the mean of its points, until nothing changes.",
        )
    again = call_student(what, "kmeans twice with the same seed", fn, x.copy(), 3, 0)
    if not np.array_equal(_labels(what, again, len(x), 3), lab):
        fail(
            what,
            "two calls with the same seed gave different labels.",
            "draw the initial centres with np.random.default_rng(seed).",
        )
    y = rng.normal(size=(150, 3))
    lab = _labels(what, call_student(what, "kmeans on random points", fn, y.copy(), 6, 1), 150, 6)
    used = np.unique(lab)
    centres = np.stack([y[lab == j].mean(0) for j in used])
    dist = ((y[:, None, :] - centres[None]) ** 2).sum(-1)
    own = dist[np.arange(len(y)), np.searchsorted(used, lab)]
    if np.any(dist.min(1) < own - 1e-9):
        fail(
            what,
            "it stopped before converging: some points are nearer another cluster's mean.",
            "repeat the assign/update steps until the labels stop changing.",
        )
    z = np.repeat(np.array([[0.0, 1.0], [1.0, 0.0]]), 30, axis=0)  # only 2 distinct points
    _labels(
        what,
        call_student(what, "kmeans with 5 clusters on 2 distinct points", fn, z, 5, 0),
        len(z),
        5,
    )
    return passed(what, "it recovers blobs, converges, is seeded, and survives duplicates.")


def reference_area(curve: np.ndarray) -> float:
    """Trapezoid area of ``curve`` over its index, divided by that of a curve of ones."""
    return float(((curve[1:] + curve[:-1]) / 2).sum() / (len(curve) - 1))


def normalised_area(fn: Callable[[np.ndarray], Any]) -> bool:
    """The student's ``normalised_area(curve (n,)) -> float`` (CAS's area under the curve)."""
    what = "normalised_area"
    require(what, "normalised_area", fn)
    rng = np.random.default_rng(0)
    curves = [np.ones(5), np.linspace(0, 1, 11), rng.uniform(size=50), np.array([0.2, 0.9])]
    for curve in curves:
        got = call_student(
            what, f"normalised_area on a curve of {len(curve)} values", fn, curve.copy()
        )
        if got is None:
            raise returned_none(what, "normalised_area")
        value = as_float(what, "normalised_area(curve)", got)
        truth = reference_area(curve)
        if abs(value - truth) < 1e-9:
            continue
        if abs(value - curve.mean()) < 1e-9:
            hint = "that is the mean of the values: in the trapezoid rule the two end points "
            hint += "count half."
        elif abs(value - truth * (len(curve) - 1)) < 1e-9:
            hint = "divide by the area of a curve of ones over the same grid (len(curve) - 1)."
        else:
            hint = "sum the trapezoids (curve[i] + curve[i+1]) / 2, then divide by len(curve) - 1."
        fail(
            what,
            f"on {np.round(curve[:4], 3).tolist()}… it gives {value:.4f}; expected {truth:.4f}.",
            hint,
        )
    return passed(what, "a curve of ones scores 1, the diagonal 0.5.")


def my_cas(fn: Callable[..., Any], reps: Any, c: Any, rhos: Any) -> bool:
    """The student's ``my_cas(reps (n, k, m), c (n, k), rhos) -> float`` against the library's
    CAS on the same points and grid (k-medoids), within ``CAS_MARGIN``."""
    what = "my_cas"
    require(what, "my_cas", fn)
    r = as_array(what, "reps", reps, (None, None, None))
    conc = as_array(what, "c", c, (len(r), r.shape[1])).astype(np.int64)
    grid = as_array(what, "rhos", rhos, (None,)).astype(np.int64)
    got = call_student(what, "my_cas(reps, c, rhos)", fn, r.copy(), conc.copy(), grid.copy())
    if got is None:
        raise returned_none(what, "my_cas")
    if np.ndim(got) == 1 and len(got) == r.shape[1]:
        fail(
            what,
            f"it returned {len(got)} values, one per concept.",
            "CAS is their mean over the concepts: return one number.",
        )
    value = as_float(what, "my_cas(reps, c, rhos)", got)
    library = concept_alignment_score(r, conc, n_values=len(grid))["cas"]
    if 1 < value <= 100 and abs(value / 100 - library) <= CAS_MARGIN:
        fail(what, "it looks like a percentage.", "return a fraction in [0, 1].")
    if abs(value - library) <= CAS_MARGIN:
        return passed(
            what, f"yours {value:.3f}, the library's (k-medoids) {library:.3f}: close enough."
        )
    fail(
        what,
        f"yours is {value:.3f}, the library's {library:.3f}; they should be within {CAS_MARGIN}.",
        "per concept i: homogeneity_score(c[:, i], labels) — the concept first — for each ρ "
        "of your clustering of reps[:, i], then normalised_area of that curve; average over i.",
    )


WHY_CHOICES = {
    "a": "CEM: each embedding is made from its own concept's positive and negative embeddings "
    "and mixed by that concept's probability, so it is organised around the concept; the "
    "Hybrid's free units are split into k chunks in order, and no chunk is tied to a concept",
    "b": "the Hybrid CBM: its extra units are trained with the concept loss",
    "c": "neither: the two scores differ by noise only",
    "d": "CEM, because its embeddings have more units",
}
WHY_HINTS = {
    "b": "only the k sigmoid outputs get the concept loss; the free units serve the task.",
    "c": "compare the two numbers you measured with the library's: the gap is large and "
    "consistent across seeds.",
    "d": "the Hybrid's chunks have m - 1 = 127 units, almost as many as CEM's 128.",
}


def alignment_why(answer: Any) -> bool:
    """Which representation is more aligned with its concepts, and why (a WHY_CHOICES letter)."""
    what = "alignment_why"
    letter = as_choice(what, "answer", answer, WHY_CHOICES)
    if letter == "a":
        return passed(what, "alignment comes from the architecture, not from the width.")
    fail(what, f'"{letter}" is not right.', WHY_HINTS[letter])
