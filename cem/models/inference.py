"""Run a trained network over a whole split in evaluation mode (no autograd, chunked)."""

from __future__ import annotations

import torch

from cem.models.base import ConceptModel, ConceptOutput


@torch.no_grad()
def predict(
    net: ConceptModel,
    x: torch.Tensor,
    c_int: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    chunk: int = 65536,
) -> ConceptOutput:
    """Forward ``x`` (N, d) — optionally under an intervention (c_int, mask: (N, k)) — in eval mode.

    Returns one :class:`ConceptOutput` for all N rows, on the network's device; the network's
    train/eval mode is restored afterwards.
    """
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    outs = []
    try:
        for s in range(0, max(len(x), 1), chunk):
            sl = slice(s, s + chunk)
            outs.append(
                net(
                    x[sl].to(device),
                    None if c_int is None else c_int[sl].to(device),
                    None if mask is None else mask[sl].to(device),
                )
            )
    finally:
        net.train(was_training)
    if len(outs) == 1:
        return outs[0]

    def cat(name: str) -> torch.Tensor | None:
        parts = [getattr(o, name) for o in outs]
        return None if parts[0] is None else torch.cat(parts)

    return ConceptOutput(cat("y_logits"), cat("c_logits"), cat("reps"))


@torch.no_grad()
def predict_policy(
    net: ConceptModel, x: torch.Tensor, c_int: torch.Tensor, mask: torch.Tensor, chunk: int = 65536
) -> torch.Tensor:
    """A network's own intervention policy (:class:`cem.models.base.LearnedPolicy`) over a whole
    split in eval mode: x (N, d), c_int (N, k) values, mask (N, k) bool of the concepts
    intervened so far -> (N, k) scores of intervening next on each concept."""
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    try:
        parts = [
            net.policy_logits(  # type: ignore[attr-defined]
                x[s : s + chunk].to(device),
                c_int[s : s + chunk].to(device),
                mask[s : s + chunk].to(device),
            )
            for s in range(0, max(len(x), 1), chunk)
        ]
    finally:
        net.train(was_training)
    return torch.cat(parts)
