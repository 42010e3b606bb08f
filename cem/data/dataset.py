"""Build a dataset's train/val/test splits under a protocol, with optional variants.

Protocols
---------
``paper``  : one legacy ``RandomState(seed)`` stream (seed 42 = the CEM paper), drawn in the order
             train (70%) → test (20%) → val (10%); with the defaults this regenerates the paper's
             2100/600/300 arrays byte for byte.
``random`` : any size and split fractions; each split draws from its own stream derived from
             ``SeedSequence(seed, spawn_key=(split,))``, so resizing one split leaves the others as
             they were.

Variants (all off by default) are drawn from streams of their own, so a variant never changes the
clean base arrays: a fixed random nonlinear *lift* of x into D dims, Gaussian input noise, concept
and task label flips, and *hidden* concepts (no supervision, kept for evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from cem import __version__
from cem.data.spec import DatasetSpec, get_spec
from cem.errors import CemError, check, unknown

SPLITS: tuple[str, ...] = ("train", "val", "test")
PROTOCOLS: tuple[str, ...] = ("paper", "random")
# The paper's draw order: train, then test, then val.
PAPER_ORDER: tuple[str, ...] = ("train", "test", "val")


@dataclass
class Split:
    """One split. x: (n, d) float64, c: (n, k) int64 in {0,1}, y: (n,) int64 in {0,1}."""

    x: np.ndarray
    c: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


def _is_int(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


@dataclass
class DataConfig:
    """Every setting that determines a dataset's bytes (recorded verbatim in saved metadata)."""

    name: str = "xor"
    protocol: str = "random"
    size: int = 3000
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)  # train, val, test
    seed: int = 42
    input_noise: float = 0.0  # std of Gaussian noise added to x (all splits)
    concept_noise: float | list[float] = 0.0  # flip probability, one value or one per concept
    task_noise: float = 0.0  # flip probability of y
    label_noise_splits: tuple[str, ...] = ("train",)  # splits whose labels get flipped
    hidden_concepts: list[int] = field(default_factory=list)  # unsupervised concept indices
    lift_dim: int = 0  # 0 = off; else D >= d output dims of a fixed random injective map
    lift_seed: int = 0

    def validate(self, spec: DatasetSpec) -> None:
        """Raise ``CemError`` naming the first bad field."""
        if self.protocol not in PROTOCOLS:
            raise unknown("protocol", self.protocol, PROTOCOLS)
        check(_is_int(self.size) and self.size > 0, "size", self.size, "an integer > 0")
        fr = tuple(self.fractions) if isinstance(self.fractions, (list, tuple)) else ()
        check(
            len(fr) == 3
            and all(_is_num(f) and 0 <= f <= 1 for f in fr)
            and abs(sum(fr) - 1) < 1e-9,
            "fractions",
            self.fractions,
            "three numbers in [0, 1] (train, val, test) summing to 1",
        )
        check(_is_int(self.seed) and self.seed >= 0, "seed", self.seed, "an integer >= 0")
        check(
            _is_num(self.input_noise) and self.input_noise >= 0,
            "input_noise",
            self.input_noise,
            "a std >= 0",
        )
        k = spec.n_concepts
        cn = self.concept_noise
        probs = list(np.ravel(cn)) if isinstance(cn, (list, tuple, np.ndarray)) else [cn]
        check(
            len(probs) in (1, k), "concept_noise", cn, f"one probability or {k} (one per concept)"
        )
        for p in probs:
            check(_is_num(p) and 0 <= p <= 1, "concept_noise", cn, "probabilities in [0, 1]")
        tn = self.task_noise
        check(_is_num(tn) and 0 <= tn <= 1, "task_noise", tn, "a probability in [0, 1]")
        for s in self.label_noise_splits:
            if s not in SPLITS:
                raise unknown("label_noise_splits", s, SPLITS)
        for i in self.hidden_concepts:
            check(
                _is_int(i) and 0 <= i < k,
                "hidden_concepts",
                list(self.hidden_concepts),
                f"concept indices in 0..{k - 1}",
            )
        check(
            len(set(self.hidden_concepts)) < k,
            "hidden_concepts",
            list(self.hidden_concepts),
            "at most k-1 hidden concepts (one must stay supervised)",
        )
        check(
            _is_int(self.lift_dim) and (self.lift_dim == 0 or self.lift_dim >= spec.n_features),
            "lift_dim",
            self.lift_dim,
            f"0 (off) or an integer >= {spec.n_features} (the input dimension)",
        )


@dataclass
class ConceptData:
    """A generated dataset: its splits and the metadata that regenerates it."""

    splits: dict[str, Split]
    meta: dict

    @property
    def spec(self) -> DatasetSpec:
        return get_spec(self.meta["dataset"])

    def __getitem__(self, split: str) -> Split:
        return self.splits[split]

    @property
    def supervised(self) -> np.ndarray:
        """(k,) bool: which concepts carry training supervision (False for hidden ones)."""
        mask = np.ones(len(self.meta["concept_names"]), dtype=bool)
        mask[list(self.meta.get("hidden_concepts", []))] = False
        return mask


