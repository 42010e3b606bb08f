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
from dataclasses import asdict, dataclass

import numpy as np

from cem import __version__
from cem.data import generators as g
from cem.data.budget import check_fits, generate_bytes
from cem.data.spec import PARAMS, SPECS, DatasetSpec, spec_for
from cem.errors import CemError, check
from cem.settings import (
    INT_MAX,
    Rule,
    choice,
    integer,
    is_real,
    list_of,
    number,
    optional,
    probability,
    resolve,
    setting,
)

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


def _fractions_ok(v: object) -> bool:
    return (
        isinstance(v, (list, tuple))
        and len(v) == 3
        and all(is_real(f) and 0 < f <= 1 for f in v)
        and abs(sum(v) - 1) < 1e-9
    )


def _noise_ok(v: object) -> bool:
    values = list(v) if isinstance(v, (list, tuple)) else [v]
    return len(values) >= 1 and all(is_real(p) and 0 <= p <= 1 for p in values)


def _noise_cast(v: object) -> float | list[float]:
    return [float(p) for p in v] if isinstance(v, (list, tuple)) else float(v)  # type: ignore[arg-type]


@dataclass
class DataConfig:
    """Every setting that determines a dataset's bytes (recorded verbatim in saved metadata).

    The defaults here are the only ones: ``cem-data``, ``cem-train`` (``conf/dataset/*.yaml``
    hold just the name) and :func:`build` all take them from this class.
    """

    name: str = setting("xor", choice(SPECS, label="dataset"))
    protocol: str = setting("paper", choice(PROTOCOLS))
    size: int = setting(3000, integer(1), "total samples")
    fractions: tuple[float, float, float] = setting(
        (0.7, 0.1, 0.2),
        Rule(_fractions_ok, "three numbers in (0, 1] (train, val, test) summing to 1", tuple),
        "train, val, test",
    )
    seed: int = setting(42, integer(0, INT_MAX), "data seed (the paper's: 42)")
    input_noise: float = setting(0.0, number(0), "std of Gaussian noise added to x (all splits)")
    # flip probability, one value or one per concept
    concept_noise: float | list[float] = setting(
        0.0, Rule(_noise_ok, "one probability in [0, 1], or one per concept", _noise_cast)
    )
    task_noise: float = setting(0.0, probability(), "flip probability of y")
    label_noise_splits: tuple[str, ...] = setting(
        ("train",),
        Rule(
            lambda v: isinstance(v, (list, tuple)) and all(s in SPLITS for s in v),
            f"a list of splits among {', '.join(SPLITS)}",
            tuple,
        ),
        "splits whose labels get flipped",
    )
    hidden_concepts: list[int] = setting(
        [], list_of(integer(0), "a list of concept indices >= 0"), "unsupervised concepts"
    )
    lift_dim: int = setting(0, integer(0), "0 = off; else D >= d dims of a fixed random map")
    lift_seed: int = setting(0, integer(0, INT_MAX))
    # The settings of one dataset only (cem.data.spec.PARAMS); null: that dataset's default.
    n_concepts: int | None = setting(
        None,
        optional(integer(2, g.MANY_MAX_K), f"null (many: {g.MANY_K})"),
        "many: k, its number of concepts",
    )
    latent_share: float | None = setting(
        None,
        optional(probability(), f"null (many: {g.MANY_SHARE})"),
        "many: share of the task score from a latent that is no concept (0: complete)",
    )

    def validate(self, spec: DatasetSpec | None = None) -> None:
        """Raise ``CemError`` naming the first bad field (keys as in ``cem-data``: ``size=``)."""
        resolved = resolve(DataConfig, asdict(self))
        spec = spec or spec_for(resolved["name"], resolved)
        check_for_spec(resolved, spec)


def check_for_spec(cfg: dict, spec: DatasetSpec, prefix: str = "") -> None:
    """The checks that need the dataset (k concepts, d features) on resolved settings: noise per
    concept, hidden indices, lift size, every split non-empty, and the memory it takes."""
    k, d = spec.n_concepts, spec.n_features
    cn = cfg["concept_noise"]
    if isinstance(cn, list):
        check(
            len(cn) in (1, k),
            f"{prefix}concept_noise",
            cn,
            f"one probability or {k} (one per concept)",
        )
    hidden = cfg["hidden_concepts"]
    check(
        all(0 <= i < k for i in hidden),
        f"{prefix}hidden_concepts",
        hidden,
        f"concept indices in 0..{k - 1}",
    )
    check(
        len(set(hidden)) < k,
        f"{prefix}hidden_concepts",
        hidden,
        "at most k-1 hidden concepts (one must stay supervised)",
    )
    check(
        cfg["lift_dim"] == 0 or cfg["lift_dim"] >= d,
        f"{prefix}lift_dim",
        cfg["lift_dim"],
        f"0 (off) or an integer >= {d} (the input dimension)",
    )
    size, fractions = cfg["size"], cfg["fractions"]
    sizes = split_sizes(size, fractions)
    if min(sizes.values()) < 1:
        check(
            False,
            f"{prefix}size",
            size,
            f"an integer >= {min_size(fractions)} (every split needs a sample; fractions "
            f"{tuple(fractions)})",
        )
    needed = generate_bytes(size, d, k, cfg["lift_dim"])
    lift_heavy = cfg["lift_dim"] and 3 * cfg["lift_dim"] ** 2 > size * (cfg["lift_dim"] + d)
    key = "lift_dim" if lift_heavy else "size"
    check_fits(needed, f"{prefix}{key}", cfg[key], "to generate")


def min_size(fractions: Sequence[float]) -> int:
    """The smallest size that gives every split at least one sample."""
    n = 3
    while min(split_sizes(n, fractions).values()) < 1 and n < 10**9:
        n = n + 1 if n < 1000 else n * 2
    return n


@dataclass
class ConceptData:
    """A dataset: its splits and its metadata (for a generated one, what regenerates it).

    ``source`` says where a loaded dataset came from: ``path``, ``sha256`` (of the file's
    bytes), ``format`` (``.npz``, ``.csv``, ``.pt``) and ``kind`` (``cem-bench`` or ``plain``);
    None for a generated dataset or arrays.
    """

    splits: dict[str, Split]
    meta: dict
    source: dict | None = None

    @property
    def spec(self) -> DatasetSpec:
        return spec_for(self.meta["dataset"], self.meta)

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
    resolved = resolve(DataConfig, settings)
    spec = spec_for(resolved["name"], resolved)
    check_for_spec(resolved, spec)
    resolved.update(spec.params)  # the dataset's own settings, filled in
    cfg = DataConfig(**resolved)
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
    # A dataset's own settings are recorded only for the datasets that take them.
    own = {k: v for k, v in asdict(cfg).items() if k not in PARAMS or k in spec.params}
    meta = {
        "dataset": spec.name,
        **own,
        "fractions": list(cfg.fractions),
        "label_noise_splits": list(cfg.label_noise_splits),
        "sizes": sizes,
        "feature_names": list(spec.feature_names)
        if not cfg.lift_dim
        else [f"z{i + 1}" for i in range(n_features)],
        "concept_names": list(spec.concept_names),
        "task_name": spec.task_name,
        "n_classes": spec.n_classes,
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
