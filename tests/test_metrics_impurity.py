"""Oracle and niche impurity scores: zero/low when pure, growing with planted leakage."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from cem.errors import CemError
from cem.metrics.impurity import (
    DEFAULT_BETAS,
    _split,
    niche_impurity_curve,
    niche_impurity_score,
    oracle_impurity_score,
    purity_matrix,
)

N, K = 400, 3


@pytest.fixture(scope="module")
def concepts() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 2, size=(N, K))


def _leaky_reps(c: np.ndarray, leak: float, seed: int = 1) -> list[np.ndarray]:
    """R_i = [c_i + 0.3·noise, leak·c_{i+1} + noise]: concept i's representation leaks c_{i+1}."""
    rng = np.random.default_rng(seed)
    own = c + 0.3 * rng.normal(size=c.shape)
    other = rng.normal(size=c.shape)
    k = c.shape[1]
    return [np.column_stack([own[:, i], leak * c[:, (i + 1) % k] + other[:, i]]) for i in range(k)]


def test_ois_of_the_oracle_is_zero(concepts: np.ndarray) -> None:
    assert oracle_impurity_score(concepts.astype(float), concepts) == pytest.approx(0.0, abs=1e-12)


def test_ois_grows_with_leakage(concepts: np.ndarray) -> None:
    # Entry (i, i+1) of the purity matrix is the AUC of leak·c + N(0, 1), Φ(leak/√2), against the
    # oracle's 0.5 (independent concepts); the k such entries give
    # OIS ≈ (2/k)·√k·(Φ(leak/√2) − 0.5): 0.07 (noise only), 0.30, 0.49, 0.58 for leak 0, 1, 2, 4.
    scores = [oracle_impurity_score(_leaky_reps(concepts, leak), concepts) for leak in (0, 1, 2, 4)]
    assert scores[0] < 0.15
    assert all(b > a + 0.05 for a, b in zip(scores, scores[1:], strict=False)), scores
    np.testing.assert_allclose(scores[1:], [0.30, 0.49, 0.58], atol=0.1)


def test_purity_and_oracle_matrices(concepts: np.ndarray) -> None:
    pred = purity_matrix(_leaky_reps(concepts, 4.0), concepts)
    oracle = purity_matrix(None, concepts, oracle=True)
    assert pred.shape == oracle.shape == (K, K)
    np.testing.assert_array_equal(np.diag(oracle), np.ones(K))
    # A probe on one binary input ranks the test points by that input (up to its orientation):
    # the oracle entries are the AUCs of c_i as a score for c_j on the held-out split, which
    # also carry its chance correlations (0.35 between c_0 and c_2 on these 80 points).
    _, test = _split(N, 0.2, 0)
    for i in range(K):
        for j in range(K):
            if i != j:
                direct = roc_auc_score(concepts[test, j], concepts[test, i])
                assert abs(oracle[i, j] - 0.5) == pytest.approx(abs(direct - 0.5))
    assert np.all(np.diag(pred) > 0.95)
    assert all(pred[i, (i + 1) % K] > 0.95 for i in range(K))  # the planted leaks


def test_ois_deterministic_and_accepts_tensors(concepts: np.ndarray) -> None:
    c = concepts[:200]
    reps = np.stack(_leaky_reps(c, 1.0), axis=1)  # (n, k, 2)
    a = oracle_impurity_score(reps, c, seed=3)
    b = oracle_impurity_score(torch.from_numpy(reps), torch.from_numpy(c), seed=3)
    assert a == b


def _bottleneck(c: np.ndarray, leak: float, seed: int = 2) -> np.ndarray:
    """k clean concept units plus 24 units each weakly mixing every concept (spread leakage)."""
    rng = np.random.default_rng(seed)
    own = c + 0.3 * rng.normal(size=c.shape)
    mix = rng.normal(size=(c.shape[1], 24))
    extra = leak * 0.3 * (c - 0.5) @ mix + rng.normal(size=(c.shape[0], 24))
    return np.hstack([own, extra])


def test_nis_clean_representation_is_near_chance(concepts: np.ndarray) -> None:
    # Without leakage, removing a concept's niche leaves chance AUC (0.5) for every β below
    # corr(own unit, c_i) ≈ 0.86 and the full probe's AUC (≈1) above it, up to 0.95:
    # NIS ≈ 0.5·0.86 + 1·0.09 ≈ 0.52.
    result = niche_impurity_curve(_bottleneck(concepts, 0.0), concepts)
    assert 0.45 < result["nis"] < 0.57
    assert result["curve"][0] == pytest.approx(0.5, abs=0.02)  # β = 0: every unit in the niche
    assert np.all(result["curve"][1:15] < 0.6)


def test_nis_grows_with_spread_leakage(concepts: np.ndarray) -> None:
    # Each extra unit correlates weakly with every concept (below most β), so it stays outside
    # the niches while the probe reads the concepts from them jointly.
    scores = [
        niche_impurity_score(_bottleneck(concepts, s), concepts) for s in (0.0, 0.5, 1.0, 2.0)
    ]
    assert all(b > a + 0.03 for a, b in zip(scores, scores[1:], strict=False)), scores
    assert scores[-1] > 0.7


def test_nis_groups_and_niches(concepts: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(N, K, 4))
    emb[:, :, 0] += 2.0 * concepts  # unit 0 of group i carries concept i
    grouped = niche_impurity_curve(emb, concepts)
    listed = niche_impurity_curve([emb[:, i] for i in range(K)], concepts)
    assert grouped["nis"] == listed["nis"]
    niches = grouped["niches"]
    assert niches.shape == (DEFAULT_BETAS.size, K, K)
    # Niches shrink as β grows; at a middle β each concept's niche is exactly its own group.
    assert np.all(niches[1:] <= niches[:-1])
    np.testing.assert_array_equal(niches[10], np.eye(K, dtype=bool))
    flat = niche_impurity_curve(emb[:200].reshape(200, -1), concepts[:200])
    assert flat["niches"].shape == (DEFAULT_BETAS.size, K, K * 4)
    assert np.all(flat["niches"][10, :, 1:4] == 0)  # pure-noise units are in no niche at β=0.5


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda c: oracle_impurity_score([np.zeros((N, 1))] * 2, c),
            r"len\(reps\)=2 is invalid; allowed: one representation per concept in c \(3\)",
        ),
        (lambda c: oracle_impurity_score(np.zeros((N, K)), c[:10]), r"reps\[0\]\.shape\[0\]=400"),
        (lambda c: niche_impurity_score(np.zeros((N + 1, 4)), c), r"h\.shape\[0\]=401"),
        (lambda c: niche_impurity_score(np.zeros((N, 4)), c + 2), r"c=.*non-binary"),
        (lambda c: oracle_impurity_score(c, c, test_fraction=1.5), r"test_fraction=1\.5"),
        (
            lambda c: niche_impurity_score(c, c, betas=[0.0, 0.1, 0.5]),
            r"betas=.*evenly spaced",
        ),
    ],
)
def test_bad_inputs_raise(concepts: np.ndarray, call, match: str) -> None:
    with pytest.raises(CemError, match=match):
        call(concepts)
