"""Dataset specs: names, formulas as text, generator and verifier of each synthetic dataset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cem.data import generators as g
from cem.errors import unknown


@dataclass(frozen=True)
class DatasetSpec:
    """What a synthetic concept dataset is, for code, cards and plots.

    ``generate(n, rng) -> (x (n, d), c (n, k), y (n,))`` draws samples; ``labels(x) -> (c, y)``
    recomputes the labels from the inputs alone (an independent check of the labelling rule).
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

    @property
    def formula(self) -> str:
        """The labelling formula as text, one line per part."""
        return (
            f"latent:   {self.latent}\n"
            f"inputs:   {self.inputs}\n"
            f"concepts: {self.concepts}\n"
            f"task:     {self.task}"
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
}


def get_spec(name: str) -> DatasetSpec:
    """Look up a dataset spec by name; unknown names raise a one-line ``CemError``."""
    try:
        return SPECS[name]
    except KeyError:
        raise unknown("dataset", name, SPECS) from None
