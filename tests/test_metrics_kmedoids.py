"""k-medoids: exact on tiny inputs (vs brute force), edge cases, determinism, input errors."""

from __future__ import annotations

import numpy as np
import pytest

from cem.errors import CemError
from cem.metrics.kmedoids import (
    kmedoids,
    kmedoids_exhaustive,
    kmedoids_many,
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
