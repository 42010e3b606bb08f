"""Pure generators of the synthetic concept datasets (REFERENCE §1).

Each generator is a function ``(n, rng) -> (x, c, y)`` that only draws from the ``rng`` it is given
(never from global NumPy state). ``rng`` may be a legacy ``np.random.RandomState`` (the paper's
protocol, byte-for-byte) or a ``np.random.Generator``: only ``uniform``, ``normal`` and
``standard_normal`` are called, which both provide, in the order the paper's code calls them.

Returns
-------
x : (n, d) float64 inputs
c : (n, k) int64 binary concepts
y : (n,) int64 binary task label
"""

from __future__ import annotations

import math

import numpy as np

Rng = np.random.RandomState | np.random.Generator
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]

# Dot's fixed direction w = (1, 1): concept 1 is v1·w > 0, concept 2 is v2·(-w) > 0.
DOT_W = np.array([1.0, 1.0])


def xor(n: int, rng: Rng) -> Arrays:
    """XOR: x ~ U[0,1]^2, c_i = 1[x_i > 0.5], y = c_1 XOR c_2."""
    x = rng.uniform(0, 1, (n, 2))
    c = (x > 0.5).astype(np.int64)
    y = np.logical_xor(c[:, 0], c[:, 1]).astype(np.int64)
    return x, c, y


# libm's sin/cos, element by element: NumPy's SIMD (AVX-512) kernels may differ from libm by an
# ulp on some CPUs (numpy/numpy#23523), which would make Trig's bytes depend on the machine.
_sin = np.frompyfunc(math.sin, 1, 1)
_cos = np.frompyfunc(math.cos, 1, 1)


def trig_features(h: np.ndarray) -> np.ndarray:
    """Trig inputs from latents h = (a, b, z): (n, 3) -> (n, 7), the same bytes on every CPU."""
    a, b, z = h[:, 0], h[:, 1], h[:, 2]
    sin, cos = _sin(h).astype(np.float64), _cos(h).astype(np.float64)
    return np.stack(
        [
            sin[:, 0] + a,
            cos[:, 0] + a,
            sin[:, 1] + b,
            cos[:, 1] + b,
            sin[:, 2] + z,
            cos[:, 2] + z,
            a**2 + b**2 + z**2,
        ],
        axis=1,
    )


def trig(n: int, rng: Rng) -> Arrays:
    """Trigonometry: a, b, z ~ N(0, 2^2); c = [a>0, b>0, z>0]; y = 1[a + b + z > 1]."""
    h = rng.normal(0, 2, (n, 3))
    x = trig_features(h)
    c = (h > 0).astype(np.int64)
    y = (h.sum(axis=1) > 1).astype(np.int64)
    return x, c, y


def dot_features(v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """Dot inputs from latents: (n, 2), (n, 2) -> (n, 4) = [v1 + v2, v1 - v2]."""
    return np.concatenate([v1 + v2, v1 - v2], axis=1)


def dot(n: int, rng: Rng) -> Arrays:
    """Dot: v1, v2 ~ N(0, 2^2 I); c = [v1·w > 0, v2·(-w) > 0]; y = 1[v1·v2 > 0].

    v1 and v2 are two successive draws of one stream (a peer library re-seeded between them,
    making v2 = v1 and y constant; our tests guard against that).
    """
    v1 = rng.standard_normal((n, 2)) * 2
    v2 = rng.standard_normal((n, 2)) * 2
    x = dot_features(v1, v2)
    c = np.stack([v1 @ DOT_W > 0, v2 @ -DOT_W > 0], axis=1).astype(np.int64)
    y = ((v1 * v2).sum(axis=1) > 0).astype(np.int64)
    return x, c, y


# ---- Independent verifiers: recompute (c, y) from the inputs alone, for semantic tests. ----


def xor_labels(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recompute XOR's (c, y) from x: (n, 2)."""
    c = (x > 0.5).astype(np.int64)
    return c, (c[:, 0] ^ c[:, 1]).astype(np.int64)


def _invert_sin_plus_id(s: np.ndarray) -> np.ndarray:
    """Solve sin(t) + t = s for t (monotone map) by Newton steps safeguarded with bisection."""
    lo, hi = s - 1.0, s + 1.0  # |sin t| <= 1 brackets the root
    t = s.copy()
    for _ in range(100):
        f = np.sin(t) + t - s
        lo = np.where(f < 0, t, lo)
        hi = np.where(f > 0, t, hi)
        d = np.cos(t) + 1
        newton = t - f / np.where(d > 1e-12, d, 1e-12)
        t = np.where((newton > lo) & (newton < hi), newton, (lo + hi) / 2)
    return t


def trig_labels(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recompute Trig's (c, y) from x: (n, 7), inverting t -> sin t + t for a, b, z."""
    h = np.stack([_invert_sin_plus_id(x[:, j]) for j in (0, 2, 4)], axis=1)
    c = (h > 0).astype(np.int64)
    return c, (h.sum(axis=1) > 1).astype(np.int64)


def dot_labels(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recompute Dot's (c, y) from x: (n, 4); v1 = (x[:2] + x[2:]) / 2, v2 = (x[:2] - x[2:]) / 2."""
    v1 = (x[:, :2] + x[:, 2:]) / 2
    v2 = (x[:, :2] - x[:, 2:]) / 2
    c = np.stack([v1 @ DOT_W > 0, v2 @ -DOT_W > 0], axis=1).astype(np.int64)
    return c, ((v1 * v2).sum(axis=1) > 0).astype(np.int64)
