"""Concept Alignment Score (CAS) of concept representations.

Espinosa Zarlenga et al., "Concept Embedding Models: Beyond the Accuracy-Explainability
Trade-Off", NeurIPS 2022, arXiv 2209.09056 (REFERENCE §3).

For every concept ``i`` the representation ``R_i`` of the ``N`` test points is clustered with
k-medoids at ``ρ`` clusters for 50 values of ``ρ`` from 2 to ``N``; the homogeneity
``h(c_i, clusters)`` (every cluster holds a single value of concept ``i``) is averaged over the
``ρ`` grid as a normalised trapezoid area, ``CAS_i``; ``CAS`` is the mean over concepts.

A representation whose neighbourhoods carry the concept scores near 1. One unrelated to the
concept does *not* score near 0: small clusters are pure by chance. For a balanced binary concept
and ``ρ = t·N`` clusters, ``ρ >= N/2`` leaves mostly singletons and pairs, and a random pair is
mixed half the time, so ``h ≈ t`` there and less below: the curve of pure noise is close to the
diagonal ``h ≈ ρ/N`` and its CAS is about 0.5 (0.47-0.49 measured at N = 600).

What each model family passes as ``reps`` (one ``(N, m_i)`` array per concept):

* CEM: the concept's ``m``-dim mixed embedding ``ĉ_i`` (an ``(N, k, m)`` array is accepted);
* scalar CBMs (Bool, Sigmoid, Logit; joint, sequential, independent): the concept's value in the
  bottleneck, ``(N, 1)`` (an ``(N, k)`` array is read as one scalar per concept);
* Hybrid CBM and the no-concept DNN: the extra units split into ``k`` chunks,
  :func:`split_chunks` (the public code instead appends *all* extra units to each concept's
  probability for the Hybrid).

Matched against the authors' public code (``mateoespinosa/cem``, ``cem/metrics/cas.py``):

* ρ grid: ``np.linspace(2, N, n_values).astype(int)`` with ``n_values = 50``, i.e. truncated, not
  rounded, repeats kept (they only occur when ``N < 51``; a repeated ρ reuses one clustering);
* area: ``np.trapz`` over the grid *index* (unit spacing), divided by ``np.trapz`` of a curve of
  ones over the same grid (``n_values - 1``). Integrating over the ρ values instead differs
  only through the truncation jitter of the grid (steps of 12 or 13 at N = 600; measured
  differences below 1e-3);
* homogeneity: ``sklearn.metrics.homogeneity_score(c_i, cluster_labels)`` (computed by
  :func:`homogeneity`, the same formula without scikit-learn's per-call checks), where points with
  identical representations share one cluster (the public code's ``argmin`` assignment does the
  same; without it the ties of a hard 0/1 bottleneck are split into singletons and its curve
  climbs to 1 as ρ grows);
* clustering: k-medoids on Euclidean distances. The public code used ``sklearn_extra``'s
  ``KMedoids(n_clusters=ρ, random_state=0)`` (alternate method, heuristic init, no swaps); we use
  :func:`cem.metrics.kmedoids.kmedoids_many` from Kaufman & Rousseeuw's BUILD start with the
  alternate method (``clustering="build"``, the default), which reaches lower clustering costs.
  ``clustering="pam"`` adds PAM's swap phase (a PAM local optimum) at several times the cost
  for nearly the same CAS, so runs use BUILD + alternate (``benchmarks/metrics_speed.py``
  prints the time and the value of both). ``clustering="public"`` re-implements theirs
  (:func:`cem.metrics.kmedoids.kmedoids_public`), to compare with published numbers. The two
  differ most on a representation with few distinct values: theirs puts all the points of a
  two-valued (hard 0/1) concept in one cluster for every ρ up to the majority's size, so a
  perfect hard concept scores about 0.5; and on high-dimensional free units (Hybrid CBM, DNN),
  where their heuristic start stays in costlier, less concept-pure clusterings (Hybrid-CBM on
  Trig, 5 seeds: 0.86 ours, 0.79 with the public code's representation and clustering).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import pairwise_distances

from cem.errors import check, unknown
from cem.metrics.kmedoids import (
    CLUSTERINGS,
    kmedoids_many,
    kmedoids_public,
    pairwise_euclidean,
)

__all__ = [
    "CLUSTERINGS",
    "as_binary_concepts",
    "as_concept_reps",
    "cluster_counts",
    "concept_alignment_score",
    "homogeneity",
    "split_chunks",
    "to_numpy",
]


def to_numpy(x: Any) -> np.ndarray:
    """NumPy view of an array-like or a torch tensor (detached, on the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def split_chunks(h: ArrayLike, k: int) -> list[np.ndarray]:
    """Split ``K·m`` units into ``k`` consecutive chunks of ``m`` (Hybrid CBM / DNN extra units).

    Parameters
    ----------
    h : (n, k*m) float array or tensor
        The units to split, e.g. the ``(m - 1)·k`` extra units of a Hybrid CBM.
    k : int
        Number of concepts; must divide ``h.shape[1]``.

    Returns
    -------
    list of k float64 arrays, each ``(n, m)``; chunk ``i`` holds columns ``[i·m, (i+1)·m)``.
    """
    arr = to_numpy(h).astype(np.float64)
    check(arr.ndim == 2, "h.ndim", arr.ndim, "2: (n, k*m)")
    check(isinstance(k, int | np.integer) and k >= 1, "k", k, "an integer >= 1")
    width = arr.shape[1]
    check(width % k == 0 and width > 0, "h.shape[1]", width, f"a positive multiple of k={k}")
    m = arr.shape[1] // k
    return [arr[:, i * m : (i + 1) * m] for i in range(k)]


def cluster_counts(n_points: int, n_values: int = 50) -> np.ndarray:
    """The ρ grid of CAS: ``np.linspace(2, n_points, n_values).astype(int)`` (public code's grid).

    Parameters
    ----------
    n_points : int
        Number of clustered points ``N >= 2``.
    n_values : int
        Number of grid values ``>= 2``.

    Returns
    -------
    (n_values,) int64, non-decreasing from 2 to ``n_points`` (repeats when ``N < n_values + 1``).
    """
    check(n_points >= 2, "n_points", n_points, "an integer >= 2")
    check(n_values >= 2, "n_values", n_values, "an integer >= 2")
    return np.linspace(2, n_points, n_values).astype(np.int64)


def homogeneity(c: np.ndarray, labels: np.ndarray) -> float:
    """Homogeneity ``h(c, labels) = 1 - H(c | labels) / H(c)`` (1 when ``c`` is constant).

    The value of ``sklearn.metrics.homogeneity_score(c, labels)`` (natural logarithms) from one
    ``bincount``: CAS calls it 50 times per concept, where scikit-learn's input checks cost more
    than the sum itself.

    Parameters
    ----------
    c : (n,) int {0, 1}
        Concept labels.
    labels : (n,) int >= 0
        Cluster labels.

    Returns
    -------
    float in [0, 1].
    """
    n = c.size
    counts = np.bincount(labels * 2 + c, minlength=2 * (int(labels.max()) + 1)).reshape(-1, 2)
    p_c = counts.sum(axis=0) / n
    p_c = p_c[p_c > 0]
    h_c = float(-(p_c * np.log(p_c)).sum())
    if h_c == 0.0:
        return 1.0
    size = counts.sum(axis=1, keepdims=True)  # (K, 1) cluster sizes
    nz = counts > 0
    joint = counts[nz] / n
    h_c_given_k = float(
        -(joint * np.log(counts[nz] / np.broadcast_to(size, counts.shape)[nz])).sum()
    )
    return float(min(1.0, max(0.0, 1.0 - h_c_given_k / h_c)))


def _trapezoid(y: np.ndarray) -> float:
    """``np.trapz(y)`` with unit spacing (deprecated in NumPy 2, absent as np.trapezoid in 1.x)."""
    return float((y[1:] + y[:-1]).sum() / 2.0)


def as_concept_reps(reps: Any, k: int, n: int) -> list[np.ndarray]:
    """Validate per-concept representations and return ``k`` float64 arrays ``(n, m_i)``.

    Parameters
    ----------
    reps : list of k arrays (n, m_i) or (n,), or array (n, k, m), or array (n, k)
        NumPy arrays or torch tensors; an ``(n, k)`` array is one scalar per concept.
    k, n : int
        Number of concepts and of points (from ``c``).

    Raises
    ------
    CemError
        Naming the bad field (``len(reps)``, ``reps[i].shape[0]``, ...) and what is allowed.
    """
    if isinstance(reps, Sequence) and not isinstance(reps, str | bytes):
        items = [to_numpy(r).astype(np.float64) for r in reps]
        items = [r[:, None] if r.ndim == 1 else r for r in items]
    else:
        arr = to_numpy(reps).astype(np.float64)
        check(arr.ndim in (2, 3), "reps.ndim", arr.ndim, "2 (n, k) scalars or 3 (n, k, m)")
        check(arr.shape[1] == k, "reps.shape[1]", arr.shape[1], f"the number of concepts {k}")
        items = [arr[:, i, None] if arr.ndim == 2 else arr[:, i, :] for i in range(k)]
    check(len(items) == k, "len(reps)", len(items), f"one representation per concept in c ({k})")
    for i, r in enumerate(items):
        check(r.ndim == 2, f"reps[{i}].ndim", r.ndim, "1 (n,) or 2 (n, m)")
        check(r.shape[0] == n, f"reps[{i}].shape[0]", r.shape[0], f"the rows of c ({n})")
        check(r.shape[1] >= 1, f"reps[{i}].shape[1]", r.shape[1], "at least one unit")
        check(bool(np.isfinite(r).all()), f"reps[{i}]", "non-finite values", "finite numbers")
    return items


def as_binary_concepts(c: Any) -> np.ndarray:
    """Validate concept labels: ``(n, k)`` (or ``(n,)``) 0/1 values -> ``(n, k)`` int64."""
    arr = to_numpy(c)
    if arr.ndim == 1:
        arr = arr[:, None]
    check(arr.ndim == 2, "c.ndim", arr.ndim, "2: (n, k) concept labels")
    check(bool(np.isin(arr, (0, 1)).all()), "c", "non-binary values", "0/1 concept labels")
    return arr.astype(np.int64)


def concept_alignment_score(
    reps: Sequence[ArrayLike] | ArrayLike,
    c: ArrayLike,
    n_values: int = 50,
    seed: int = 0,
    max_points: int | None = None,
    clustering: str = "build",
    **kmedoids_options: Any,
) -> dict[str, Any]:
    """Concept Alignment Score: how well clusters of each concept's representation match it.

    Parameters
    ----------
    reps : list of k arrays (n, m_i), or array (n, k, m), or array (n, k)
        The representation of every concept (see the module docstring for each model family);
        NumPy arrays or torch tensors. An ``(n, k)`` array is one scalar per concept.
    c : (n, k) int {0, 1}
        True concept labels of the same points.
    n_values : int
        Number of cluster counts ρ on the grid from 2 to ``N`` (50 in the paper).
    seed : int
        Seed of the point subsample (``max_points``) and of the k-medoids restarts.
    max_points : int or None
        If given and ``n > max_points``, score a seeded random subset of ``max_points`` points
        (the same subset for every concept); ``N`` is then ``max_points``.
    clustering : {"build", "pam", "public"}
        ``build`` (default): :func:`cem.metrics.kmedoids.kmedoids_many` without the swap phase
        (BUILD + alternate); ``pam``: the same followed by PAM swaps (a PAM local optimum, at
        several times the cost); both with identical
        representations sharing a cluster. ``public``: the clustering of the authors' code,
        ``sklearn_extra``'s ``KMedoids()`` defaults (:func:`cem.metrics.kmedoids.kmedoids_public`,
        on ``sklearn``'s pairwise distances), to compare with published numbers.
    **kmedoids_options
        Passed to :func:`cem.metrics.kmedoids.kmedoids_many` (``build`` and ``pam`` only).

    Returns
    -------
    dict with
        ``cas`` : float in [0, 1], mean of ``per_concept``;
        ``per_concept`` : list of k floats, ``CAS_i``;
        ``rho`` : (n_values,) int64, the cluster counts;
        ``curve`` : (k, n_values) float64, homogeneity of concept ``i`` at each ρ.

    Raises
    ------
    CemError
        On a bad shape (e.g. ``len(reps)`` differs from the number of concepts), non-binary ``c``
        or non-finite representations.
    """
    conc = as_binary_concepts(c)
    n, k = conc.shape
    items = as_concept_reps(reps, k, n)
    check(n >= 2, "n", n, "at least 2 points")
    check(max_points is None or max_points >= 2, "max_points", max_points, "None or >= 2")
    if clustering not in CLUSTERINGS:
        raise unknown("clustering", clustering, CLUSTERINGS)
    check(
        clustering != "public" or not kmedoids_options,
        "kmedoids_options",
        sorted(kmedoids_options),
        "none with clustering='public'",
    )
    if max_points is not None and n > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
        conc = conc[keep]
        items = [r[keep] for r in items]
        n = max_points
    rho = cluster_counts(n, n_values)
    curve = np.empty((k, rho.size), dtype=np.float64)
    for i, rep in enumerate(items):
        if clustering == "public":
            dist = pairwise_distances(rep)
            curve[i] = [homogeneity(conc[:, i], kmedoids_public(dist, r).labels) for r in rho]
            continue
        options = (
            {"max_swaps": 0, **kmedoids_options} if clustering == "build" else kmedoids_options
        )
        results = kmedoids_many(pairwise_euclidean(rep), rho, seed=seed, **options)
        # Identical representations are indistinguishable, so they share a cluster: k-medoids
        # may park duplicate points in separate (tied) clusters, which would make a hard 0/1
        # bottleneck look purer the more clusters it is given.
        _, first, group = np.unique(rep, axis=0, return_index=True, return_inverse=True)
        group = group.reshape(-1)
        curve[i] = [homogeneity(conc[:, i], res.labels[first][group]) for res in results]
    per_concept = [_trapezoid(row) / _trapezoid(np.ones(rho.size)) for row in curve]
    return {
        "cas": float(np.mean(per_concept)),
        "per_concept": [float(v) for v in per_concept],
        "rho": rho,
        "curve": curve,
    }
