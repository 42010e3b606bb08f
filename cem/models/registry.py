"""From a model config (name + settings) to a network: the one place that knows every variant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cem.errors import CemError, check, unknown
from cem.models.concept_models import (
    ConceptBottleneckModel,
    ConceptEmbeddingModel,
    ConceptModel,
)
from cem.models.parts import ACTIVATIONS, MLP


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

# The paper's synthetic settings (REFERENCE §2); every key can be overridden.
DEFAULTS: dict[str, Any] = {
    "name": "cem",
    "emb_size": 128,
    "concept_loss_weight": 1.0,
    "task_loss_weight": 1.0,
    "extractor": {"hidden": [128, 128], "activation": "leaky_relu", "out": 128},
    "training_intervention_prob": 0.25,
    "intervention_granularity": "sample",
    "concept_weights": "none",
    "optimizer": {
        "_target_": "torch.optim.Adam",
        "_partial_": True,
        "lr": 0.01,
        "weight_decay": 0.0,
    },
    "scheduler": {
        "_target_": "torch.optim.lr_scheduler.ReduceLROnPlateau",
        "_partial_": True,
        "factor": 0.1,
        "patience": 10,
    },
}


def resolve(cfg: Mapping[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """Defaults ⊕ cfg ⊕ overrides, validated; raises a one-line ``CemError`` on bad values."""
    out: dict[str, Any] = {**DEFAULTS, **dict(cfg or {}), **overrides}
    out["extractor"] = {**DEFAULTS["extractor"], **dict(out.get("extractor") or {})}
    validate(out)
    return out


def _number(cfg: Mapping[str, Any], key: str, ok: Any, allowed: str) -> None:
    v = cfg[key]
    is_num = isinstance(v, (int, float)) and not isinstance(v, bool)
    check(is_num and ok(v), f"model.{key}", v, allowed)


def validate(cfg: Mapping[str, Any]) -> None:
    """Check a resolved model config; the message names the key and the allowed values."""
    if cfg["name"] not in VARIANTS:
        raise unknown("model", cfg["name"], VARIANTS)
    _number(cfg, "concept_loss_weight", lambda v: v >= 0, "a number >= 0")
    _number(cfg, "task_loss_weight", lambda v: v >= 0, "a number >= 0")
    _number(cfg, "training_intervention_prob", lambda v: 0 <= v <= 1, "a probability in [0, 1]")
    v = cfg["emb_size"]
    check(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "model.emb_size",
        v,
        "an integer >= 1",
    )
    if cfg["intervention_granularity"] not in GRANULARITIES:
        raise unknown(
            "model.intervention_granularity", cfg["intervention_granularity"], GRANULARITIES
        )
    if cfg["concept_weights"] not in CONCEPT_WEIGHTS:
        raise unknown("model.concept_weights", cfg["concept_weights"], CONCEPT_WEIGHTS)
    ext = cfg["extractor"]
    if ext["activation"] not in ACTIVATIONS:
        raise unknown("model.extractor.activation", ext["activation"], ACTIVATIONS)
    hidden = list(ext["hidden"])
    if not all(isinstance(h, int) and h >= 1 for h in hidden):
        raise CemError(f"model.extractor.hidden={hidden!r} is invalid; allowed: integers >= 1")
    check(
        isinstance(ext["out"], int) and ext["out"] >= 1,
        "model.extractor.out",
        ext["out"],
        "an integer >= 1",
    )


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
