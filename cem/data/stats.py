"""Pure statistics of a concept dataset: balances, concept patterns and the concept-only ceiling.

Every function takes plain arrays (``c: (n, k)`` binary concepts, ``y: (n,)`` integer classes) and
returns plain Python values, so cards, the CLI and tests share one definition.
"""

from __future__ import annotations

import numpy as np

Pattern = tuple[int, ...]


def class_balance(y: np.ndarray) -> float:
    """Fraction of positive labels.

    Parameters
    ----------
    y : (n,) int in {0, 1}

    Returns
    -------
    float
        ``mean(y == 1)``; NaN for an empty split.
    """
    y = np.asarray(y)
    return float(np.mean(y == 1)) if y.size else float("nan")


def concept_balance(c: np.ndarray) -> list[float]:
    """Fraction of samples where each concept is on.

    Parameters
    ----------
    c : (n, k) int in {0, 1}

    Returns
    -------
    list of k floats
        ``mean(c[:, i] == 1)`` per concept; NaN for an empty split.
    """
    c = np.asarray(c)
    if not len(c):
        return [float("nan")] * c.shape[1]
    return [float(v) for v in np.mean(c == 1, axis=0)]


def pattern_counts(c: np.ndarray, y: np.ndarray) -> dict[Pattern, list[int]]:
    """How many samples of each class every observed concept pattern holds.

    Parameters
    ----------
    c : (n, k) int
        Binary concepts; each row is a pattern.
    y : (n,) int >= 0
        Class labels.

    Returns
    -------
    dict
        ``pattern (tuple of k ints) -> [count of class 0, count of class 1, ...]`` (one count per
        class ``0 .. max(1, max(y))``), patterns in sorted order; unobserved patterns are absent.
    """
    c, y = np.asarray(c), np.asarray(y)
    if not len(y):
        return {}
    patterns, inverse = np.unique(c, axis=0, return_inverse=True)
    n_classes = max(int(y.max()) + 1, 2)
    counts = np.zeros((len(patterns), n_classes), dtype=np.int64)
    np.add.at(counts, (inverse.ravel(), y), 1)
    return {
        tuple(int(v) for v in p): [int(v) for v in row]
        for p, row in zip(patterns, counts, strict=True)
    }


def concept_ceiling(c: np.ndarray, y: np.ndarray) -> float:
    """Best accuracy that ANY function of the binary concepts reaches on ``(c, y)``.

    For each concept pattern the best such function predicts the pattern's majority class, so the
    ceiling is ``sum over patterns of max class count / n``. A dataset is concept-complete when it
    is 1.0 (XOR); Trig and Dot are not (REFERENCE §1: 0.818 and 0.768 on the paper's test split).

    Parameters
    ----------
    c : (n, k) int
        Binary concepts.
    y : (n,) int >= 0
        Class labels.

    Returns
    -------
    float
        In ``[1/n_classes, 1]``; NaN for an empty split.
    """
    counts = pattern_counts(c, y)
    n = len(np.asarray(y))
    return sum(max(v) for v in counts.values()) / n if n else float("nan")


def split_stats(c: np.ndarray, y: np.ndarray) -> dict[str, object]:
    """All the statistics of one split.

    Parameters
    ----------
    c : (n, k) int
    y : (n,) int

    Returns
    -------
    dict
        ``n``, ``class_balance`` (fraction y = 1), ``concept_balance`` (k fractions c_i = 1),
        ``n_patterns`` (distinct concept patterns seen) and ``ceiling``.
    """
    return {
        "n": int(len(y)),
        "class_balance": class_balance(y),
        "concept_balance": concept_balance(c),
        "n_patterns": len(pattern_counts(c, y)),
        "ceiling": concept_ceiling(c, y),
    }