def split_sizes(size: int, fractions: Sequence[float]) -> dict[str, int]:
    """Split ``size`` by (train, val, test) fractions; test takes the rounding remainder."""
    n_train = min(int(round(size * fractions[0])), size)
    n_val = min(int(round(size * fractions[1])), size - n_train)
    return {"train": n_train, "val": n_val, "test": size - n_train - n_val}


def _monotone(t: np.ndarray) -> np.ndarray:
    # Strictly increasing (derivative >= 0.5), so the lift stays injective.
    return t + 0.5 * np.sin(t)


def lift(x: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """Fixed random injective nonlinear map R^d -> R^dim: g(g(x A + b) Q + b2), g(t) = t + sin(t)/2.

    A (d, dim) is Gaussian (rank d almost surely), Q (dim, dim) orthogonal: both invertible on the
    image, and g is strictly monotone, so no information about x is lost.
    """
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    a = rng.normal(0, 1 / np.sqrt(d), (d, dim))
    b = rng.uniform(-np.pi, np.pi, dim)
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    b2 = rng.uniform(-np.pi, np.pi, dim)
    return _monotone(_monotone(x @ a + b) @ q + b2)


VARIANT_STREAMS: tuple[str, ...] = ("input_noise", "concept_noise", "task_noise")


def _variant_rng(seed: int, split: str, variant: str) -> np.random.Generator:
    """Each (split, variant) pair draws from its own stream, so variants never shift each other."""
    key = (SPLITS.index(split), 1, VARIANT_STREAMS.index(variant))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _apply_variants(split: str, s: Split, cfg: DataConfig) -> Split:
    x, c, y = s.x, s.c, s.y
    if not (cfg.lift_dim or cfg.input_noise or cfg.concept_noise or cfg.task_noise):
        return s
    if cfg.lift_dim:
        x = lift(x, cfg.lift_dim, cfg.lift_seed)
    if cfg.input_noise:
        x = x + cfg.input_noise * _variant_rng(cfg.seed, split, "input_noise").standard_normal(
            x.shape
        )
    if split in cfg.label_noise_splits:
        u_c = _variant_rng(cfg.seed, split, "concept_noise").uniform(size=c.shape)
        p_c = np.broadcast_to(np.asarray(cfg.concept_noise, dtype=float), (c.shape[1],))
        c = np.where(u_c < p_c, 1 - c, c)
        u_y = _variant_rng(cfg.seed, split, "task_noise").uniform(size=y.shape)
        y = np.where(u_y < cfg.task_noise, 1 - y, y)
    return Split(x, c, y)


def build(cfg: DataConfig | None = None, **overrides: object) -> ConceptData:
    """Generate a dataset from a config (or keyword overrides of the defaults).

    Examples
    --------
    >>> data = build(name="dot", protocol="paper")
    >>> data["train"].x.shape
    (2100, 4)
    """
    settings = {**(asdict(cfg) if cfg else {}), **overrides}
    known = {f.name for f in fields(DataConfig)}
    for key in settings:
        if key not in known:
            raise CemError(f"{key} is not a dataset setting; allowed: {', '.join(sorted(known))}")
    cfg = DataConfig(**settings)
    spec = get_spec(cfg.name)
    cfg.validate(spec)
    sizes = split_sizes(cfg.size, cfg.fractions)
    base: dict[str, Split] = {}
    if cfg.protocol == "paper":
        stream = np.random.RandomState(cfg.seed)
        for split in PAPER_ORDER:
            base[split] = Split(*spec.generate(sizes[split], stream))
    else:
        for i, split in enumerate(SPLITS):
            rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(i,)))
            base[split] = Split(*spec.generate(sizes[split], rng))
    splits = {s: _apply_variants(s, base[s], cfg) for s in SPLITS}
    n_features = cfg.lift_dim or spec.n_features
    meta = {
        "dataset": spec.name,
        **asdict(cfg),
        "fractions": list(cfg.fractions),
        "label_noise_splits": list(cfg.label_noise_splits),
        "sizes": sizes,
        "feature_names": list(spec.feature_names)
        if not cfg.lift_dim
        else [f"z{i + 1}" for i in range(n_features)],
        "concept_names": list(spec.concept_names),
        "task_name": spec.task_name,
        "formula": spec.formula,
        "cem_bench_version": __version__,
    }
    del meta["name"]
    return ConceptData(splits, meta)


def paper(name: str) -> ConceptData:
    """The CEM paper's exact splits of ``name`` (seed 42, 2100/300/600)."""
    return build(name=name, protocol="paper", seed=42)


__all__ = [
    "SPLITS",
    "PROTOCOLS",
    "Split",
    "DataConfig",
    "ConceptData",
    "build",
    "paper",
    "split_sizes",
    "lift",
    "CemError",
]
