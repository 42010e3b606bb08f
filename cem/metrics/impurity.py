"""Oracle and Niche Impurity Scores (OIS, NIS) of concept representations.

Espinosa Zarlenga, Barbiero, Shams, Kazhdan, Bhatt, Weller, Jamnik, "Towards Robust Metrics for
Concept Representation Evaluation", AAAI 2023, arXiv 2301.10367 (Definitions of the purity
matrix, OIS, concept niches and NIS), as used for CEM (Espinosa Zarlenga et al., NeurIPS 2022,
arXiv 2209.09056).

**OIS** (how much each concept's representation predicts *other* concepts, beyond what the true
concepts themselves imply). The purity matrix ``π(R, c)`` holds, at ``(i, j)``, the test AUC of a
probe trained to predict ``c_j`` from ``R_i``; the oracle matrix ``π(c, c)`` does the same from
the true concept ``c_i`` (its diagonal set to 1). Then

    OIS = (2 / k) · ‖π(R, c) − π(c, c)‖_F   (in [0, 1] while AUCs stay in [0.5, 1]).

**NIS** (impurity spread over *subsets* of the representation). One probe ``g`` is trained on the
whole representation ``h`` to predict all ``k`` concepts. The niche of concept ``i`` at threshold
``β`` is the set of units (or unit groups) whose absolute Pearson correlation with ``c_i`` (on the
probe's training split) exceeds ``β``. ``NI(β)`` is the mean over concepts of the test AUC of
``g_i`` when the niche of ``i`` is zeroed, i.e. how well concept ``i`` is still predicted from
everything *outside* its niche; ``NIS`` is the trapezoid area under ``NI(β)``.

What each model family passes:

* OIS ``reps`` (one ``(n, m_i)`` array per concept, as for CAS): CEM the mixed embeddings
  ``(n, k, m)``; scalar CBMs the concept values ``(n, k)`` or ``(n, k, 1)``; Hybrid CBM / DNN the
  extra units split with :func:`cem.metrics.alignment.split_chunks`.
* NIS ``h`` (the whole bottleneck): scalar CBMs ``(n, k)``; CEM ``(n, k, m)`` (niches of whole
  concept embeddings) or its flattening ``(n, k·m)`` (niches of single units); Hybrid CBM / DNN
  the full ``(n, K)`` bottleneck.

Matched against the authors' public code (``mateoespinosa/cem``: ``cem/metrics/oracle.py``,
``cem/metrics/niching.py``; ``mateoespinosa/concept-quality``):

* OIS: one probe per ``(i, j)`` pair, a one-hidden-layer ReLU MLP with 32 units, AUC on a
  held-out ``test_fraction = 0.2`` of the points, oracle diagonal fixed to 1, Frobenius norm of
  the difference divided by ``k / 2``.
* NIS: one MLP probe with two hidden layers of 20 ReLU units for all concepts (multi-label), niches
  by ``|corr| > β`` on the training split, ``β`` in ``0, 0.05, …, 0.95`` (``np.arange(0, 1,
  0.05)``) and the trapezoid rule with step 0.05, so the area spans [0, 0.95] as in their code;
  ``NI(β)`` is the mean over concepts of the per-concept AUC (as in ``mateoespinosa/cem``; the
  older ``concept-quality`` code took a softmax across concepts first). A representation without
  impurities scores about ``0.5 · 0.95 = 0.475`` (chance AUC once the niche is removed), not 0.
* Differences, on purpose: our probes are trained full-batch with Adam (lr 0.02, 150 steps,
  L2 penalty 0.01 on the weights) in torch, on inputs standardised with training-split
  statistics, instead of Keras' 25 epochs (that is 25 Adam steps with lr 1e-3 on 480 points: a
  barely trained probe) or scikit-learn's ``MLPClassifier``; all probes of one call are trained
  together as a batch of independent networks, single-threaded, deterministic for a fixed
  ``seed``. For grouped NIS input the niche uses the max
  *absolute* correlation over a group's units (the public code takes the signed max, and its
  multi-dimensional branch scores the niche instead of its complement).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from cem.errors import CemError, check
from cem.metrics.alignment import as_binary_concepts, as_concept_reps, to_numpy
from cem.metrics.classification import binary_auc

__all__ = [
    "DEFAULT_BETAS",
    "niche_impurity_curve",
    "niche_impurity_score",
    "oracle_impurity_score",
    "purity_matrix",
]

#: Niche thresholds of NIS, as in the public code: ``np.arange(0.0, 1.0, 0.05)``.
DEFAULT_BETAS = np.round(np.arange(0.0, 1.0, 0.05), 10)
DEFAULT_BETAS.setflags(write=False)

# Probe training (both metrics): full-batch Adam.
_STEPS = 150
_LR = 0.02
# L2 penalty on the weights (not biases), added to the mean BCE: without it a 32-unit probe
# memorises 480 training points of a 128-dim embedding and its test AUC collapses.
_L2 = 1e-2
_OIS_HIDDEN = (32,)
_NIS_HIDDEN = (20, 20)
# Probes trained in one batch: bounds the (P, n, m) input copy for many concepts.
_PROBE_CHUNK = 64


@contextmanager
def _single_thread() -> Iterator[None]:
    """Run torch single-threaded for the duration of a call, then restore the thread count.

    The probes are tiny: threads only add synchronisation. With 2 OpenMP threads on a busy
    2-core machine one NIS call went from 0.4 s to 21 s (spinning barriers); one thread also
    makes the results independent of the caller's thread setting.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train/test split of ``n`` rows (sorted index arrays)."""
    check(0.0 < test_fraction < 1.0, "test_fraction", test_fraction, "a float in (0, 1)")
    n_test = int(round(test_fraction * n))
    check(
        1 <= n_test <= n - 2,
        "test_fraction",
        test_fraction,
        f"leaving >= 2 train, >= 1 test of {n}",
    )
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


