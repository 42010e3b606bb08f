"""Exercise 4's checkers: the right CEM, RandInt mask and loop pass; typical wrong ones get their
own message and hint, in a sentence or two, never a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from exercise_checks import fails
from torch import nn
from torch.nn import functional as F

from cem.exercises import NotAnswered
from cem.exercises import check as chk

pytestmark = pytest.mark.usefixtures("one_thread")


# ---- the right answers, built from pieces that the wrong ones replace ----


class CEM(nn.Module):
    def __init__(self, n_features: int, n_concepts: int, emb_size: int, hidden: int = 128) -> None:
        super().__init__()
        self.m = emb_size
        self.extractor = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
        )
        self.concept_layers = nn.ModuleList(
            nn.Linear(hidden, 2 * emb_size) for _ in range(n_concepts)
        )
        self.scorer = nn.Linear(2 * emb_size, 1)
        self.c2y = nn.Linear(n_concepts * emb_size, 1)

    def embeddings(self, h: torch.Tensor) -> torch.Tensor:
        return torch.stack([F.leaky_relu(f(h)) for f in self.concept_layers], dim=1)

    def halves(self, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return e[..., : self.m], e[..., self.m :]

    def score(self, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        return self.scorer(torch.cat([pos, neg], dim=-1)).squeeze(-1)

    def intervene(self, p, logits, c_true, mask):
        return torch.where(mask, c_true, p)

    def mix(self, p: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        p = p.unsqueeze(-1)
        return p * pos + (1 - p) * neg

    def head(self, mixed: torch.Tensor) -> torch.Tensor:
        return self.c2y(mixed.flatten(1))

    def forward(self, x, c_true=None, mask=None):
        pos, neg = self.halves(self.embeddings(self.extractor(x)))
        c_logits = self.score(pos, neg)
        p = torch.sigmoid(c_logits)
        if mask is not None:
            p = self.intervene(p, c_logits, c_true, mask)
        return c_logits, self.head(self.mix(p, pos, neg))


class LibraryLayout(CEM):
    """The library's storage: one Linear(h, k·2m) for all concepts."""

    def __init__(self, n_features: int, n_concepts: int, emb_size: int) -> None:
        super().__init__(n_features, n_concepts, emb_size)
        self.k = n_concepts
        self.concept_layers = nn.Linear(128, n_concepts * 2 * emb_size)

    def embeddings(self, h):
        return F.leaky_relu(self.concept_layers(h)).view(len(h), self.k, 2 * self.m)


class SequentialLayers(CEM):
    """Each concept's layer with its activation inside: nn.Sequential(Linear, LeakyReLU)."""

    def __init__(self, n_features: int, n_concepts: int, emb_size: int) -> None:
        super().__init__(n_features, n_concepts, emb_size)
        self.concept_layers = nn.ModuleList(
            nn.Sequential(nn.Linear(128, 2 * emb_size), nn.LeakyReLU()) for _ in range(n_concepts)
        )

    def embeddings(self, h):
        return torch.stack([f(h) for f in self.concept_layers], dim=1)


def randint_mask(c: torch.Tensor, p: float) -> torch.Tensor:
    return torch.rand(c.shape) < p


def joint_loss(c_logits, y_logits, c, y, alpha):
    concept = F.binary_cross_entropy_with_logits(c_logits, c)
    return alpha * concept + F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.float())


def make_train(step: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """The notebook's loop; ``step(model, x, c, p_int)`` is the student's part (default: right)."""

    def right(model, x, c, p_int):
        return model(x, c, randint_mask(c, p_int))

    step = step or right

    def train_cem(
        model, x, c, y, epochs, lr=0.01, alpha=1.0, batch_size=256, seed=0, p_int=0.25
    ) -> list[float]:
        generator = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        losses = []
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator)
            total = 0.0
            for start in range(0, len(x), batch_size):
                batch = order[start : start + batch_size]
                c_logits, y_logits = step(model, x[batch], c[batch], p_int)
                loss = joint_loss(c_logits, y_logits, c[batch], y[batch], alpha)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            losses.append(total / len(x))
        return losses

    return train_cem


# ---- task 1: the module ----


@pytest.mark.parametrize("cls", [CEM, LibraryLayout, SequentialLayers])
def test_the_right_module_passes_in_each_layout(
    cls: type, capsys: pytest.CaptureFixture[str]
) -> None:
    assert chk.cem_forward(cls) is True
    assert capsys.readouterr().out.startswith("✓ cem_forward:")


class Placeholder(CEM):
    def __init__(self, n_features: int, n_concepts: int, emb_size: int) -> None:
        nn.Module.__init__(self)
        self.extractor = CEM(n_features, n_concepts, emb_size).extractor
        self.concept_layers = ...
        self.scorer = ...
        self.c2y = ...


