"""Pure generators of the synthetic concept datasets (REFERENCE §1, and ``many``).

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


# ---- many: k concepts, a hidden latent, inputs that mix them non-linearly ----

MANY_K = 12  # default number of concepts
MANY_MAX_K = 64
MANY_SHARE = 0.1  # default share of the task score's variance from the hidden latent
MANY_DECAY = 0.8  # |w_i| ∝ 0.8^(i-1): a few concepts matter most, so policies can differ
MANY_MIX_SEED = 20231  # the fixed mixing of every k (part of the dataset's definition)


def many_weights(k: int) -> np.ndarray:
    """(k,) the concepts' weights in the task score: w_i ∝ (-0.8)^(i-1), Σ w_i² = 1.

    Powers by repeated multiplication and the norm by ``math.fsum``: exactly rounded, so the
    weights (and the labels) have the same bits on every CPU (NumPy's vectorised ``power`` may
    differ in the last bit)."""
    w = [1.0]
    for _ in range(k - 1):
        w.append(w[-1] * -MANY_DECAY)
    norm = math.sqrt(math.fsum(v * v for v in w))
    return np.array([v / norm for v in w])


def many_score(c: np.ndarray) -> np.ndarray:
    """s(c) = Σ w_i (2c_i − 1) of concepts c (n, k), summed in concept order (no BLAS, whose
    summation order depends on the CPU) -> (n,) float64."""
    w = many_weights(c.shape[1])
    s = np.zeros(len(c))
    for i in range(c.shape[1]):
        s = s + (2.0 * c[:, i] - 1.0) * w[i]
    return s


def _wiggle(t: np.ndarray) -> np.ndarray:
    """g(t) = t + sin(t)/2, strictly increasing (g' >= 1/2), so invertible; libm's sin, element
    by element, so the bytes do not depend on the CPU (see ``_sin``)."""
    return t + 0.5 * _sin(t).astype(np.float64)


def _unwiggle(s: np.ndarray) -> np.ndarray:
    """Solve t + sin(t)/2 = s for t, by Newton steps safeguarded with bisection."""
    lo, hi = s - 0.5, s + 0.5  # |sin t| / 2 <= 1/2 brackets the root
    t = s.copy()
    for _ in range(100):
        f = t + 0.5 * np.sin(t) - s
        lo = np.where(f < 0, t, lo)
        hi = np.where(f > 0, t, hi)
        newton = t - f / (1 + 0.5 * np.cos(t))
        t = np.where((newton > lo) & (newton < hi), newton, (lo + hi) / 2)
    return t


Rotation = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # columns a, b; cos θ, sin θ


def many_mixing(k: int) -> tuple[list[Rotation], np.ndarray, list[Rotation], np.ndarray]:
    """The fixed mixing of ``many`` with k concepts, from its own stream (not the data's):
    two stacks R1, R2 of ⌈log2 d⌉ + 2 layers of plane rotations (each layer pairs the d = k + 1
    columns at random and turns each pair by a random angle; orthogonal, and after these many
    layers every column depends on every other) and offsets b1, b2 ~ U[-π, π]^d.

    Rotations, not a QR factor: a rotation is a few multiplications and additions per element,
    exactly rounded, so x has the same bytes with every BLAS and CPU."""
    rng = np.random.RandomState(MANY_MIX_SEED + k)
    d = k + 1
    n_layers = int(np.ceil(np.log2(d))) + 2

    def stack() -> list[Rotation]:
        layers = []
        for _ in range(n_layers):
            perm = rng.permutation(d)
            a, b = perm[0 : d - 1 : 2], perm[1:d:2]
            theta = rng.uniform(0, 2 * np.pi, len(a))
            cos = np.array([math.cos(t) for t in theta])
            sin = np.array([math.sin(t) for t in theta])
            layers.append((a, b, cos, sin))
        return layers

    r1, b1 = stack(), rng.uniform(-np.pi, np.pi, d)
    r2, b2 = stack(), rng.uniform(-np.pi, np.pi, d)
    return r1, b1, r2, b2


def _rotate(x: np.ndarray, layers: list[Rotation], inverse: bool = False) -> np.ndarray:
    """Apply (or undo) a stack of rotation layers to the columns of x (n, d)."""
    x = x.copy()
    for a, b, cos, sin in reversed(layers) if inverse else layers:
        xa, xb = x[:, a], x[:, b]
        if inverse:
            x[:, a], x[:, b] = cos * xa + sin * xb, cos * xb - sin * xa
        else:
            x[:, a], x[:, b] = cos * xa - sin * xb, sin * xa + cos * xb
    return x


def many_features(u: np.ndarray) -> np.ndarray:
    """Inputs from latents u = (z_1..z_k, h): (n, k+1) -> x = g(R2(g(R1(u) + b1)) + b2)."""
    r1, b1, r2, b2 = many_mixing(u.shape[1] - 1)
    return _wiggle(_rotate(_wiggle(_rotate(u, r1) + b1), r2) + b2)


def many_latents(x: np.ndarray) -> np.ndarray:
    """The latents u = (z_1..z_k, h) (n, k+1) of inputs x (n, k+1), inverting the mixing."""
    r1, b1, r2, b2 = many_mixing(x.shape[1] - 1)
    return _rotate(_unwiggle(_rotate(_unwiggle(x) - b2, r2, inverse=True)) - b1, r1, inverse=True)


def many_rule(
    z: np.ndarray, h: np.ndarray, share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(c, s, y) of latents z (n, k), h (n,): c_i = 1[z_i > 0], s = Σ w_i (2c_i − 1),
    y = 1[√(1−ρ)·s + √ρ·h > 0] with ρ = ``share``."""
    c = (z > 0).astype(np.int64)
    s = many_score(c)
    y = (math.sqrt(1 - share) * s + math.sqrt(share) * h > 0).astype(np.int64)
    return c, s, y


def many(n: int, rng: Rng, k: int = MANY_K, share: float = MANY_SHARE) -> Arrays:
    """Many concepts: u = (z_1..z_k, h) ~ N(0, I) in one draw; c_i = 1[z_i > 0];
    y = 1[√(1−ρ)·Σ w_i (2c_i − 1) + √ρ·h > 0]; x = g(R2(g(R1(u) + b1)) + b2), g(t) = t + sin(t)/2
    and R1, R2 fixed stacks of plane rotations (:func:`many_mixing`).

    The hidden latent h is in x but is no concept, so ρ = ``share`` is how concept-incomplete
    the task is (ρ = 0: the concepts decide it).
    """
    u = rng.normal(0, 1, (n, k + 1))
    c, _, y = many_rule(u[:, :k], u[:, k], share)
    return many_features(u), c, y


def many_concept_rule(c: np.ndarray) -> np.ndarray:
    """The best function of the concepts alone: ŷ = 1[s(c) > 0] (h is independent of c and
    symmetric, so P(y = 1 | c) > 1/2 exactly when s(c) > 0). c (n, k) -> (n,) int64."""
    return (many_score(np.asarray(c)) > 0).astype(np.int64)


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


def many_labels(x: np.ndarray, share: float = MANY_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Recompute ``many``'s (c, y) from x (n, k+1), inverting the mixing back to the latents."""
    u = many_latents(x)
    k = x.shape[1] - 1
    c, _, y = many_rule(u[:, :k], u[:, k], share)
    return c, y
