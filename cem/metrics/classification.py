"""Task and concept metrics over a whole split (never a mean of per-batch values).

Pure functions of tensors or arrays; returned values are Python floats.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

ArrayLike = np.ndarray | torch.Tensor


def _np(a: ArrayLike) -> np.ndarray:
    return a.detach().float().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def task_probs(y_logits: ArrayLike) -> np.ndarray:
    """(N, 1) binary logits -> (N,) p(y=1); (N, C) logits -> (N, C) softmax probabilities."""
    z = _np(y_logits)
    if z.ndim == 1 or z.shape[1] == 1:
        return expit(z.reshape(-1))
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def binary_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of 0/1 labels y (N,) against scores (N,); NaN when y holds one class only.

    The Mann-Whitney form: the chance that a random positive outscores a random negative, ties
    counting one half (average ranks), which equals sklearn's trapezoidal ``roc_auc_score`` at
    a fraction of its per-call cost (validation runs it for every concept, every few epochs).
    """
    pos = y == 1
    n_pos = int(pos.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _auc(y: np.ndarray, score: np.ndarray, **kw: object) -> float:
    if score.ndim == 1:
        return binary_auc(y, score)
    # AUC is undefined when a split holds one class only: report NaN rather than fail.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(roc_auc_score(y, score, **kw))
        except ValueError:
            return float("nan")


def task_metrics(y_logits: ArrayLike, y: ArrayLike) -> dict[str, float]:
    """Task accuracy and ROC-AUC.

    Binary (y_logits (N, 1)): predict 1 when the *probability* is >= 0.5 (the public CEM code
    thresholds the logit at 0.5, a bug). Multi-class (N, C): argmax accuracy, one-vs-rest macro AUC.
    """
    p, t = task_probs(y_logits), _np(y).astype(np.int64).reshape(-1)
    if p.ndim == 1:
        return {"task_acc": float(np.mean((p >= 0.5) == t)), "task_auc": _auc(t, p)}
    acc = float(np.mean(p.argmax(axis=1) == t))
    return {"task_acc": acc, "task_auc": _auc(t, p, multi_class="ovr", labels=range(p.shape[1]))}


def concept_metrics(c_logits: ArrayLike, c: ArrayLike, prefix: str = "") -> dict[str, float]:
    """Concept accuracy (mean over concepts of 1[p̂ >= 0.5] = c), per-concept accuracy and
    ROC-AUC (mean over concepts, and over all concepts flattened) from c_logits (N, k), c (N, k)."""
    p = expit(_np(c_logits))
    t = _np(c).astype(np.int64)
    per = np.mean((p >= 0.5) == t, axis=0)
    out = {
        "concept_acc": float(per.mean()),
        "concept_auc": float(np.nanmean([_auc(t[:, i], p[:, i]) for i in range(t.shape[1])]))
        if t.shape[1]
        else float("nan"),
    }
    out.update({f"concept_acc_{i}": float(a) for i, a in enumerate(per)})
    return {prefix + k: v for k, v in out.items()}