class _Probes:
    """``P`` independent MLPs (same shape) trained as one batch; inputs standardised per probe.

    Parameters
    ----------
    x : (P, n, d) float32 training inputs (zero-padded features are allowed: they stay 0).
    y : (P, n, o) float32 binary targets.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, hidden: tuple[int, ...], seed: int):
        gen = torch.Generator().manual_seed(seed)
        self.mean = x.mean(dim=1, keepdim=True)
        std = x.std(dim=1, keepdim=True)
        self.std = torch.where(std > 1e-12, std, torch.ones_like(std))
        sizes = (x.shape[2], *hidden, y.shape[2])
        self.layers: list[tuple[torch.Tensor, torch.Tensor]] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / np.sqrt(fan_in)  # torch.nn.Linear's default init range
            w = (
                torch.rand(x.shape[0], fan_in, fan_out, generator=gen, dtype=x.dtype) * 2 - 1
            ) * bound
            b = (torch.rand(x.shape[0], 1, fan_out, generator=gen, dtype=x.dtype) * 2 - 1) * bound
            self.layers.append((w.requires_grad_(), b.requires_grad_()))
        params = [p for layer in self.layers for p in layer]
        opt = torch.optim.Adam(params, lr=_LR)
        loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
        xs = self._standardise(x)
        for _ in range(_STEPS):
            opt.zero_grad()
            # Sum over probes of each probe's mean loss: the probes' gradients stay independent.
            loss = loss_fn(self._forward(xs), y).mean(dim=(1, 2)).sum()
            loss = loss + _L2 * sum((w**2).sum() for w, _ in self.layers)
            loss.backward()
            opt.step()

    def _standardise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def _forward(self, xs: torch.Tensor) -> torch.Tensor:
        out = xs
        for idx, (w, b) in enumerate(self.layers):
            out = torch.baddbmm(b, out, w)
            if idx < len(self.layers) - 1:
                out = torch.relu(out)
        return out

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(P, n, d) raw inputs -> (P, n, o) logits."""
        with torch.no_grad():
            return self._forward(self._standardise(x))


def _auc(y: np.ndarray, score: np.ndarray, what: str) -> float:
    if np.unique(y).size < 2:
        raise CemError(
            f"{what} has a single class in the test split; allowed: concepts with both values "
            "among the test points (raise test_fraction or n)"
        )
    return binary_auc(y, score)  # sklearn's roc_auc_score, without its per-call checks


