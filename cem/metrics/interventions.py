"""Test-time interventions: validate a mask, build the values a person would put in, evaluate.

A mask (N, k) marks the concepts replaced for each sample; *correct* interventions put in the true
concept value, *incorrect* ones the flipped value. What "the value" means is the model's business
(Sigmoid CBM: the probability; Logit CBM: Koh's 5th/95th percentile logit; CEM: p̂ := c).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from cem.errors import CemError, unknown
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


# ---- intervention curves ------------------------------------------------------------------

POLICIES: tuple[str, ...] = ("random", "uncertainty", "optimal_greedy")


def concept_groups(groups: Sequence[Sequence[int]] | None, k: int) -> list[list[int]]:
    """Validate a group map (a partition of 0..k-1); None means one group per concept."""
    if groups is None:
        return [[i] for i in range(k)]
    flat = [int(i) for g in groups for i in g]
    missing = sorted(set(range(k)) - set(flat))
    if missing or len(flat) != len(set(flat)) or any(i < 0 or i >= k for i in flat):
        raise CemError(
            f"concept groups={[list(g) for g in groups]!r} is invalid (missing {missing}, or "
            f"repeated/out-of-range indices); allowed: a partition of the concepts 0..{k - 1}"
        )
    if any(len(g) == 0 for g in groups):
        raise CemError("concept groups contain an empty group; allowed: non-empty groups")
    return [list(map(int, g)) for g in groups]


def _group_matrix(groups: list[list[int]], k: int) -> torch.Tensor:
    """(G, k) bool: row g marks the concepts of group g."""
    m = torch.zeros(len(groups), k, dtype=torch.bool)
    for g, members in enumerate(groups):
        m[g, members] = True
    return m


def _p_true(y_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N,) probability the model gives the true label."""
    if y_logits.shape[1] == 1:
        p1 = torch.sigmoid(y_logits.squeeze(1))
        return torch.where(y == 1, p1, 1 - p1)
    return torch.softmax(y_logits, dim=1).gather(1, y.view(-1, 1)).squeeze(1)


def intervention_curve(
    net: ConceptModel,
    x: torch.Tensor,
    c: torch.Tensor,
    y: torch.Tensor,
    policy: str = "random",
    groups: Sequence[Sequence[int]] | None = None,
    incorrect: bool = False,
    n_orders: int = 5,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Task accuracy and AUC after intervening on 0, 1, …, G concept groups of every sample.

    Policies pick, per sample, the order of the groups: ``random`` (a fresh random order per
    sample, averaged over ``n_orders`` draws), ``uncertainty`` (groups whose predicted concepts
    are closest to p = 0.5 first) and ``optimal_greedy`` (an oracle: at each step the group whose
    intervention most raises p(true y)). Every step is one vectorized pass over the whole split.

    x: (N, d), c: (N, k) true concepts, y: (N,). Returns ``{"n_groups": [0..G], "task_acc": […],
    "task_auc": […]}`` (lists of G + 1 floats).
    """
    if policy not in POLICIES:
        raise unknown("policy", policy, POLICIES)
    require_concepts(net)
    device = next(net.parameters()).device  # every step on the network's device
    x, c, y = x.to(device), c.to(device), y.to(device)
    n, k = c.shape
    groups_ = concept_groups(groups, k)
    gm = _group_matrix(groups_, k).to(x.device)  # (G, k)
    n_groups = len(groups_)
    values = intervention_values(c.float(), incorrect)
    plain = predict(net, x)

    def at(mask_groups: torch.Tensor) -> dict[str, float]:
        """Metrics with the groups chosen by (N, G) bool ``mask_groups`` intervened."""
        mask = (mask_groups.float() @ gm.float()) > 0  # (N, k)
        return task_metrics(predict(net, x, values, mask).y_logits, y)

    steps = range(n_groups + 1)
    if policy == "optimal_greedy":
        # The oracle ranks groups by how much their *correct* value raises p(true y); incorrect
        # curves then put wrong values in that same order (an oracle for wrong values would pick
        # the flips that happen to help, which measures nothing).
        truth = c.float()
        chosen = torch.zeros(n, n_groups, dtype=torch.bool, device=x.device)
        curve = [task_metrics(plain.y_logits, y)]
        eye = torch.eye(n_groups, dtype=torch.bool, device=x.device).unsqueeze(1)  # (G, 1, G)
        for _ in range(n_groups):
            # Score every candidate group for every sample in one stacked pass: (G·N) rows.
            cand = chosen.unsqueeze(0) | eye  # (G, N, G)
            masks = ((cand.float() @ gm.float()) > 0).reshape(-1, k)
            out = predict(net, x.repeat(n_groups, 1), truth.repeat(n_groups, 1), masks)
            score = _p_true(out.y_logits, y.repeat(n_groups)).view(n_groups, n).T  # (N, G)
            best = score.masked_fill(chosen, float("-inf")).argmax(dim=1)
            chosen = chosen.clone()
            chosen[torch.arange(n, device=x.device), best] = True
            curve.append(at(chosen))
        return _pack(curve)
    if policy == "uncertainty":
        p = torch.sigmoid(plain.c_logits)
        closeness = (p - 0.5).abs()  # (N, k): small = uncertain
        group_score = (closeness.float() @ gm.float().T) / gm.sum(1).float()  # (N, G) mean
        orders = [group_score.argsort(dim=1)]
    else:
        gen = torch.Generator().manual_seed(seed)
        orders = [
            torch.rand(n, n_groups, generator=gen).argsort(dim=1).to(x.device)
            for _ in range(n_orders)
        ]
    curves = []
    for order in orders:
        rank = order.argsort(dim=1)  # (N, G): position of each group in the sample's order
        curves.append([at(rank < j) for j in steps])
    return _pack(
        [
            {key: sum(cv[j][key] for cv in curves) / len(curves) for key in curves[0][0]}
            for j in steps
        ]
    )


def _pack(curve: list[dict[str, float]]) -> dict[str, list[float]]:
    return {
        "n_groups": list(range(len(curve))),
        "task_acc": [m["task_acc"] for m in curve],
        "task_auc": [m["task_auc"] for m in curve],
    }
