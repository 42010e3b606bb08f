"""Concept Alignment Score: aligned vs unrelated representations, grid, inputs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import homogeneity_score

from cem.errors import CemError
from cem.metrics.alignment import cluster_counts, concept_alignment_score, split_chunks

N = 240


@pytest.fixture(scope="module")
def concepts() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 2, size=(N, 2))


def test_aligned_representation_scores_one(concepts: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    # Two tight blobs per concept, in 1-D and in 8-D: every cluster is pure at every ρ.
    reps = [
        concepts[:, :1] + 0.01 * rng.normal(size=(N, 1)),
        3.0 * concepts[:, 1:2] * np.ones((1, 8)) + 0.01 * rng.normal(size=(N, 8)),
    ]
    result = concept_alignment_score(reps, concepts)
    assert result["cas"] > 0.99
    assert np.all(result["curve"] > 0.99)


def test_unrelated_representation_scores_about_one_half(concepts: np.ndarray) -> None:
    # Noise does not score 0: at ρ = t·N clusters, ρ >= N/2 leaves singletons and pairs, and a
    # random pair is mixed half the time, so h ≈ t; below N/2 bigger clusters are mixed more.
    # The curve hugs the diagonal h ≈ ρ/N, whose normalised area is 1/2.
    rng = np.random.default_rng(2)
    result = concept_alignment_score([rng.normal(size=(N, 1)), rng.normal(size=(N, 16))], concepts)
    assert 0.35 < result["cas"] < 0.6
    rho = result["rho"]
    assert result["curve"][:, 0].max() < 0.05  # 2 clusters of noise: no information
    np.testing.assert_allclose(result["curve"].mean(axis=0), rho / N, atol=0.1)


def test_partial_alignment_lies_between(concepts: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    c = concepts[:160]
    noise = [rng.normal(size=(160, 4)) for _ in range(2)]
    weak = [np.hstack([1.0 * c[:, i : i + 1], noise[i]]) for i in range(2)]
    strong = [np.hstack([4.0 * c[:, i : i + 1], noise[i]]) for i in range(2)]
    cas_noise = concept_alignment_score(noise, c)["cas"]
    cas_weak = concept_alignment_score(weak, c)["cas"]
    cas_strong = concept_alignment_score(strong, c)["cas"]
    assert cas_noise + 0.05 < cas_weak < cas_strong - 0.05
    assert cas_strong > 0.9


def test_hard_concepts_score_one(concepts: np.ndarray) -> None:
    # A Bool CBM's bottleneck: two distinct values, hundreds of duplicate points.
    result = concept_alignment_score(concepts.astype(float), concepts)
    assert result["cas"] == pytest.approx(1.0)
    assert result["per_concept"] == pytest.approx([1.0, 1.0])


def test_deterministic_and_input_forms_agree(concepts: np.ndarray) -> None:
    rng = np.random.default_rng(4)
    concepts = concepts[:100]
    emb = rng.normal(size=(100, 2, 3)) + concepts[:, :, None]
    kw = {"seed": 5, "n_values": 20}
    as_list = concept_alignment_score([emb[:, 0], emb[:, 1]], concepts, **kw)
    as_array = concept_alignment_score(emb, concepts, **kw)
    as_tensor = concept_alignment_score(torch.from_numpy(emb), torch.from_numpy(concepts), **kw)
    for other in (as_array, as_tensor):
        assert other["cas"] == as_list["cas"]
        np.testing.assert_array_equal(other["curve"], as_list["curve"])
    scalars = rng.normal(size=(100, 2))
    a = concept_alignment_score(scalars, concepts, n_values=20)
    b = concept_alignment_score([scalars[:, 0], scalars[:, 1:2]], concepts, n_values=20)
    assert a["per_concept"] == b["per_concept"]


def test_max_points_subsamples(concepts: np.ndarray) -> None:
    reps = concepts.astype(float)
    result = concept_alignment_score(reps, concepts, max_points=60, seed=1)
    assert result["rho"][-1] == 60
    assert result["cas"] == pytest.approx(1.0)


def test_curve_shape_and_area_match_the_public_code(concepts: np.ndarray) -> None:
    rng = np.random.default_rng(6)
    result = concept_alignment_score([rng.normal(size=(N, 2))] * 2, concepts, n_values=10)
    curve = result["curve"]
    assert curve.shape == (2, 10) and result["rho"].shape == (10,)
    # np.trapz(h) / np.trapz(ones) with unit spacing, as cem/metrics/cas.py.
    expected = [((row[1:] + row[:-1]) / 2).sum() / 9 for row in curve]
    assert result["per_concept"] == pytest.approx(expected)
    assert result["cas"] == pytest.approx(np.mean(expected))


def test_cluster_counts_grid() -> None:
    grid = cluster_counts(600)
    assert grid.size == 50 and grid[0] == 2 and grid[-1] == 600
    assert np.all(np.diff(grid) >= 12)  # 598/49 ≈ 12.2, truncated
    assert np.array_equal(grid, np.linspace(2, 600, 50).astype(int))
    small = cluster_counts(20)
    assert small.size == 50 and np.unique(small).size == 19  # repeats kept when N < 51


def test_split_chunks() -> None:
    h = np.arange(12.0).reshape(2, 6)
    chunks = split_chunks(h, 3)
    assert [c.tolist() for c in chunks] == [[[0, 1], [6, 7]], [[2, 3], [8, 9]], [[4, 5], [10, 11]]]
    assert len(split_chunks(torch.ones(4, 8), 2)) == 2
    with pytest.raises(CemError, match=r"h\.shape\[1\]=6 is invalid; allowed: .*multiple of k=4"):
        split_chunks(h, 4)


@pytest.mark.parametrize(
    ("reps", "c", "match"),
    [
        (
            [np.zeros((10, 2))],
            np.zeros((10, 2)),
            r"len\(reps\)=1 is invalid; allowed: one .* \(2\)",
        ),
        (
            [np.zeros((9, 2)), np.zeros((10, 2))],
            np.zeros((10, 2)),
            r"reps\[0\]\.shape\[0\]=9",
        ),
        (np.zeros((10, 3, 4)), np.zeros((10, 2)), r"reps\.shape\[1\]=3"),
        (np.zeros((10, 2)), np.full((10, 2), 0.5), r"c=.*non-binary"),
        ([np.full((10, 1), np.inf)] * 2, np.zeros((10, 2)), r"reps\[0\]=.*non-finite"),
    ],
)
def test_bad_inputs_raise(reps: object, c: np.ndarray, match: str) -> None:
    with pytest.raises(CemError, match=match):
        concept_alignment_score(reps, c)  # type: ignore[arg-type]


def test_identical_representations_share_a_cluster() -> None:
    # A hard 0/1 bottleneck that gets 10% of a concept wrong: however many clusters it is given,
    # its clusters are the two values, so every point of the curve is h(c, ĉ) and CAS equals it.
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2, size=(300, 1))
    wrong = rng.random(300) < 0.1
    hard = np.where(wrong[:, None], 1 - c, c).astype(float)
    result = concept_alignment_score(hard, c, n_values=10)
    expected = homogeneity_score(c[:, 0], hard[:, 0].astype(int))
    assert expected < 0.8
    np.testing.assert_allclose(result["curve"][0], expected)
    assert result["cas"] == pytest.approx(expected)


def test_public_clustering_halves_a_perfect_hard_concept() -> None:
    # With the public code's clustering a perfect 0/1 concept (n0 zeros, n1 ones, n0 > n1) sits in
    # one cluster (h = 0) for every ρ <= n0 and in two pure ones (h = 1) above: the curve is a
    # step at n0. Our clustering scores the same representation 1.
    c = np.r_[np.zeros(35), np.ones(25)].astype(int)[np.random.default_rng(1).permutation(60)]
    public = concept_alignment_score(c[:, None].astype(float), c[:, None], clustering="public")
    step = (public["rho"] > 35).astype(float)
    np.testing.assert_array_equal(public["curve"][0], step)
    assert public["cas"] == pytest.approx((step[1:] + step[:-1]).sum() / 2 / (step.size - 1))
    assert public["cas"] < 0.5
    exact = concept_alignment_score(c[:, None].astype(float), c[:, None])
    assert exact["cas"] == pytest.approx(1.0)


def test_public_clustering_agrees_on_separated_embeddings(concepts: np.ndarray) -> None:
    # Well-separated clusters per concept value: both clusterings find them at ρ = 2.
    rng = np.random.default_rng(3)
    reps = [concepts[:, [i]] * 6.0 + rng.normal(scale=0.3, size=(N, 4)) for i in range(2)]
    public = concept_alignment_score(reps, concepts, n_values=8, clustering="public")
    exact = concept_alignment_score(reps, concepts, n_values=8)
    np.testing.assert_allclose(public["curve"][:, 0], 1.0)
    np.testing.assert_allclose(exact["curve"][:, 0], 1.0)
    assert public["cas"] > 0.9


def test_unknown_clustering_raises(concepts: np.ndarray) -> None:
    allowed = "allowed: build, pam, public"
    with pytest.raises(CemError, match=rf"clustering='sklearn' is unknown; {allowed}"):
        concept_alignment_score(concepts.astype(float), concepts, clustering="sklearn")
    with pytest.raises(CemError, match=r"none with clustering='public'"):
        concept_alignment_score(concepts.astype(float), concepts, clustering="public", init="build")


def test_homogeneity_equals_sklearn() -> None:
    from cem.metrics.alignment import homogeneity

    rng = np.random.default_rng(5)
    for n_clusters in (1, 2, 7, 60):
        c = rng.integers(0, 2, size=200)
        labels = rng.integers(0, n_clusters, size=200)
        assert homogeneity(c, labels) == pytest.approx(homogeneity_score(c, labels), abs=1e-12)
    assert homogeneity(np.zeros(10, dtype=int), np.arange(10)) == 1.0  # a constant concept
    assert homogeneity(np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1])) == pytest.approx(1.0)
