"""What every concept model is: a plain network, and the objective that trains it.

A model is one module under ``cem/models/`` plus one YAML under ``conf/model/`` (see
:mod:`cem.models.registry`). The module defines

- a network, a :class:`ConceptModel`: a plain ``nn.Module`` with
  ``forward(x, c_int, mask) -> ConceptOutput`` (no training logic);
- an :class:`Objective`: the model's training stages, which parameters each stage trains, and
  its loss, computed from the network's output and the batch (or, for a model that trains with
  rollouts, from the batch and the network itself);
- a settings schema (a dataclass extending :class:`cem.models.registry.ModelSettings`) and a
  builder, registered in the registry's table with :func:`cem.models.registry.register`.

The Lightning module (:mod:`cem.models.lightning`) only drives these hooks; it knows no model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn
from torch.nn import functional as F

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


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
    """Common interface of the networks. ``has_concepts`` is False for the no-concept DNN.

    An *intervention* is a mask (B, k) of concepts to replace and the values (B, k) to put in
    their place (the true concepts, or flipped ones for incorrect interventions); what "the
    value" means is the model's business.
    """

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

    def public_representation(self, x: torch.Tensor) -> torch.Tensor | None:
        """Each concept's representation as the authors' CAS code clusters it, when it differs
        from ``forward(x).reps``: x (N, d) -> (N, k, r'); None means "the same as ours".
        Called by the evaluation in eval mode without gradients."""
        return None


@runtime_checkable
class LearnedPolicy(Protocol):
    """A network that carries its own intervention policy (IntCEM's ψ): the evaluation's
    ``learned`` policy asks it which concept to intervene on next."""

    def policy_logits(
        self, x: torch.Tensor, c_int: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """x (N, d), c_int (N, k) values of the intervened concepts, mask (N, k) bool of those
        intervened so far -> (N, k) scores of intervening next on each concept."""
        ...


class Objective(nn.Module):
    """How a model trains: its stages, the parameters each stage trains, and its loss.

    The base class is a joint objective, α · concept BCE + task_weight · task loss, trained in
    one stage on every parameter. Models subclass it (a CBM adds its sequential / independent
    stages, a CEM its RandInt interventions, an IntCEM its rollouts).

    It is an ``nn.Module`` so that state a schedule keeps (IntCEM's growing horizon) is saved in
    checkpoints with the network; it holds no trainable parameter.

    Parameters
    ----------
    cfg : the resolved model config (``concept_loss_weight`` α, ``task_loss_weight``)
    n_concepts : k
    supervised : (k,) which concepts have supervision (hidden concepts: False); default all
    pos_weight : (k,) BCE positive weights for imbalanced concepts (``concept_weights: balanced``)
    """

    stages: tuple[str, ...] = ("joint",)

    def __init__(
        self,
        cfg: Mapping[str, Any],
        n_concepts: int,
        supervised: Sequence[bool] | None = None,
        pos_weight: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.alpha = float(cfg["concept_loss_weight"])
        self.task_weight = float(cfg["task_loss_weight"])
        sup = torch.ones(n_concepts) if supervised is None else torch.as_tensor(supervised).float()
        self.register_buffer("supervised", sup, persistent=False)
        pw = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32)
        self.register_buffer("pos_weight", pw, persistent=False)
        self._plain_concept_loss = pw is None and bool(sup.all())

    # ---- loss terms ----
    def concept_loss(self, c_logits: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Mean BCE over supervised concepts: c_logits, c (B, k)."""
        if self._plain_concept_loss:  # every concept supervised, unweighted: the plain mean
            return F.binary_cross_entropy_with_logits(c_logits, c)
        bce = F.binary_cross_entropy_with_logits(
            c_logits, c, pos_weight=self.pos_weight, reduction="none"
        )
        return (bce * self.supervised).sum() / (self.supervised.sum() * len(c))

    @staticmethod
    def task_loss(y_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """BCE for a binary task (y_logits (B, 1)), cross-entropy for (B, C); y (B,) int64."""
        if y_logits.shape[1] == 1:
            return F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.to(y_logits.dtype))
        return F.cross_entropy(y_logits, y)

    # ---- hooks the training module calls ----
    def loss(
        self, out: ConceptOutput, c: torch.Tensor, y: torch.Tensor, stage: str
    ) -> torch.Tensor:
        """The loss of ``stage`` from an output and its batch (c (B, k), y (B,)); also the
        validation loss."""
        loss = self.task_weight * self.task_loss(out.y_logits, y)
        if self.alpha > 0 and out.c_logits is not None:
            loss = loss + self.alpha * self.concept_loss(out.c_logits, c)
        return loss

    def intervention_mask(self, c: torch.Tensor, stage: str) -> torch.Tensor | None:
        """The training-time intervention of one batch (c (B, k)): a (B, k) bool mask of the
        concepts set to their true value, or None."""
        return None

    def training_loss(
        self, net: ConceptModel, x: torch.Tensor, c: torch.Tensor, y: torch.Tensor, stage: str
    ) -> torch.Tensor:
        """The loss of one optimisation step on the batch x (B, d), c (B, k), y (B,)."""
        mask = self.intervention_mask(c, stage)
        out = net(x, c if mask is not None else None, mask)
        return self.loss(out, c, y, stage)

    def trainable(self, net: ConceptModel, stage: str) -> list[nn.Parameter]:
        """The parameters ``stage`` trains (the others are frozen during it)."""
        return list(net.parameters())

    def on_train_end(self, net: ConceptModel, train: Batch | None) -> None:
        """After each stage's training, with the training split (x, c, y) when known."""