def _probe_aucs(
    inputs: list[np.ndarray],
    targets: list[int],
    c: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
) -> np.ndarray:
    """Test AUC of one probe per ``(inputs[p] (n, m_p), c[:, targets[p]])`` pair, ``(P,)``.

    Probes are trained in batches of ``_PROBE_CHUNK``, inputs zero-padded to a common width.
    """
    out = np.empty(len(inputs))
    with _single_thread():
        for start in range(0, len(inputs), _PROBE_CHUNK):
            chunk = range(start, min(start + _PROBE_CHUNK, len(inputs)))
            width = max(inputs[p].shape[1] for p in chunk)
            x = np.zeros((len(chunk), c.shape[0], width), dtype=np.float32)
            for row, p in enumerate(chunk):
                x[row, :, : inputs[p].shape[1]] = inputs[p]
            y = np.stack([c[:, targets[p]] for p in chunk]).astype(np.float32)[:, :, None]
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)
            probes = _Probes(xt[:, train], yt[:, train], _OIS_HIDDEN, seed + start)
            logits = probes.logits(xt[:, test])[:, :, 0].numpy()
            for row, p in enumerate(chunk):
                j = targets[p]
                out[p] = _auc(c[test, j], logits[row], f"c[:, {j}]")
    return out


def _matrices(
    items: list[np.ndarray] | None,
    conc: np.ndarray,
    seed: int,
    test_fraction: float,
    oracle: bool,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Purity matrix of ``items`` (if given) and/or the oracle matrix.

    The oracle's probes read one true concept each: they are trained apart from the
    representation's (no zero-padding to its width) and remembered per (concepts, split, seed),
    since every model of a sweep on the same data and seed shares them.
    """
    n, k = conc.shape
    pred = orac = None
    if items is not None:
        train, test = _split(n, test_fraction, seed)
        inputs = [items[i] for i in range(k) for _ in range(k)]
        targets = [j for _ in range(k) for j in range(k)]
        pred = _probe_aucs(inputs, targets, conc, train, test, seed).reshape(k, k)
    if oracle:
        key = (conc.shape, conc.astype(np.int8).tobytes(), seed, float(test_fraction))
        orac = _oracle_matrix(key).copy()
    return pred, orac


@functools.lru_cache(maxsize=32)
def _oracle_matrix(key: tuple[tuple[int, int], bytes, int, float]) -> np.ndarray:
    """``π(c, c)`` with its diagonal set to 1 (the public code's ``ignore_diags``)."""
    shape, data, seed, test_fraction = key
    conc = np.frombuffer(data, dtype=np.int8).reshape(shape).astype(np.int64)
    n, k = shape
    train, test = _split(n, test_fraction, seed)
    off_diagonal = [(i, j) for i in range(k) for j in range(k) if i != j]
    orac = np.ones((k, k))
    if off_diagonal:
        inputs = [conc[:, i : i + 1].astype(np.float64) for i, _ in off_diagonal]
        aucs = _probe_aucs(inputs, [j for _, j in off_diagonal], conc, train, test, seed)
        for (i, j), auc in zip(off_diagonal, aucs, strict=True):
            orac[i, j] = auc
    orac.setflags(write=False)
    return orac


def purity_matrix(
    reps: Sequence[ArrayLike] | ArrayLike | None,
    c: ArrayLike,
    seed: int = 0,
    test_fraction: float = 0.2,
    oracle: bool = False,
) -> np.ndarray:
    """Purity matrix ``π``: test AUC of a probe from concept ``i``'s representation to ``c_j``.

    Parameters
    ----------
    reps : list of k arrays (n, m_i), or array (n, k, m), or array (n, k), or None
        Concept representations (ignored when ``oracle=True``).
    c : (n, k) int {0, 1}
        True concepts.
    seed : int
        Seed of the train/test split and of the probes' initialisation.
    test_fraction : float
        Fraction of the points held out to compute the AUCs.
    oracle : bool
        If True, compute the oracle matrix ``π(c, c)`` from the true concepts, with its diagonal
        set to 1 (the public code's ``ignore_diags``).

    Returns
    -------
    (k, k) float64 AUC matrix.
    """
    conc = as_binary_concepts(c)
    n, k = conc.shape
    items = None if oracle else as_concept_reps(reps, k, n)
    pred, orac = _matrices(items, conc, seed, test_fraction, oracle)
    result = orac if oracle else pred
    assert result is not None
    return result


def oracle_impurity_score(
    reps: Sequence[ArrayLike] | ArrayLike,
    c: ArrayLike,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> float:
    """Oracle Impurity Score ``(2/k)·‖π(R, c) − π(c, c)‖_F`` (lower is purer; 0 for the oracle).

    Parameters
    ----------
    reps : list of k arrays (n, m_i), or array (n, k, m), or array (n, k)
        Each concept's representation (see the module docstring for each model family); NumPy
        arrays or torch tensors.
    c : (n, k) int {0, 1}
        True concepts of the same points.
    seed : int
        Seed of the train/test split and of the probes (the same split for both matrices).
    test_fraction : float
        Fraction of points held out for the AUCs (0.2 as in the public code).

    Returns
    -------
    float, >= 0; in [0, 1] whenever every AUC is at least 0.5.

    Raises
    ------
    CemError
        On bad shapes (e.g. ``len(reps)`` differs from the number of concepts), non-binary ``c``,
        or a concept with a single value among the test points.
    """
    conc = as_binary_concepts(c)
    n, k = conc.shape
    items = as_concept_reps(reps, k, n)
    pred, orac = _matrices(items, conc, seed, test_fraction, oracle=True)
    assert pred is not None and orac is not None
    return float(np.linalg.norm(pred - orac, ord="fro") / (k / 2.0))


def _as_bottleneck(h: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Flatten ``h`` to ``(n, D)`` float64 and return the group (niche unit) of every column."""
    if isinstance(h, Sequence) and not isinstance(h, str | bytes):
        parts = [to_numpy(p).astype(np.float64) for p in h]
        parts = [p[:, None] if p.ndim == 1 else p for p in parts]
        for g, p in enumerate(parts):
            check(p.ndim == 2 and p.shape[0] == n, f"h[{g}].shape", p.shape, f"({n}, m)")
        flat = np.concatenate(parts, axis=1)
        groups = np.concatenate([np.full(p.shape[1], g) for g, p in enumerate(parts)])
    else:
        arr = to_numpy(h).astype(np.float64)
        check(arr.ndim in (2, 3), "h.ndim", arr.ndim, "2 (n, D) units or 3 (n, groups, m)")
        check(arr.shape[0] == n, "h.shape[0]", arr.shape[0], f"the rows of c ({n})")
        if arr.ndim == 2:
            flat, groups = arr, np.arange(arr.shape[1])
        else:
            flat = arr.reshape(n, -1)
            groups = np.repeat(np.arange(arr.shape[1]), arr.shape[2])
    check(flat.shape[1] >= 1, "h.shape", flat.shape, "at least one unit")
    check(bool(np.isfinite(flat).all()), "h", "non-finite values", "finite numbers")
    return flat, groups


def _abs_corr(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``|Pearson corr|`` of every column of ``x`` (n, D) with every column of ``c`` (n, k).

    Constant columns get 0. Returns (D, k).
    """
    xc = x - x.mean(axis=0)
    cc = c - c.mean(axis=0)
    denom = np.sqrt((xc**2).sum(axis=0))[:, None] * np.sqrt((cc**2).sum(axis=0))[None, :]
    num = xc.T @ cc
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), 0.0)
    return np.abs(corr)


def niche_impurity_curve(
    h: Sequence[ArrayLike] | ArrayLike,
    c: ArrayLike,
    seed: int = 0,
    test_fraction: float = 0.2,
    betas: ArrayLike = DEFAULT_BETAS,
) -> dict[str, Any]:
    """Niche impurity ``NI(β)`` at every threshold, and its area ``NIS``.

    Parameters
    ----------
    h : array (n, D), array (n, G, m), or list of G arrays (n, m_g)
        The whole bottleneck. Niches are made of single units for ``(n, D)`` and of whole groups
        (e.g. one concept embedding each) for the other two forms.
    c : (n, k) int {0, 1}
        True concepts.
    seed : int
        Seed of the train/test split and of the probe.
    test_fraction : float
        Fraction of points held out for the AUCs.
    betas : (B,) float, increasing, evenly spaced
        Niche thresholds; the area uses the trapezoid rule with their spacing.

    Returns
    -------
    dict with ``nis`` (float), ``betas`` (B,), ``curve`` (B,) mean over concepts of ``NI_i(β)``,
    ``per_concept`` (B, k) and ``niches`` (B, k, G) bool membership of each group in each niche.
    """
    conc = as_binary_concepts(c)
    n, k = conc.shape
    flat, groups = _as_bottleneck(h, n)
    beta = np.array(betas, dtype=np.float64).reshape(-1)  # a copy: callers may keep the result
    check(beta.size >= 2, "betas", beta.size, "at least 2 thresholds")
    step = np.diff(beta)
    check(bool(np.allclose(step, step[0]) and step[0] > 0), "betas", "uneven", "evenly spaced")
    train, test = _split(n, test_fraction, seed)
    for j in range(k):
        check(np.unique(conc[train, j]).size == 2, f"c[:, {j}]", "constant", "both 0 and 1")

    n_groups = int(groups.max()) + 1
    unit_corr = _abs_corr(flat[train], conc[train].astype(np.float64))  # (D, k)
    group_corr = np.zeros((n_groups, k))
    np.maximum.at(group_corr, groups, unit_corr)  # (G, k): max |corr| over a group's units
    niches = group_corr.T[None, :, :] > beta[:, None, None]  # (B, k, G)
    keep = ~niches[:, :, groups]  # (B, k, D) units outside each niche

    x = torch.from_numpy(flat.astype(np.float32))
    y = torch.from_numpy(conc.astype(np.float32))
    tr, te = torch.from_numpy(train), torch.from_numpy(test)
    x_test = x[te]  # (n_test, D)
    per_concept = np.empty((beta.size, k))
    with _single_thread():
        probe = _Probes(x[tr][None], y[tr][None], _NIS_HIDDEN, seed)
        for t in range(beta.size):
            # Test points with the niche of each concept i zeroed: (k, n_test, D) -> logits.
            masked = x_test[None] * torch.from_numpy(keep[t].astype(np.float32))[:, None, :]
            logits = probe.logits(masked.reshape(1, -1, masked.shape[-1]))[0]
            logits = logits.reshape(k, x_test.shape[0], k).numpy()
            for j in range(k):
                per_concept[t, j] = _auc(conc[test, j], logits[j, :, j], f"c[:, {j}]")
    curve = per_concept.mean(axis=1)
    nis = float(((curve[1:] + curve[:-1]) / 2.0 * step).sum())
    return {"nis": nis, "betas": beta, "curve": curve, "per_concept": per_concept, "niches": niches}


def niche_impurity_score(
    h: Sequence[ArrayLike] | ArrayLike,
    c: ArrayLike,
    seed: int = 0,
    test_fraction: float = 0.2,
    betas: ArrayLike = DEFAULT_BETAS,
) -> float:
    """Niche Impurity Score: area under ``NI(β)`` (see :func:`niche_impurity_curve`).

    Parameters
    ----------
    h : array (n, D), array (n, G, m), or list of G arrays (n, m_g)
        The whole bottleneck (see the module docstring for each model family).
    c : (n, k) int {0, 1}
        True concepts.
    seed : int
        Seed of the train/test split and of the probe.
    test_fraction : float
        Fraction of points held out for the AUCs (0.2 as in the public code).
    betas : (B,) float
        Niche thresholds (default ``0, 0.05, ..., 0.95`` as in the public code).

    Returns
    -------
    float in [0, betas[-1] - betas[0]]; about ``0.475`` without impurities (chance AUC), higher
    when concepts can be predicted from units outside their niche.
    """
    return float(niche_impurity_curve(h, c, seed, test_fraction, betas)["nis"])
