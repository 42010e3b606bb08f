"""The concept-model family as plain ``nn.Module``s (no training logic here).

Every model maps x (B, d) to a :class:`ConceptOutput`. Concept models accept a test-time
*intervention*: a mask (B, k) of concepts to replace and the values (B, k) to put in their place
(the true concepts, or flipped ones for incorrect interventions).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cem.models.parts import ConceptEmbedding

BOTTLENECKS: tuple[str, ...] = ("bool", "sigmoid", "logit")


@dataclass
class ConceptOutput:
    """What a forward pass returns.

    y_logits : (B, n_out) task logits (n_out = 1 for a binary task)
    c_logits : (B, k) predicted concept logits before any intervention, or None (no concepts)
    reps : (B, k, r) each concept's representation, for alignment metrics (CEM: the mixed
        embedding, r = m; scalar CBMs: the bottleneck value, r = 1; Hybrid/DNN: the free units
        split into k chunks, r = m - 1)
    """

    y_logits: torch.Tensor
    c_logits: torch.Tensor | None
    reps: torch.Tensor | None


class ConceptModel(nn.Module):
    """Common interface. ``has_concepts`` is False for the no-concept DNN."""

    n_concepts: int
    has_concepts: bool = True

    def forward(
        self, x: torch.Tensor, c_int: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> ConceptOutput:
        raise NotImplementedError

    def head_parameters(self) -> list[nn.Parameter]:
        """Parameters of the label predictor c2y (trained alone in a CBM's second stage)."""
        return list(self.c2y.parameters())

    def concept_parameters(self) -> list[nn.Parameter]:
        """Parameters of x -> c (everything but the label predictor)."""
        head = {id(p) for p in self.head_parameters()}
        return [p for p in self.parameters() if id(p) not in head]


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

    def forward(
        self, x: torch.Tensor, c_int: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> ConceptOutput:
        """x: (B, d); c_int, mask: (B, k) values and 0/1 mask of intervened concepts."""
        pos, neg, c_logits = self.embedding(self.extractor(x))
        p = torch.sigmoid(c_logits)
        if mask is not None:
            p = torch.where(mask.to(torch.bool), c_int.to(p.dtype), p)
        p = p.unsqueeze(-1)
        mixed = p * pos + (1 - p) * neg  # (B, k, m)
        return ConceptOutput(self.c2y(mixed.flatten(1)), c_logits, mixed)
