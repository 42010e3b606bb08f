"""Exercise 8's checkers: the right answers pass, typical wrong ones get their specific hint."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import homogeneity_score

from cem.exercises import CheckFailed, NotAnswered, check
from cem.exercises.alignment import CAS_MARGIN
from cem.metrics.alignment import cluster_counts, concept_alignment_score


def kmeans(X, n_clusters, seed=0):
    rng = np.random.default_rng(seed)
    distinct = np.unique(X, axis=0)
    n_clusters = min(n_clusters, len(distinct))
    centres = distinct[rng.choice(len(distinct), n_clusters, replace=False)]
    labels = np.full(len(X), -1)
    while True:
        new = ((X[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        if np.array_equal(new, labels):
            return labels
        labels = new
        for j in range(n_clusters):
            if np.any(labels == j):
                centres[j] = X[labels == j].mean(0)


def test_kmeans_right_answer_passes() -> None:
    assert check.kmeans(kmeans)


def test_kmeans_wrong_answers_get_their_hint() -> None:
    def one_step(X, n_clusters, seed=0):  # assigns once, never updates the centres
        rng = np.random.default_rng(seed)
        centres = X[rng.choice(len(X), n_clusters, replace=False)]
        return ((X[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)

    calls = iter(range(100))

    def unseeded(X, n_clusters, seed=0):  # ignores its seed: every call starts elsewhere
        return kmeans(X, n_clusters, seed=next(calls))

    with pytest.raises(CheckFailed, match="before converging|does not recover"):
        check.kmeans(one_step)
    with pytest.raises(CheckFailed, match="numbered|0 … n_clusters - 1"):
        check.kmeans(lambda X, k, seed=0: kmeans(X, k, seed) + 1)
    with pytest.raises(CheckFailed, match="cluster centres"):
        check.kmeans(lambda X, k, seed=0: X[:k])
    with pytest.raises(CheckFailed, match="does not recover three well-separated blobs"):
        check.kmeans(lambda X, k, seed=0: np.arange(len(X)) % k)
    with pytest.raises(CheckFailed, match="different labels"):
        check.kmeans(unseeded)
    with pytest.raises(NotAnswered):
        check.kmeans(lambda X, k, seed=0: None)


@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
def test_kmeans_that_crashes_on_duplicates_is_reported_plainly() -> None:
    def naive(X, n_clusters, seed=0):  # may pick the same point twice as a centre
        rng = np.random.default_rng(seed)
        centres = X[rng.choice(len(X), n_clusters, replace=False)]
        for _ in range(50):
            labels = ((X[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
            centres = np.stack([X[labels == j].mean(0) for j in range(n_clusters)])
            if np.isnan(centres).any():
                raise ValueError("empty cluster")
        return labels

    with pytest.raises(CheckFailed, match="5 clusters on 2 distinct points raised ValueError"):
        check.kmeans(naive)


def area(curve):
    curve = np.asarray(curve, dtype=float)
    return float(((curve[1:] + curve[:-1]) / 2).sum() / (len(curve) - 1))


def test_normalised_area() -> None:
    assert check.normalised_area(area)
    with pytest.raises(CheckFailed, match="end points count half"):
        check.normalised_area(lambda cv: float(np.mean(cv)))
    with pytest.raises(CheckFailed, match="divide by the area of a curve of ones"):
        check.normalised_area(lambda cv: area(cv) * (len(cv) - 1))
    with pytest.raises(CheckFailed, match="sum the trapezoids"):
        check.normalised_area(lambda cv: float(np.max(cv)))


@pytest.fixture(scope="module")
def aligned() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Representations (n, 2, 3) that follow their concepts, with noise."""
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2, (80, 2))
    reps = c[:, :, None] * 2.0 + rng.normal(0, 0.7, (80, 2, 3))
    return reps, c, cluster_counts(80, 6)


def cas(reps, c, rhos):
    scores = []
    for i in range(c.shape[1]):
        curve = [homogeneity_score(c[:, i], kmeans(reps[:, i], r)) for r in rhos]
        scores.append(area(curve))
    return float(np.mean(scores))


def test_my_cas_is_close_to_the_library_and_right_answers_pass(aligned) -> None:
    reps, c, rhos = aligned
    library = concept_alignment_score(reps, c, n_values=len(rhos))["cas"]
    assert abs(cas(reps, c, rhos) - library) <= CAS_MARGIN / 2  # the margin has slack
    assert check.my_cas(cas, reps, c, rhos)


def test_my_cas_wrong_answers_get_their_hint(aligned) -> None:
    reps, c, rhos = aligned

    def per_concept(reps, c, rhos):
        return [cas(reps[:, [i]], c[:, [i]], rhos) for i in range(c.shape[1])]

    def swapped(reps, c, rhos):  # homogeneity_score(labels, concept) is the completeness
        scores = []
        for i in range(c.shape[1]):
            curve = [homogeneity_score(kmeans(reps[:, i], r), c[:, i]) for r in rhos]
            scores.append(area(curve))
        return float(np.mean(scores))

    with pytest.raises(CheckFailed, match="one per concept"):
        check.my_cas(per_concept, reps, c, rhos)
    with pytest.raises(CheckFailed, match="percentage"):
        check.my_cas(lambda *a: 100 * cas(*a), reps, c, rhos)
    with pytest.raises(CheckFailed, match="the concept first"):
        check.my_cas(swapped, reps, c, rhos)


def test_alignment_why() -> None:
    assert check.alignment_why("a")
    with pytest.raises(CheckFailed, match="free units serve the task"):
        check.alignment_why("b")
    with pytest.raises(CheckFailed, match="127 units"):
        check.alignment_why("d")
