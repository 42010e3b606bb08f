"""k-medoids: exact on tiny inputs (vs brute force), edge cases, determinism, input errors."""

from __future__ import annotations

import numpy as np
import pytest

from cem.errors import CemError
from cem.metrics.kmedoids import (
    kmedoids,
    kmedoids_exhaustive,
    kmedoids_many,
    kmedoids_public,
    pairwise_euclidean,
)


def _tiny_points(seed: int) -> np.ndarray:
    """Small point sets of several shapes: Gaussian, grid with duplicates, heavy-tailed, blobs."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 10))
    m = int(rng.integers(1, 4))
    kind = seed % 5
    if kind == 0:
        return rng.normal(size=(n, m))
    if kind == 1:
        return rng.integers(0, 3, size=(n, m)).astype(float)  # many duplicate points
    if kind == 2:
        return rng.exponential(size=(n, m)) ** 3
    if kind == 3:
        x = rng.normal(size=(n, m))
        x[: n // 2] += 5.0
        return x
    return rng.random(size=(n, m))


def _check_consistent(dist: np.ndarray, result) -> None:
    labels, medoids, cost = result
    n = dist.shape[0]
    assert labels.shape == (n,)
    assert np.array_equal(labels[medoids], np.arange(medoids.size))
    # Every point sits with a nearest medoid and the cost is the sum of those distances.
    np.testing.assert_allclose(dist[np.arange(n), medoids[labels]], dist[:, medoids].min(axis=1))
    assert cost == pytest.approx(dist[np.arange(n), medoids[labels]].sum(), abs=1e-9)


def test_matches_brute_force_optimum_on_tiny_inputs() -> None:
    cases = 0
    for seed in range(40):
        dist = pairwise_euclidean(_tiny_points(seed))
        n = dist.shape[0]
        for k in range(1, n + 1):
            best = kmedoids_exhaustive(dist, k)
            for s in (0, 1):
                result = kmedoids(dist, k, seed=s)
                _check_consistent(dist, result)
                assert result.cost <= best.cost + 1e-9, (seed, k, s, result.cost, best.cost)
                cases += 1
    assert cases > 400


def test_pam_local_optimum_without_restarts_is_still_swap_optimal() -> None:
    # With n_init=1 the result is a PAM local optimum: no single swap lowers the cost.
    dist = pairwise_euclidean(np.random.default_rng(3).normal(size=(40, 2)))
    _, medoids, cost = kmedoids(dist, 5, n_init=1)
    for slot in range(5):
        for point in np.setdiff1d(np.arange(40), medoids):
            trial = medoids.copy()
            trial[slot] = point
            assert dist[:, trial].min(axis=1).sum() >= cost - 1e-9


def test_recovers_separated_blobs() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth = np.repeat(np.arange(3), 50)
    x = centres[truth] + rng.normal(scale=0.5, size=(150, 2))
    labels, _, _ = kmedoids(pairwise_euclidean(x), 3)
    # Same partition up to renaming: every true blob maps to exactly one cluster.
    pairs = {(int(t), int(p)) for t, p in zip(truth, labels, strict=True)}
    assert len(pairs) == 3 and len({p for _, p in pairs}) == 3


def test_more_clusters_than_points_gives_singletons() -> None:
    dist = pairwise_euclidean(np.arange(4.0))
    for k in (4, 7):
        labels, medoids, cost = kmedoids(dist, k)
        assert np.array_equal(labels, np.arange(4))
        assert np.array_equal(medoids, np.arange(4))
        assert cost == 0.0


def test_one_cluster_is_the_most_central_point() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0, 100.0])
    labels, medoids, cost = kmedoids(pairwise_euclidean(x), 1)
    assert medoids.tolist() == [2]
    assert np.all(labels == 0)
    assert cost == pytest.approx(2 + 1 + 0 + 1 + 98)


def test_duplicate_points() -> None:
    x = np.array([[0.0], [0.0], [0.0], [5.0], [5.0], [9.0]])
    dist = pairwise_euclidean(x)
    # Fewer distinct values (3) than clusters (4): cost 0, every medoid keeps its own point.
    result = kmedoids(dist, 4)
    _check_consistent(dist, result)
    assert result.cost == 0.0
    assert len(set(result.medoids.tolist())) == 4
    # All points identical.
    same = pairwise_euclidean(np.zeros((5, 3)))
    labels, medoids, cost = kmedoids(same, 2)
    assert cost == 0.0 and medoids.size == 2
    assert np.array_equal(labels[medoids], [0, 1])


def test_deterministic_and_many_matches_single() -> None:
    dist = pairwise_euclidean(np.random.default_rng(7).normal(size=(120, 3)))
    counts = [2, 5, 17, 60, 119, 120, 5]
    many = kmedoids_many(dist, counts, seed=4)
    assert len(many) == len(counts)
    for k, res in zip(counts, many, strict=True):
        single = kmedoids(dist, k, seed=4)
        again = kmedoids(dist, k, seed=4)
        assert np.array_equal(single.labels, again.labels) and single.cost == again.cost
        assert res.cost == pytest.approx(single.cost, rel=1e-12, abs=1e-12)
        assert np.unique(res.labels).size == min(k, 120)


def test_kmedoids_plusplus_init_and_alternate_only() -> None:
    dist = pairwise_euclidean(np.random.default_rng(1).normal(size=(80, 2)))
    swap = kmedoids(dist, 6, init="k-medoids++", n_init=1, seed=2)
    alternate = kmedoids(dist, 6, init="k-medoids++", n_init=1, seed=2, max_swaps=0)
    _check_consistent(dist, swap)
    _check_consistent(dist, alternate)
    assert swap.cost <= alternate.cost + 1e-12
    # sklearn_extra-like: the most central points, then alternate only.
    central = np.argsort(dist.sum(axis=1))[:6]
    heuristic = kmedoids(dist, 6, init="heuristic", n_init=1, max_swaps=0, max_iter=0)
    assert sorted(heuristic.medoids.tolist()) == sorted(central.tolist())
    assert kmedoids(dist, 6, init="heuristic", n_init=1).cost <= heuristic.cost


def test_pairwise_euclidean_is_exact() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5))
    x[10] = x[3]
    dist = pairwise_euclidean(x, chunk_elems=100)  # forces several chunks
    naive = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(dist, naive, rtol=1e-12, atol=0)
    assert dist[3, 10] == 0.0 and np.all(np.diag(dist) == 0.0)
    assert pairwise_euclidean(np.arange(3.0)).tolist() == [[0, 1, 2], [1, 0, 1], [2, 1, 0]]


@pytest.mark.parametrize(
    ("dist", "k", "match"),
    [
        (np.ones((3, 4)), 2, r"dist\.shape"),
        (np.full((3, 3), np.nan), 2, r"dist=.*non-finite"),
        (-np.ones((3, 3)), 2, r"dist=.*negative"),
        (np.zeros((3, 3)), 0, r"n_clusters=0"),
        (np.zeros((3, 3)), 1.5, r"n_clusters=1\.5"),
    ],
)
def test_bad_inputs_raise(dist: np.ndarray, k: object, match: str) -> None:
    with pytest.raises(CemError, match=match):
        kmedoids(dist, k)  # type: ignore[arg-type]


def test_bad_init_raises() -> None:
    with pytest.raises(CemError, match=r"init=.pam. is invalid; allowed: build, k-medoids\+\+, h"):
        kmedoids(np.zeros((3, 3)), 2, init="pam")


# 30 points in 2-D (three groups), and the labels sklearn_extra 0.3.0's
# KMedoids(n_clusters=k, random_state=0).fit(X).labels_ gave for them (NumPy 1.26, sklearn 1.3).
_PUBLIC_X = [
    [1.691, -0.466], [0.033, 0.408], [-0.789, 0.002], [-0.001, -1.755], [1.018, 0.6],
    [-0.625, -0.172], [0.505, -0.261], [-0.243, -1.453], [0.555, 0.124], [0.274, -1.527],
    [1.651, 0.154], [-0.387, 2.029], [-0.045, -1.451], [-0.405, -2.288], [3.525, 0.792],
    [2.629, 1.536], [2.174, 1.268], [1.968, 0.669], [2.398, 1.731], [3.883, 0.835],
    [3.42, 0.91], [3.284, 0.624], [2.146, 0.098], [3.192, 2.124], [0.539, -1.049],
    [3.824, 0.475], [0.203, 0.505], [-0.265, -0.619], [-2.87, 1.003], [-0.19, 2.386],
]  # fmt: skip
_SKLEARN_EXTRA_LABELS = {
    2: [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 1],
    3: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 0, 0, 1, 1],
    5: [0, 1, 1, 3, 0, 1, 1, 3, 1, 3, 0, 2, 3, 3, 4, 4, 0, 0, 4, 4, 4, 4, 0, 4, 3, 4, 1, 3, 2, 2],
    8: [5, 3, 3, 6, 4, 3, 0, 6, 0, 6, 1, 3, 6, 6, 7, 2, 2, 1, 2, 7, 7, 7, 1, 2, 6, 7, 3, 6, 3, 3],
    13: [5, 8, 12, 10, 4, 12, 6, 10, 0, 10, 1, 3, 10, 10, 7, 9, 9, 2, 9, 7, 7, 7, 1, 9, 6, 7, 8,
         11, 12, 3],
}  # fmt: skip


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two labelings group the points identically (label names aside)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("k", sorted(_SKLEARN_EXTRA_LABELS))
def test_public_clustering_matches_sklearn_extra(k: int) -> None:
    dist = pairwise_euclidean(np.array(_PUBLIC_X))
    result = kmedoids_public(dist, k)
    assert _same_partition(result.labels, np.array(_SKLEARN_EXTRA_LABELS[k]))
    # Heuristic start + alternate rounds, no swaps: never cheaper than our PAM optimum.
    assert kmedoids(dist, k).cost <= result.cost + 1e-9
    own = dist[np.arange(30), result.medoids[result.labels]]
    np.testing.assert_allclose(result.cost, own.sum())


def test_public_clustering_puts_two_values_in_one_cluster() -> None:
    # A hard 0/1 representation, 12 zeros and 8 ones: the heuristic init takes the k points with
    # the smallest row sums, all zeros while k <= 12, and argmin sends every point to the first.
    x = np.r_[np.zeros(12), np.ones(8)][np.random.default_rng(0).permutation(20)]
    dist = pairwise_euclidean(x)
    for k in (2, 7, 12):
        assert np.unique(kmedoids_public(dist, k).labels).size == 1
    assert _same_partition(kmedoids_public(dist, 13).labels, x.astype(int))
    assert _same_partition(kmedoids(dist, 2).labels, x.astype(int))


def test_public_clustering_bad_inputs() -> None:
    dist = pairwise_euclidean(np.arange(5.0))
    with pytest.raises(CemError, match=r"n_clusters=6 is invalid; allowed: an integer in \[1, 5\]"):
        kmedoids_public(dist, 6)
    with pytest.raises(CemError, match=r"max_iter=-1 is invalid"):
        kmedoids_public(dist, 2, max_iter=-1)
