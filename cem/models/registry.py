"""From a model config (name + settings) to a network: the one place that knows every variant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cem.models.concept_models import (
    ConceptBottleneckModel,
    ConceptEmbeddingModel,
    ConceptModel,
)
from cem.models.optim import resolve_component, try_build
from cem.models.parts import ACTIVATIONS, MLP
from cem.settings import (
    choice,
    defaults,
    group,
    integer,
    list_of,
    mapping,
    number,
    probability,
    setting,
)
from cem.settings import resolve as resolve_settings


@dataclass(frozen=True)
class Variant:
    """How a config name maps to a network and a training schedule.

    kind : ``cbm`` or ``cem``
    bottleneck : CBM bottleneck (``bool``, ``sigmoid``, ``logit``)
    hybrid : add (m-1)·k free units beside the concepts
    training : ``joint``, ``sequential`` (x→c, then c2y on predicted c) or ``independent``
        (x→c, then c2y on true c)
    has_concepts : False for the no-concept DNN (α forced to 0)
    """

    kind: str
    bottleneck: str = "sigmoid"
    hybrid: bool = False
    training: str = "joint"
    has_concepts: bool = True


VARIANTS: dict[str, Variant] = {
    "cem": Variant("cem"),
    "cbm_bool": Variant("cbm", "bool"),
    "cbm_sigmoid": Variant("cbm", "sigmoid"),
    "cbm_logit": Variant("cbm", "logit"),
    "cbm_hybrid_sigmoid": Variant("cbm", "sigmoid", hybrid=True),
    "cbm_hybrid_logit": Variant("cbm", "logit", hybrid=True),
    "cbm_sequential": Variant("cbm", "sigmoid", training="sequential"),
    "cbm_independent": Variant("cbm", "sigmoid", training="independent"),
    "dnn": Variant("cbm", "sigmoid", hybrid=True, has_concepts=False),
}

GRANULARITIES: tuple[str, ...] = ("sample", "batch")
CONCEPT_WEIGHTS: tuple[str, ...] = ("none", "balanced")
MAX_WIDTH = 65536  # widest layer a config may ask for (a typo like 10**9 must not reach torch)
MAX_LAYERS = 64  # deepest extractor a config may ask for

_WIDTH = integer(1, MAX_WIDTH)
DEFAULT_OPTIMIZER: dict[str, Any] = {
    "_target_": "torch.optim.Adam",
    "_partial_": True,
    "lr": 0.01,
    "weight_decay": 0.0,
}
DEFAULT_SCHEDULER: dict[str, Any] = {
    "_target_": "torch.optim.lr_scheduler.ReduceLROnPlateau",
    "_partial_": True,
    "factor": 0.1,
    "patience": 10,
}


@dataclass
class ExtractorSettings:
    """The concept extractor MLP: Linear(d, h1) → act → ... → Linear(h_last, out)."""

    hidden: list[int] = setting(
        [128, 128],
        list_of(_WIDTH, f"at most {MAX_LAYERS} integers >= 1 and <= {MAX_WIDTH}", 0, MAX_LAYERS),
    )
    activation: str = setting("leaky_relu", choice(ACTIVATIONS))
    out: int = setting(128, _WIDTH, "CEM's h width")


@dataclass
class ModelSettings:
    """The model group: the CEM paper's synthetic settings (REFERENCE §2) are the defaults.

    ``optimizer`` / ``scheduler``: a class of ``torch.optim`` / ``torch.optim.lr_scheduler`` by
    name and its keywords (see :mod:`cem.models.optim`); ``scheduler: null`` for none.
    """

    name: str = setting("cem", choice(VARIANTS, label="model"))
    emb_size: int = setting(128, _WIDTH, "m: CEM embedding size; Hybrid/DNN get (m - 1)·k units")
    concept_loss_weight: float = setting(1.0, number(0), "alpha")
    task_loss_weight: float = setting(1.0, number(0))
    extractor: ExtractorSettings = group(ExtractorSettings)
    training_intervention_prob: float = setting(0.25, probability(), "RandInt (CEM only)")
    intervention_granularity: str = setting("sample", choice(GRANULARITIES))
    concept_weights: str = setting("none", choice(CONCEPT_WEIGHTS))
    optimizer: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_OPTIMIZER))
    scheduler: dict[str, Any] | None = field(default_factory=lambda: dict(DEFAULT_SCHEDULER))


def resolve(cfg: Mapping[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """Defaults ⊕ cfg ⊕ overrides, every key known and every value checked (the optimiser and
    scheduler too, by building them on a dummy parameter); a one-line ``CemError`` otherwise."""
    values = {**mapping("model", cfg), **overrides}
    out = resolve_settings(ModelSettings, values, "model")
    out["optimizer"] = resolve_component(
        "optimizer",
        values.get("optimizer", DEFAULT_OPTIMIZER),
        DEFAULT_OPTIMIZER,
        "model.optimizer",
    )
    out["scheduler"] = resolve_component(
        "scheduler",
        values.get("scheduler", DEFAULT_SCHEDULER),
        DEFAULT_SCHEDULER,
        "model.scheduler",
    )
    try_build(out["optimizer"], out["scheduler"], "model")
    return out


# The defaults as plain dicts (derived from ModelSettings, the one place they are written).
DEFAULTS: dict[str, Any] = defaults(ModelSettings)


def build_model(
    cfg: Mapping[str, Any], n_features: int, n_concepts: int, n_out: int
) -> ConceptModel:
    """Build the network of a resolved model config for d inputs, k concepts and n_out logits."""
    variant = VARIANTS[cfg["name"]]
    ext = cfg["extractor"]
    hidden, act, m = list(ext["hidden"]), ext["activation"], cfg["emb_size"]
    if variant.kind == "cem":
        extractor = MLP(n_features, hidden, ext["out"], act)
        return ConceptEmbeddingModel(extractor, ext["out"], n_concepts, m, n_out)
    n_extra = (m - 1) * n_concepts if variant.hybrid else 0
    extractor = MLP(n_features, hidden, n_concepts + n_extra, act)
    return ConceptBottleneckModel(
        extractor, n_concepts, n_out, variant.bottleneck, n_extra, variant.has_concepts
    )
