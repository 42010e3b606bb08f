"""The ``cem`` kind: Concept Embedding Models trained with RandInt.

Espinosa Zarlenga et al., "Concept Embedding Models: Beyond the Accuracy-Explainability
Trade-Off", NeurIPS 2022 (arXiv 2209.09056).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cem.models.base import ConceptModel, ConceptOutput, Objective
from cem.models.parts import MLP, ConceptEmbedding
from cem.models.registry import ModelKind, ModelSettings, register
from cem.settings import choice, probability, setting

GRANULARITIES: tuple[str, ...] = ("sample", "batch")


@dataclass
class CEMSettings(ModelSettings):
    """The ``cem`` kind: RandInt, CEM's training-time interventions."""

    training_intervention_prob: float = setting(0.25, probability(), "RandInt")
    intervention_granularity: str = setting(
        "sample", choice(GRANULARITIES), "RandInt: one mask per sample, or per batch (the code)"
    )


class ConceptEmbeddingModel(ConceptModel):
    """Concept Embedding Model (Espinosa Zarlenga et al., "Concept Embedding Models: Beyond the
    Accuracy-Explainability Trade-Off", NeurIPS 2022, arXiv 2209.09056).

    h = extractor(x); per concept a positive and a negative m-dim embedding and a probability
    p̂_i from a scorer shared across concepts; the mixed embedding p̂_i·ĉ⁺_i + (1 − p̂_i)·ĉ⁻_i of
    every concept, concatenated (k·m), feeds a Linear label predictor. An intervention sets
    p̂_i := c_i, so the embedding becomes exactly ĉ⁺_i or ĉ⁻_i.

    Parameters
    ----------
    extractor : x (B, d) -> h (B, h_dim)
    h_dim, n_concepts, emb_size, n_out : h width, k, m, task logits (1 for binary)
    """

    def __init__(
        self, extractor: nn.Module, h_dim: int, n_concepts: int, emb_size: int, n_out: int
    ) -> None:
        super().__init__()
        self.extractor = extractor
        self.n_concepts, self.emb_size = n_concepts, emb_size
        self.embedding = ConceptEmbedding(h_dim, n_concepts, emb_size)
        self.c2y = nn.Linear(n_concepts * emb_size, n_out)

    def embeddings(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, d) -> (pos (B, k, m), neg (B, k, m), concept logits (B, k))."""
        return self.embedding(self.extractor(x))

    @staticmethod
    def mix(pos: torch.Tensor, neg: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """The mixed embeddings p·ĉ⁺ + (1 − p)·ĉ⁻: pos, neg (B, k, m), p (B, k) -> (B, k, m)."""
        p = p.unsqueeze(-1)
        return p * pos + (1 - p) * neg

    def forward(
        self, x: torch.Tensor, c_int: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> ConceptOutput:
        """x: (B, d); c_int, mask: (B, k) values and 0/1 mask of intervened concepts."""
        pos, neg, c_logits = self.embeddings(x)
        p = torch.sigmoid(c_logits)
        if mask is not None:
            p = torch.where(mask.to(torch.bool), c_int.to(p.dtype), p)
        mixed = self.mix(pos, neg, p)  # (B, k, m)
        return ConceptOutput(self.c2y(mixed.flatten(1)), c_logits, mixed)


class CEMObjective(Objective):
    """α · concept BCE + task loss, with RandInt: in each training step every concept's p̂_i
    is replaced by its true value with probability ``training_intervention_prob``, one draw per
    sample and concept (``intervention_granularity: sample``) or one per concept for the whole
    batch (``batch``, as the public code)."""

    def __init__(
        self,
        cfg: Mapping[str, Any],
        n_concepts: int,
        supervised: Sequence[bool] | None = None,
        pos_weight: Sequence[float] | None = None,
    ) -> None:
        super().__init__(cfg, n_concepts, supervised, pos_weight)
        self.p_int = float(cfg["training_intervention_prob"])
        self.per_batch = cfg["intervention_granularity"] == "batch"

    def intervention_mask(self, c: torch.Tensor, stage: str) -> torch.Tensor | None:
        if self.p_int > 0:
            # RandInt: each concept is replaced by its true value with probability p_int.
            shape = (1, c.shape[1]) if self.per_batch else c.shape
            return (torch.rand(shape, device=c.device) < self.p_int).expand_as(c)
        return None


def build_cem(
    cfg: Mapping[str, Any], n_features: int, n_concepts: int, n_out: int
) -> ConceptEmbeddingModel:
    """A CEM of a resolved ``cem`` config."""
    ext = cfg["extractor"]
    extractor = MLP(n_features, list(ext["hidden"]), ext["out"], ext["activation"])
    return ConceptEmbeddingModel(extractor, ext["out"], n_concepts, cfg["emb_size"], n_out)


KIND = register(ModelKind("cem", CEMSettings, build_cem, CEMObjective))
