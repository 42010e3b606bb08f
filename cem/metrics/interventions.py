"""Interventions as arrays: masks, the values put in, concept groups, areas under curves.

Pure functions on tensors (no network runs here; :mod:`cem.interventions` runs a trained model
under these masks). A mask (N, k) marks the concepts replaced for each sample; *correct*
interventions put in the true concept value, *incorrect* ones the flipped value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from cem.errors import CemError

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


def group_matrix(groups: list[list[int]], k: int) -> torch.Tensor:
    """(G, k) bool: row g marks the concepts of group g."""
    m = torch.zeros(len(groups), k, dtype=torch.bool)
    for g, members in enumerate(groups):
        m[g, members] = True
    return m


def concept_mask(chosen: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """The (N, k) concept mask of the groups chosen by (N, G) bool ``chosen``; groups (G, k)."""
    return (chosen.float() @ groups.float()) > 0


def true_log_odds(y_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N,) log-odds of the true label, log p(y) − log(1 − p(y)): y_logits (N, 1) binary or
    (N, C); y (N,) int. For a binary task it is the logit, signed by the label."""
    if y_logits.shape[1] == 1:
        z = y_logits.squeeze(1)
        return torch.where(y == 1, z, -z)
    logp = torch.log_softmax(y_logits, dim=1)
    lp = logp.gather(1, y.view(-1, 1)).squeeze(1)
    others = torch.logsumexp(logp.scatter(1, y.view(-1, 1), float("-inf")), dim=1)
    return lp - others


def p_true(y_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N,) probability the model gives the true label (y_logits (N, 1) or (N, C), y (N,))."""
    if y_logits.shape[1] == 1:
        p1 = torch.sigmoid(y_logits.squeeze(1))
        return torch.where(y == 1, p1, 1 - p1)
    return torch.softmax(y_logits, dim=1).gather(1, y.view(-1, 1)).squeeze(1)


def curve_area(values: Sequence[float]) -> float:
    """Normalised area under an intervention curve: the trapezoid rule over the fraction of
    groups intervened (0, 1/G, …, 1), so a flat curve at a scores a; ``values`` has G + 1
    entries (G >= 1)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or len(v) < 2:
        raise CemError(f"intervention curve of {len(v)} points is invalid; allowed: 2 or more")
    return float(((v[1:] + v[:-1]) / 2).mean())
