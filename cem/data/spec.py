"""Dataset specs: names, formulas as text, generator and verifier of each synthetic dataset."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cem.data import generators as g
from cem.data import stats
from cem.errors import CemError, unknown

# Settings that only some datasets take (DataConfig holds them, null by default: the dataset's
# own default; a dataset without them refuses a value).
PARAMS: tuple[str, ...] = ("n_concepts", "latent_share")


@dataclass(frozen=True)
class DatasetSpec:
    """What a synthetic concept dataset is, for code, cards and plots.

    ``generate(n, rng) -> (x (n, d), c (n, k), y (n,))`` draws samples; ``labels(x) -> (c, y)``
    recomputes the labels from the inputs alone (an independent check of the labelling rule).

    A dataset with settings of its own (``many``: k and the latent's share) has them in
    ``params`` (their values in this spec) and ``configure(**params) -> DatasetSpec``;
    ``concept_rule(c) -> ŷ`` is the best function of the concepts when it is known (then the
    concept-only ceiling is its accuracy, not a count of each concept pattern's majority).
    """

    name: str
    title: str
    feature_names: tuple[str, ...]
    concept_names: tuple[str, ...]
    task_name: str
    latent: str
    inputs: str
    concepts: str
    task: str
    generate: Callable[[int, g.Rng], g.Arrays]
    labels: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    source: str = "Espinosa Zarlenga et al., NeurIPS 2022 (arXiv 2209.09056)"
    in_paper: bool = True  # one of the CEM paper's datasets (its protocol gives its arrays)
    params: Mapping[str, Any] = field(default_factory=dict)
    configure: Callable[..., DatasetSpec] | None = None
    concept_rule: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_concepts(self) -> int:
        return len(self.concept_names)

    @property
    def n_classes(self) -> int:
        """Task classes: every synthetic task is binary."""
        return 2

    def ceiling(self, c: np.ndarray, y: np.ndarray) -> float:
        """The concept-only ceiling on (c (n, k), y (n,)): the accuracy of ``concept_rule``, or
        else of each concept pattern's majority class (:func:`cem.data.stats.concept_ceiling`)."""
        if self.concept_rule is None or not len(y):
            return stats.concept_ceiling(c, y)
        return float(np.mean(self.concept_rule(c) == np.asarray(y)))

    @property
    def formula(self) -> str:
        """The labelling formula as text, one line per part."""
        return (
            f"latent:   {self.latent}\n"
            f"inputs:   {self.inputs}\n"
            f"concepts: {self.concepts}\n"
            f"task:     {self.task}"
        )


def many_spec(n_concepts: int = g.MANY_K, latent_share: float = g.MANY_SHARE) -> DatasetSpec:
    """The ``many`` dataset with k = ``n_concepts`` concepts and the hidden latent's share ρ."""
    k, rho = int(n_concepts), float(latent_share)
    return DatasetSpec(
        name="many",
        title="Many concepts",
        feature_names=tuple(f"x{i + 1}" for i in range(k + 1)),
        concept_names=tuple(f"z{i + 1}>0" for i in range(k)),
        task_name="√(1-ρ)·s(c)+√ρ·h>0",
        latent=f"u = (z_1..z_{k}, h) ~ N(0, I_{k + 1}); h is hidden: in x, but no concept",
        inputs=f"x = g(g(u Q1 + b1) Q2 + b2), g(t) = t + sin(t)/2; Q1, Q2 fixed random "
        f"orthogonal, b1, b2 fixed ~ U[-π, π]^{k + 1} (stream ({g.MANY_MIX_SEED}, {k}))",
        concepts="c_i = 1[z_i > 0]",
        task=f"y = 1[√(1-ρ)·s + √ρ·h > 0], s = Σ w_i (2c_i - 1), w_i ∝ (-{g.MANY_DECAY})^(i-1), "
        f"Σ w_i² = 1, ρ = {rho:g}",
        generate=lambda n, rng: g.many(n, rng, k, rho),
        labels=lambda x: g.many_labels(x, rho),
        source="cem-bench, for intervention policies: k concepts of unequal weight, a hidden "
        "latent whose share ρ sets how concept-incomplete the task is",
        in_paper=False,
        params={"n_concepts": k, "latent_share": rho},
        configure=many_spec,
        concept_rule=g.many_concept_rule,
    )


SPECS: dict[str, DatasetSpec] = {
    "xor": DatasetSpec(
        name="xor",
        title="XOR",
        feature_names=("x1", "x2"),
        concept_names=("x1>0.5", "x2>0.5"),
        task_name="c1 XOR c2",
        latent="x ~ U[0,1]^2",
        inputs="x = (x1, x2)",
        concepts="c_i = 1[x_i > 0.5]",
        task="y = c1 XOR c2",
        generate=g.xor,
        labels=g.xor_labels,
    ),
    "trig": DatasetSpec(
        name="trig",
        title="Trigonometry",
        feature_names=(
            "sin(a)+a",
            "cos(a)+a",
            "sin(b)+b",
            "cos(b)+b",
            "sin(z)+z",
            "cos(z)+z",
            "a²+b²+z²",
        ),
        concept_names=("a>0", "b>0", "z>0"),
        task_name="a+b+z>1",
        latent="a, b, z ~ N(0, 2^2)",
        inputs="x = [sin a + a, cos a + a, sin b + b, cos b + b, sin z + z, cos z + z, a²+b²+z²]",
        concepts="c = [a > 0, b > 0, z > 0]",
        task="y = 1[a + b + z > 1]",
        generate=g.trig,
        labels=g.trig_labels,
    ),
    "dot": DatasetSpec(
        name="dot",
        title="Dot",
        feature_names=("(v1+v2)_1", "(v1+v2)_2", "(v1-v2)_1", "(v1-v2)_2"),
        concept_names=("v1·w>0", "v2·(-w)>0"),
        task_name="v1·v2>0",
        latent="v1, v2 ~ N(0, 2^2 I_2), w = (1, 1)",
        inputs="x = [v1 + v2, v1 - v2]",
        concepts="c = [v1·w > 0, v2·(-w) > 0]",
        task="y = 1[v1·v2 > 0]",
        generate=g.dot,
        labels=g.dot_labels,
    ),
    "many": many_spec(),
}


def get_spec(name: str) -> DatasetSpec:
    """Look up a dataset spec by name; unknown names raise a one-line ``CemError``."""
    try:
        return SPECS[name]
    except KeyError:
        raise unknown("dataset", name, SPECS) from None


def spec_for(name: str, settings: Mapping[str, Any] | None = None, prefix: str = "") -> DatasetSpec:
    """The spec of ``name`` with its own settings (``PARAMS``) from ``settings`` (null or absent:
    the dataset's defaults); a one-line ``CemError`` for a setting the dataset does not take."""
    spec = get_spec(name)
    given = {k: settings[k] for k in PARAMS if settings and settings.get(k) is not None}
    if not spec.params:
        for key, value in given.items():
            takers = ", ".join(n for n, s in SPECS.items() if key in s.params)
            raise CemError(
                f"{prefix}{key}={value!r} does not apply to dataset {name!r}; allowed: null "
                f"(a setting of {takers} only)"
            )
        return spec
    assert spec.configure is not None
    return spec.configure(**{**spec.params, **given})