class EmptyForward(CEM):
    def forward(self, x, c_true=None, mask=None):
        h = self.extractor(x)
        e = ...
        pos, neg = ...
        return e, h


def test_placeholders_are_not_answered() -> None:
    fails(chk.cem_forward, Placeholder, match="self.concept_layers. is still", kind=NotAnswered)
    fails(chk.cem_forward, EmptyForward, match="placeholder", kind=NotAnswered)


class PythonList(CEM):
    def __init__(self, n_features: int, n_concepts: int, emb_size: int) -> None:
        right = CEM(n_features, n_concepts, emb_size)
        nn.Module.__init__(self)
        self.m = emb_size
        self.extractor, self.scorer, self.c2y = right.extractor, right.scorer, right.c2y
        self.concept_layers = list(right.concept_layers)


class ScorerPerConcept(CEM):
    def __init__(self, n_features: int, n_concepts: int, emb_size: int) -> None:
        super().__init__(n_features, n_concepts, emb_size)
        self.scorer = nn.ModuleList(nn.Linear(2 * emb_size, 1) for _ in range(n_concepts))


class ScorerWithKOutputs(CEM):
    def __init__(self, n_features: int, n_concepts: int, emb_size: int) -> None:
        super().__init__(n_features, n_concepts, emb_size)
        self.scorer = nn.Linear(2 * emb_size, n_concepts)


class OneEmbedding(CEM):
    def __init__(self, n_features: int, n_concepts: int, emb_size: int) -> None:
        super().__init__(n_features, n_concepts, emb_size)
        self.concept_layers = nn.ModuleList(nn.Linear(128, emb_size) for _ in range(n_concepts))


class HardCoded(CEM):
    def __init__(self, n_features: int, n_concepts: int, emb_size: int) -> None:
        super().__init__(7, 3, 16)


def test_parts_of_the_wrong_kind_or_shape_are_named() -> None:
    fails(chk.cem_forward, PythonList, match="Python list.*model.parameters")
    fails(chk.cem_forward, ScorerPerConcept, match="3 layers, one per concept.*\n.*ONE")
    fails(chk.cem_forward, ScorerWithKOutputs, match="one output per concept.*\n.*shared")
    fails(chk.cem_forward, OneEmbedding, match=r"concept layer 0 .* Linear\(128, 16\); expected ")
    text = fails(chk.cem_forward, HardCoded, match=r"CEM\(4, 2, 5\)")
    assert "n_features, n_concepts and emb_size" in text


class HalvesSwapped(CEM):
    def halves(self, e):
        pos, neg = super().halves(e)
        return neg, pos


class MixtureSwapped(CEM):
    def mix(self, p, pos, neg):
        return super().mix(p, neg, pos)


class MixtureOfLogits(CEM):
    def forward(self, x, c_true=None, mask=None):
        pos, neg = self.halves(self.embeddings(self.extractor(x)))
        c_logits = self.score(pos, neg)
        return c_logits, self.head(self.mix(c_logits, pos, neg))


class NoActivation(CEM):
    def embeddings(self, h):
        return torch.stack([f(h) for f in self.concept_layers], dim=1)


class Probabilities(CEM):
    def forward(self, x, c_true=None, mask=None):
        c_logits, y_logits = super().forward(x, c_true, mask)
        return torch.sigmoid(c_logits), y_logits


class Interleaved(CEM):
    def head(self, mixed):
        return self.c2y(mixed.transpose(1, 2).flatten(1))


class Squeezed(CEM):
    def forward(self, x, c_true=None, mask=None):
        c_logits, y_logits = super().forward(x, c_true, mask)
        return c_logits, y_logits.squeeze(1)


class IgnoresMask(CEM):
    def intervene(self, p, logits, c_true, mask):
        return p


class InterveneOnLogits(CEM):
    def intervene(self, p, logits, c_true, mask):
        return torch.sigmoid(torch.where(mask, c_true, logits))


class InvertedValues(CEM):
    def intervene(self, p, logits, c_true, mask):
        return torch.where(mask, 1 - c_true, p)


class InvertedMask(CEM):
    def intervene(self, p, logits, c_true, mask):
        return torch.where(~mask, c_true, p)


class LogitsAfterIntervention(CEM):
    def forward(self, x, c_true=None, mask=None):
        c_logits, y_logits = super().forward(x, c_true, mask)
        if mask is not None:
            c_logits = torch.where(mask, 10 * (2 * c_true - 1), c_logits)
        return c_logits, y_logits


class TruthOfAMask(CEM):
    def forward(self, x, c_true=None, mask=None):
        if mask:
            pass
        return super().forward(x, c_true, mask)


