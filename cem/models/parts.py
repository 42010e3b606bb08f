"""Plain ``nn.Module`` building blocks shared by every concept model."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cem.errors import unknown

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "leaky_relu": nn.LeakyReLU,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "elu": nn.ELU,
}


def activation(name: str) -> nn.Module:
    """A fresh activation module by name (``leaky_relu`` is the paper's)."""
    if name not in ACTIVATIONS:
        raise unknown("model.extractor.activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]()


class MLP(nn.Module):
    """Concept extractor: Linear → act → … → Linear (the paper's: d → 128 → 128 → out).

    Parameters
    ----------
    in_features : d
    hidden : widths of the hidden layers, e.g. ``(128, 128)``
    out_features : width of the output layer (no activation after it)
    act : activation name, see ``ACTIVATIONS``
    """

    def __init__(
        self, in_features: int, hidden: Sequence[int], out_features: int, act: str = "leaky_relu"
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), activation(act)]
            width = h
        layers.append(nn.Linear(width, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, d) float32 -> (B, out_features)."""
        return self.net(x)


class ConceptEmbedding(nn.Module):
    """CEM's concept embeddings (Espinosa Zarlenga et al., NeurIPS 2022, arXiv 2209.09056).

    Per concept i a Linear(h, 2m) + LeakyReLU gives the positive embedding ĉ⁺_i (first m units)
    and the negative one ĉ⁻_i (last m); one scoring layer shared across concepts gives
    p̂_i = σ(W·[ĉ⁺_i; ĉ⁻_i] + b). The k per-concept layers are stored as one Linear(h, k·2m),
    which is the same parameterisation computed in one matrix product.
    """

    def __init__(self, in_features: int, n_concepts: int, emb_size: int) -> None:
        super().__init__()
        self.k, self.m = n_concepts, emb_size
        self.generators = nn.Linear(in_features, n_concepts * 2 * emb_size)
        self.act = nn.LeakyReLU()
        self.scorer = nn.Linear(2 * emb_size, 1)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """h: (B, in_features) -> (pos (B, k, m), neg (B, k, m), logits (B, k))."""
        e = self.act(self.generators(h)).view(-1, self.k, 2 * self.m)
        logits = self.scorer(e).squeeze(-1)
        return e[..., : self.m], e[..., self.m :], logits
