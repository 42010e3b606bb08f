"""The ``cbm`` kind: Concept Bottleneck Models and the no-concept DNN.

Koh et al., "Concept Bottleneck Models", ICML 2020 (arXiv 2007.04612), with the Bool / Sigmoid
("Fuzzy") / Logit bottlenecks and the Hybrid variant compared by Espinosa Zarlenga et al.,
"Concept Embedding Models: Beyond the Accuracy-Explainability Trade-Off", NeurIPS 2022
(arXiv 2209.09056).

A variant is its YAML (``conf/model/cbm_*.yaml``, ``dnn.yaml``): the flags below make it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cem.models.base import Batch, ConceptModel, ConceptOutput, Objective
from cem.models.parts import MLP
from cem.models.registry import ModelKind, ModelSettings, register
from cem.settings import choice, flag, setting

BOTTLENECKS: tuple[str, ...] = ("bool", "sigmoid", "logit")
TRAININGS: tuple[str, ...] = ("joint", "sequential", "independent")
# The stages of each training mode, in order.
STAGES: dict[str, tuple[str, ...]] = {
    "joint": ("joint",),
    "sequential": ("concepts", "task_predicted"),
    "independent": ("concepts", "task_true"),
}


@dataclass
class CBMSettings(ModelSettings):
    """The ``cbm`` kind: the flags that make a variant (its YAML sets them)."""

    bottleneck: str = setting("sigmoid", choice(BOTTLENECKS), "bool, sigmoid or logit")
    hybrid: bool = setting(False, flag(), "(m - 1)·k free units beside the concepts")
    training: str = setting(
        "joint", choice(TRAININGS), "joint; sequential / independent: x->c, then c2y"
    )
    has_concepts: bool = setting(True, flag(), "false: the no-concept DNN (alpha forced to 0)")


class ConceptBottleneckModel(ConceptModel):
    """Concept Bottleneck Model (Koh et al., "Concept Bottleneck Models", ICML 2020,
    arXiv 2007.04612), with the Bool / Sigmoid ("Fuzzy") / Logit bottlenecks and the Hybrid
    variant compared by Espinosa Zarlenga et al. (NeurIPS 2022, arXiv 2209.09056).

    The extractor outputs k concept logits plus ``n_extra`` free units (Hybrid: (m-1)·k units
    through LeakyReLU). c2y is a single Linear layer on the bottleneck.

    Parameters
    ----------
    extractor : x (B, d) -> (B, k + n_extra)
    n_concepts : k
    n_out : task logits (1 for binary)
    bottleneck : ``bool`` (1[σ(ĉ) > 0.5], no task gradient to the extractor), ``sigmoid`` (σ(ĉ)) or
        ``logit`` (ĉ)
    n_extra : free units beside the concepts (0 for a plain CBM)
    has_concepts : False makes this the no-concept DNN (same network, trained with α = 0)
    """

    def __init__(
        self,
        extractor: nn.Module,
        n_concepts: int,
        n_out: int,
        bottleneck: str = "sigmoid",
        n_extra: int = 0,
        has_concepts: bool = True,
    ) -> None:
        super().__init__()
        self.extractor = extractor
        self.n_concepts, self.n_extra, self.bottleneck = n_concepts, n_extra, bottleneck
        self.has_concepts = has_concepts
        self.c2y = nn.Linear(n_concepts + n_extra, n_out)
        # Logit interventions use Koh's rule: the 5th / 95th percentile of the training logits.
        self.register_buffer("logit_lo", torch.full((n_concepts,), -4.0))
        self.register_buffer("logit_hi", torch.full((n_concepts,), 4.0))

    def scores(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The extractor's outputs, before any threshold or intervention.

        x: (B, d) -> (c_logits (B, k), scores (B, k): σ(ĉ) for the Bool and Sigmoid
        bottlenecks, ĉ for the Logit one, free (B, n_extra) LeakyReLU units or None).
        """
        z = self.extractor(x)
        k = self.n_concepts
        c_logits = z[:, :k]
        score = c_logits if self.bottleneck == "logit" else torch.sigmoid(c_logits)
        return c_logits, score, F.leaky_relu(z[:, k:]) if self.n_extra else None

    def forward(
        self, x: torch.Tensor, c_int: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> ConceptOutput:
        """x: (B, d); c_int, mask: (B, k) values and 0/1 mask of intervened concepts."""
        c_logits, b, free = self.scores(x)
        if self.bottleneck == "bool":
            b = (b > 0.5).to(b.dtype)
        if mask is not None:
            m = mask.to(torch.bool)
            if self.bottleneck == "logit":
                value = torch.where(c_int > 0.5, self.logit_hi, self.logit_lo)
            else:
                value = c_int.to(b.dtype)
            b = torch.where(m, value, b)
        if free is not None:
            y_logits = self.c2y(torch.cat([b, free], dim=1))
            reps = free.view(len(x), self.n_concepts, -1)
        else:
            y_logits = self.c2y(b)
            reps = b.unsqueeze(-1)
        return ConceptOutput(y_logits, c_logits if self.has_concepts else None, reps)

    @torch.no_grad()
    def set_intervention_logits(self, x_train: torch.Tensor) -> None:
        """Store the 5th/95th percentiles of the training concept logits (x_train: (N, d))."""
        logits = self.extractor(x_train)[:, : self.n_concepts]
        self.logit_lo.copy_(torch.quantile(logits, 0.05, dim=0))
        self.logit_hi.copy_(torch.quantile(logits, 0.95, dim=0))

    def public_representation(self, x: torch.Tensor) -> torch.Tensor:
        """As the authors' CAS code sees a CBM: their CBM returns its bottleneck *before* the
        Bool threshold, and their CAS puts each concept's score beside *all* the free units
        when the bottleneck is wider than k. x (N, d) -> (N, k, 1 + n_extra): the score σ(ĉ_i)
        (ĉ_i for a Logit bottleneck; Bool: not the hard value), then every free unit."""
        _, score, free = self.scores(x)
        parts = [score.unsqueeze(-1)]
        if free is not None:
            parts.append(free.unsqueeze(1).expand(-1, score.shape[1], -1))
        return torch.cat(parts, dim=-1)


class CBMObjective(Objective):
    """Joint: α · concept BCE + task loss (α = 0 for the DNN). Sequential / Independent: x→c
    alone (``concepts``), then c2y alone on the frozen extractor, reading the predicted
    (``task_predicted``) or the true (``task_true``) concepts."""

    def __init__(
        self,
        cfg: Mapping[str, Any],
        n_concepts: int,
        supervised: Sequence[bool] | None = None,
        pos_weight: Sequence[float] | None = None,
    ) -> None:
        super().__init__(cfg, n_concepts, supervised, pos_weight)
        if not cfg["has_concepts"]:
            self.alpha = 0.0
        self.stages = STAGES[cfg["training"]]
        self.logit_bottleneck = cfg["bottleneck"] == "logit"

    def loss(
        self, out: ConceptOutput, c: torch.Tensor, y: torch.Tensor, stage: str
    ) -> torch.Tensor:
        if stage == "concepts":
            return self.concept_loss(out.c_logits, c)
        if stage == "joint":
            return super().loss(out, c, y, stage)
        return self.task_weight * self.task_loss(out.y_logits, y)

    def intervention_mask(self, c: torch.Tensor, stage: str) -> torch.Tensor | None:
        if stage == "task_true":
            return torch.ones_like(c, dtype=torch.bool)  # independent CBM: c2y reads true concepts
        return None

    def trainable(self, net: ConceptModel, stage: str) -> list[nn.Parameter]:
        if stage == "concepts":
            return net.concept_parameters()
        if stage in ("task_predicted", "task_true"):
            return net.head_parameters()
        return list(net.parameters())

    def on_train_end(self, net: ConceptModel, train: Batch | None) -> None:
        if self.logit_bottleneck and train is not None:
            net.set_intervention_logits(train[0])


def build_cbm(
    cfg: Mapping[str, Any], n_features: int, n_concepts: int, n_out: int
) -> ConceptBottleneckModel:
    """A CBM (or the DNN) of a resolved ``cbm`` config."""
    ext = cfg["extractor"]
    n_extra = (cfg["emb_size"] - 1) * n_concepts if cfg["hybrid"] else 0
    extractor = MLP(n_features, list(ext["hidden"]), n_concepts + n_extra, ext["activation"])
    return ConceptBottleneckModel(
        extractor, n_concepts, n_out, cfg["bottleneck"], n_extra, cfg["has_concepts"]
    )


def unused_settings(cfg: Mapping[str, Any]) -> set[str]:
    """What a resolved ``cbm`` config does not read: the embedding size without the hybrid's
    extra units, and the extractor's ``out`` (its output is the bottleneck itself)."""
    return {"extractor.out"} if cfg["hybrid"] else {"emb_size", "extractor.out"}


KIND = register(ModelKind("cbm", CBMSettings, build_cbm, CBMObjective, unused=unused_settings))