@pytest.mark.parametrize(
    ("cls", "problem", "hint"),
    [
        (HalvesSwapped, "halves are swapped", "FIRST emb_size"),
        (MixtureSwapped, "wrong way round", "positive embedding wins"),
        (MixtureOfLogits, "weighted by the logits", "sigmoid"),
        (NoActivation, "miss their LeakyReLU", "LeakyReLU"),
        (Probabilities, "c_logits are probabilities", "raw outputs"),
        (Interleaved, "interleaved", r"flatten\(1\)"),
        (Squeezed, r"shape \(32,\); expected \(32, 1\)", "without squeezing"),
        (IgnoresMask, "do not change", r"torch.where\(mask"),
        (InterveneOnLogits, "replaces the logits", "probabilities"),
        (InvertedValues, "1 − c_true", "true value"),
        (InvertedMask, "where the mask is False", r"torch.where\(mask, c_true, p\)"),
        (LogitsAfterIntervention, "c_logits change", "before the intervention"),
        (TruthOfAMask, "ambiguous", "is not None"),
    ],
)
def test_typical_forward_mistakes_get_their_hint(cls: type, problem: str, hint: str) -> None:
    text = fails(chk.cem_forward, cls, match=problem)
    assert re.search(hint, text), text


# ---- task 2: RandInt ----


def test_the_right_mask_passes_and_so_does_bernoulli() -> None:
    assert chk.randint_mask(randint_mask) is True
    assert chk.randint_mask(lambda c, p: torch.bernoulli(torch.full(c.shape, p)).bool()) is True


def _numpy_mask(c: torch.Tensor, p: float) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng().random(tuple(c.shape)) < p)


def _reseeded(c: torch.Tensor, p: float) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(c.shape) < p


@pytest.mark.parametrize(
    ("fn", "problem"),
    [
        (
            lambda c, p: (torch.rand(c.shape[1]) < p).expand(c.shape),
            "same mask: one draw per batch",
        ),
        (lambda c, p: (torch.rand(len(c), 1) < p).expand(c.shape), "one draw per sample"),
        (lambda c, p: torch.rand(c.shape) > p, "probability 1 − p"),
        (lambda c, p: torch.rand(c.shape) < 0.25, "ignores p"),
        (
            lambda c, p: (torch.rand(c.shape) < p).float(),
            "torch.float32 tensor; expected torch.bool",
        ),
        (
            lambda c, p: np.random.default_rng().random(tuple(c.shape)) < p,
            "expected a torch tensor",
        ),
        (_numpy_mask, "same torch.manual_seed"),
        (_reseeded, "two calls in a row gave the same mask"),
        (lambda c, p: c.bool(), "copies the concept values"),
        (lambda c, p: torch.rand(c.shape[1]) < p, r"shape \(3,\); expected \(5, 3\)"),
        (lambda c, p: torch.rand(c.shape) < p / 2, "expected about 25%"),
    ],
)
def test_typical_mask_mistakes_get_their_hint(fn: Callable[..., Any], problem: str) -> None:
    fails(chk.randint_mask, fn, match=problem)


def test_an_unwritten_mask_is_not_answered() -> None:
    def randint_mask(c, p): ...

    fails(chk.randint_mask, randint_mask, match="returned None", kind=NotAnswered)


# ---- task 3: training with RandInt ----


def test_the_right_loop_passes_and_matches_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.cem_training(CEM, make_train()) is True
    assert capsys.readouterr().out.startswith("✓ cem_training: after 10 epochs on Trig")


def test_a_right_loop_with_other_masks_and_batches_still_passes() -> None:
    def other(model, x, c, y, epochs, lr=0.01, alpha=1.0, batch_size=256, seed=0, p_int=0.25):
        torch.manual_seed(1)  # other masks; and other batches from another seed
        return make_train()(model, x, c, y, epochs, lr, alpha, batch_size, seed + 1, p_int)

    assert chk.cem_training(CEM, other) is True


def test_the_unfilled_lines_are_not_answered() -> None:
    def step(model, x, c, p_int):
        c_logits, y_logits = ...
        return c_logits, y_logits

    fails(chk.cem_training, CEM, make_train(step), match="placeholder", kind=NotAnswered)


class InPlace(CEM):
    def intervene(self, p, logits, c_true, mask):
        p[mask] = c_true[mask]
        return p


@pytest.mark.parametrize(
    ("cls", "step", "problem"),
    [
        (CEM, lambda model, x, c, p: model(x), "trains as if none were"),
        (CEM, lambda model, x, c, p: model(x, c, randint_mask(c, 1 - p)), "probability 1 − p_int"),
        (CEM, lambda model, x, c, p: model(x, c, randint_mask(c, 0.25)), "with p_int = 0 your"),
        (
            CEM,
            lambda model, x, c, p: model(x, c, randint_mask(c[:1], p).expand(c.shape)),
            "every sample of a batch the same mask",
        ),
        (InPlace, None, "writes in place"),
    ],
)
def test_typical_loop_mistakes_get_their_hint(
    cls: type, step: Callable[..., Any] | None, problem: str
) -> None:
    fails(chk.cem_training, cls, make_train(step), match=problem)
