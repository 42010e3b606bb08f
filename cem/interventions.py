"""Test-time interventions on a trained network: one intervention, and intervention curves.

This is evaluation code that runs networks (the masks, values and areas are pure functions in
:mod:`cem.metrics.interventions`). What "putting in a value" means is the model's business
(Sigmoid CBM: the probability; Logit CBM: Koh's 5th/95th percentile logit; CEM: p̂ := c).

Policies choose, per sample, the order in which concept groups are intervened on:

- ``random``: a fresh random order per sample (curves averaged over ``n_orders`` draws);
- ``uncertainty``: groups whose predicted concepts are closest to p = 0.5 first;
- ``optimal_greedy``: an oracle: at each step the group whose correct intervention most raises
  p(true y);
- ``learned``: the model's own policy (IntCEM's ψ, :class:`cem.models.base.LearnedPolicy`): at
  each step it reads the intervened concepts at their values and the mask, and the group it
  scores highest among those not yet intervened on is next (a group's score is the
  log-sum-exp of its concepts' scores: its share of ψ's softmax).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from cem.errors import CemError, unknown
from cem.metrics.classification import task_metrics
from cem.metrics.interventions import (
    MaskLike,
    concept_groups,
    concept_mask,
    group_matrix,
    intervention_mask,
    intervention_values,
    p_true,
)
from cem.models.base import ConceptModel, LearnedPolicy
from cem.models.inference import predict, predict_policy

GENERIC_POLICIES: tuple[str, ...] = ("random", "uncertainty", "optimal_greedy")
POLICIES: tuple[str, ...] = (*GENERIC_POLICIES, "learned")


def require_concepts(net: ConceptModel, name: str = "model") -> None:
    """Interventions need concepts: refuse the no-concept DNN with a clear message."""
    if not getattr(net, "has_concepts", True):
        raise CemError(
            f"interventions are undefined for {name}={getattr(net, 'name', 'dnn')!r} "
            "(it has no concepts); allowed: any concept model (cem, cbm_*)"
        )


def require_policy(net: ConceptModel) -> None:
    """The ``learned`` policy needs a network that carries one."""
    if not isinstance(net, LearnedPolicy):
        raise CemError(
            f"policy='learned' needs a model with a learned intervention policy (intcem); this "
            f"{type(net).__name__} has none; allowed: {', '.join(GENERIC_POLICIES)}"
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


def _greedy_order(
    net: ConceptModel, x: torch.Tensor, c: torch.Tensor, y: torch.Tensor, gm: torch.Tensor
) -> torch.Tensor:
    """(N, G) order of the oracle: each step the group whose *correct* value most raises
    p(true y), all G candidates of all N samples scored in one stacked pass per step."""
    n, n_groups, k = len(x), gm.shape[0], gm.shape[1]
    truth = c.float()
    chosen = torch.zeros(n, n_groups, dtype=torch.bool, device=x.device)
    order = torch.empty(n, n_groups, dtype=torch.long, device=x.device)
    eye = torch.eye(n_groups, dtype=torch.bool, device=x.device).unsqueeze(1)  # (G, 1, G)
    rows = torch.arange(n, device=x.device)
    for step in range(n_groups):
        cand = chosen.unsqueeze(0) | eye  # (G, N, G)
        masks = concept_mask(cand, gm).reshape(-1, k)
        out = predict(net, x.repeat(n_groups, 1), truth.repeat(n_groups, 1), masks)
        score = p_true(out.y_logits, y.repeat(n_groups)).view(n_groups, n).T  # (N, G)
        best = score.masked_fill(chosen, float("-inf")).argmax(dim=1)
        order[:, step] = best
        chosen = chosen.clone()
        chosen[rows, best] = True
    return order


def _learned_order(
    net: ConceptModel, x: torch.Tensor, values: torch.Tensor, gm: torch.Tensor
) -> torch.Tensor:
    """(N, G) order of the network's own policy, step by step; groups already intervened on
    are masked out before the argmax, so each is chosen once."""
    require_policy(net)
    n, n_groups = len(x), gm.shape[0]
    chosen = torch.zeros(n, n_groups, dtype=torch.bool, device=x.device)
    order = torch.empty(n, n_groups, dtype=torch.long, device=x.device)
    rows = torch.arange(n, device=x.device)
    outside = ~gm.unsqueeze(0)  # (1, G, k): concepts not in the group
    for step in range(n_groups):
        logits = predict_policy(net, x, values, concept_mask(chosen, gm))  # (N, k)
        group = logits.unsqueeze(1).masked_fill(outside, float("-inf")).logsumexp(-1)  # (N, G)
        best = group.masked_fill(chosen, float("-inf")).argmax(dim=1)
        order[:, step] = best
        chosen = chosen.clone()
        chosen[rows, best] = True
    return order


def intervention_orders(
    net: ConceptModel,
    x: torch.Tensor,
    c: torch.Tensor,
    y: torch.Tensor,
    policy: str = "random",
    groups: Sequence[Sequence[int]] | None = None,
    incorrect: bool = False,
    n_orders: int = 5,
    seed: int = 0,
) -> list[torch.Tensor]:
    """The orders a policy intervenes in: a list (one, or ``n_orders`` for ``random``) of (N, G)
    long tensors, row i a permutation of the groups 0..G-1 for sample i, first chosen first.

    The oracle ranks groups by their *correct* value even for incorrect curves (an oracle for
    wrong values would pick the flips that happen to help, which measures nothing); the learned
    policy reads the values actually put in.
    """
    if policy not in POLICIES:
        raise unknown("policy", policy, POLICIES)
    require_concepts(net)
    device = next(net.parameters()).device  # every step on the network's device
    x, c, y = x.to(device), c.to(device), y.to(device)
    n, k = c.shape
    gm = group_matrix(concept_groups(groups, k), k).to(x.device)  # (G, k)
    n_groups = gm.shape[0]
    if policy == "optimal_greedy":
        return [_greedy_order(net, x, c, y, gm)]
    if policy == "learned":
        return [_learned_order(net, x, intervention_values(c.float(), incorrect), gm)]
    if policy == "uncertainty":
        p = torch.sigmoid(predict(net, x).c_logits)
        closeness = (p - 0.5).abs()  # (N, k): small = uncertain
        group_score = (closeness.float() @ gm.float().T) / gm.sum(1).float()  # (N, G) mean
        return [group_score.argsort(dim=1)]
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.rand(n, n_groups, generator=gen).argsort(dim=1).to(x.device) for _ in range(n_orders)
    ]


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
    """Task accuracy and AUC after intervening on 0, 1, …, G concept groups of every sample, in
    the order ``policy`` chooses (module docstring). Every step is one vectorized pass over the
    whole split.

    x: (N, d), c: (N, k) true concepts, y: (N,). Returns ``{"n_groups": [0..G], "task_acc": […],
    "task_auc": […]}`` (lists of G + 1 floats; ``random``: the mean over ``n_orders`` orders).
    """
    orders = intervention_orders(net, x, c, y, policy, groups, incorrect, n_orders, seed)
    device = next(net.parameters()).device  # every step on the network's device
    x, c, y = x.to(device), c.to(device), y.to(device)
    k = c.shape[1]
    gm = group_matrix(concept_groups(groups, k), k).to(x.device)
    values = intervention_values(c.float(), incorrect)
    steps = range(gm.shape[0] + 1)
    curves = []
    for order in orders:
        rank = order.argsort(dim=1)  # (N, G): position of each group in the sample's order
        curves.append(
            [
                task_metrics(predict(net, x, values, concept_mask(rank < j, gm)).y_logits, y)
                for j in steps
            ]
        )
    mean = [
        {key: sum(cv[j][key] for cv in curves) / len(curves) for key in curves[0][0]} for j in steps
    ]
    return {
        "n_groups": list(steps),
        "task_acc": [m["task_acc"] for m in mean],
        "task_auc": [m["task_auc"] for m in mean],
    }
