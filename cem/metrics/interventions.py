"""Test-time interventions: validate a mask, build the values a person would put in, evaluate.

A mask (N, k) marks the concepts replaced for each sample; *correct* interventions put in the true
concept value, *incorrect* ones the flipped value. What "the value" means is the model's business
(Sigmoid CBM: the probability; Logit CBM: Koh's 5th/95th percentile logit; CEM: p̂ := c).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from cem.errors import CemError
from cem.metrics.classification import task_metrics
from cem.models.concept_models import ConceptModel
from cem.models.inference import predict

MaskLike = torch.Tensor | np.ndarray | Sequence[int] | None


def intervention_mask(spec: MaskLike, n: int, k: int) -> torch.Tensor:
    """Turn concept indices, a (k,) mask or an (n, k) mask into an (n, k) bool mask.

    Raises ``CemError`` for the wrong shape, non-binary values or indices outside 0..k-1.
    """
    if spec is None:
        return torch.zeros(n, k, dtype=torch.bool)
    if isinstance(spec, (list, tuple, range)) and all(
        isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in spec
    ):
        idx = list(spec)
        if any(i < 0 or i >= k for i in idx):
            raise CemError(
                f"intervention concepts={idx!r} is invalid; allowed: indices in 0..{k - 1}"
            )
        mask = torch.zeros(n, k, dtype=torch.bool)
        mask[:, idx] = True
        return mask
    t = torch.as_tensor(np.asarray(spec) if not isinstance(spec, torch.Tensor) else spec)
    if t.dim() == 1:
        t = t.unsqueeze(0).expand(n, -1)
    if t.shape != (n, k):
        raise CemError(
            f"intervention mask shape={tuple(t.shape)} is invalid; allowed: ({n}, {k}) or ({k},)"
        )
    if not bool(((t == 0) | (t == 1)).all()):
        raise CemError("intervention mask values are invalid; allowed: 0/1 or booleans")
    return t.to(torch.bool)


def intervention_values(c: torch.Tensor, incorrect: bool = False) -> torch.Tensor:
    """The values put in: the true concepts c (N, k), or 1 - c for incorrect interventions."""
    return 1 - c if incorrect else c


def require_concepts(net: ConceptModel, name: str = "model") -> None:
    """Interventions need concepts: refuse the no-concept DNN with a clear message."""
    if not getattr(net, "has_concepts", True):
        raise CemError(
            f"interventions are undefined for {name}={getattr(net, 'name', 'dnn')!r} "
            "(it has no concepts); allowed: any concept model (cem, cbm_*)"
        )


def evaluate_intervention(
    net: ConceptModel,
    x: torch.Tensor,
    c: torch.Tensor,
    y: torch.Tensor,
    mask: MaskLike,
    incorrect: bool = False,
) -> dict[str, float]:
    """Task accuracy and AUC on a whole split under one intervention, in one vectorized pass.

    x: (N, d); c: (N, k) true concepts; y: (N,); mask: indices, (k,) or (N, k) mask.
    """
    require_concepts(net)
    m = intervention_mask(mask, len(x), c.shape[1])
    out = predict(net, x, intervention_values(c.float(), incorrect), m)
    return task_metrics(out.y_logits, y)
