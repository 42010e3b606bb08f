"""Exercise 3's checkers: the right JointCBM, loss and loop pass; typical wrong ones get their own
message and hint, in a sentence or two, never a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import torch
from exercise_checks import fails
from torch import nn
from torch.nn import functional as F

from cem.exercises import NotAnswered
from cem.exercises import check as chk

pytestmark = pytest.mark.usefixtures("one_thread")


# ---- the right answers ----


class JointCBM(nn.Module):
    def __init__(self, n_features: int, n_concepts: int, hidden: int = 128) -> None:
        super().__init__()
        self.extractor = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, n_concepts),
        )
        self.c2y = nn.Linear(n_concepts, 1)

    def bottleneck(self, c_logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(c_logits)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c_logits = self.extractor(x)
        return c_logits, self.c2y(self.bottleneck(c_logits))


def joint_loss(c_logits, y_logits, c, y, alpha):
    concept = F.binary_cross_entropy_with_logits(c_logits, c)
    return alpha * concept + F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.float())


def other_loss(c_logits, y_logits, c, y, alpha):
    """The same loss written another way: probabilities, then plain BCE, per concept."""
    p, q = torch.sigmoid(c_logits), torch.sigmoid(y_logits[:, 0])
    concept = torch.stack([F.binary_cross_entropy(p[:, i], c[:, i]) for i in range(c.shape[1])])
    return alpha * concept.mean() + F.binary_cross_entropy(q, y.float())


def make_train(**bug: Any) -> Callable[..., Any]:
    """The right loop, or one with a typical mistake (see the keys below)."""

    def train_cbm(model, x, c, y, epochs, lr=0.01, alpha=1.0, batch_size=256, seed=0):
        generator = torch.Generator().manual_seed(seed)
        if bug.get("global_rng"):  # shuffles from torch's global generator, seeded: still right
            torch.manual_seed(seed + 1)
        if bug.get("lr_default"):
            lr = 1e-3
        if bug.get("no_alpha"):
            alpha = 1.0
        if bug.get("big_data_no_concepts") and len(x) > 1000:
            alpha = 0.0  # a loop right on the small probes, wrong on Trig itself
        if bug.get("full_batch"):
            batch_size = len(x)

        def make() -> torch.optim.Optimizer:
            if bug.get("sgd"):
                return torch.optim.SGD(model.parameters(), lr=lr)
            return torch.optim.Adam(model.parameters(), lr=lr)

        optimizer, losses = make(), []
        for _ in range(epochs):
            if bug.get("reset"):
                optimizer = make()
            if bug.get("global_rng"):
                order = torch.randperm(len(x))
            elif bug.get("no_shuffle"):
                order = torch.arange(len(x))
            else:
                order = torch.randperm(len(x), generator=generator)
            stop = len(x) - len(x) % batch_size if bug.get("drop_last") else len(x)
            total = 0.0
            for start in range(0, stop, batch_size):
                batch = order[start : start + batch_size]
                if bug.get("replacement"):
                    batch = torch.randint(0, len(x), (len(batch),), generator=generator)
                c_logits, y_logits = model(x[batch])
                loss = (other_loss if bug.get("other_loss") else joint_loss)(
                    c_logits, y_logits, c[batch], y[batch], alpha
                )
                if not bug.get("no_zero_grad"):
                    optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            losses.append(total if bug.get("sum_loss") else total / len(x))
        if bug.get("returns_none"):
            return None
        if bug.get("one_loss"):
            return losses[-1:]
        return losses

    return train_cbm


# ---- task 1: forward ----


def test_the_right_module_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.cbm_forward(JointCBM) is True
    assert capsys.readouterr().out.startswith("✓ cbm_forward:")


class Placeholder(JointCBM):
    def __init__(self, n_features: int, n_concepts: int) -> None:
        nn.Module.__init__(self)
        self.extractor = ...
        self.c2y = ...


class EmptyForward(JointCBM):
    def forward(self, x):
        c_logits = ...
        y_logits = ...
        return c_logits, y_logits


def test_placeholders_are_not_answered() -> None:
    fails(chk.cbm_forward, Placeholder, match="self.extractor. is still", kind=NotAnswered)
    fails(chk.cbm_forward, EmptyForward, match="placeholder", kind=NotAnswered)
    fails(chk.cbm_forward, ..., match="JointCBM. is still", kind=NotAnswered)


def test_an_instance_instead_of_the_class() -> None:
    fails(chk.cbm_forward, JointCBM(7, 3), match="pass the class itself")


class Renamed(JointCBM):
    def __init__(self, n_features: int, n_concepts: int) -> None:
        super().__init__(n_features, n_concepts)
        self.encoder = self.extractor
        del self.extractor


class TwoLayers(JointCBM):
    def __init__(self, n_features: int, n_concepts: int) -> None:
        super().__init__(n_features, n_concepts)
        self.extractor = nn.Sequential(
            nn.Linear(n_features, 128), nn.LeakyReLU(), nn.Linear(128, n_concepts)
        )


class HardCoded(JointCBM):
    def __init__(self, n_features: int, n_concepts: int) -> None:
        super().__init__(7, 3)


class TwoTaskLogits(JointCBM):
    def __init__(self, n_features: int, n_concepts: int) -> None:
        super().__init__(n_features, n_concepts)
        self.c2y = nn.Linear(n_concepts, 2)


class ExtraLayer(JointCBM):
    def __init__(self, n_features: int, n_concepts: int) -> None:
        super().__init__(n_features, n_concepts)
        self.norm = nn.LayerNorm(n_concepts)


def test_parts_missing_or_of_the_wrong_shape_are_named() -> None:
    fails(chk.cbm_forward, Renamed, match="no `self.extractor`")
    text = fails(chk.cbm_forward, TwoLayers, match="has 2 Linear layer")
    assert "Linear(7, 128), Linear(128, 128), Linear(128, 3)" in text
    fails(chk.cbm_forward, HardCoded, match=r"Linear\(7, 128\); expected Linear\(4, 128\)")
    assert "n_features" in fails(chk.cbm_forward, HardCoded, match="JointCBM\\(4, 2\\)")
    fails(chk.cbm_forward, TwoTaskLogits, match=r"Linear\(3, 2\); expected Linear\(3, 1\)")
    fails(chk.cbm_forward, ExtraLayer, match="parameters outside its parts.*norm")


class Probabilities(JointCBM):
    def forward(self, x):
        c_logits, y_logits = super().forward(x)
        return torch.sigmoid(c_logits), y_logits


class SigmoidTwice(JointCBM):
    def forward(self, x):
        c = torch.sigmoid(self.extractor(x))
        return c, self.c2y(torch.sigmoid(c))


class LogitBottleneck(JointCBM):
    def bottleneck(self, c_logits):
        return c_logits


class BoolBottleneck(JointCBM):
    def bottleneck(self, c_logits):
        return (torch.sigmoid(c_logits) > 0.5).float()


class TaskProbability(JointCBM):
    def forward(self, x):
        c_logits, y_logits = super().forward(x)
        return c_logits, torch.sigmoid(y_logits)


class Squeezed(JointCBM):
    def forward(self, x):
        c_logits, y_logits = super().forward(x)
        return c_logits, y_logits.squeeze(1)


class Swapped(JointCBM):
    def forward(self, x):
        c_logits, y_logits = super().forward(x)
        return y_logits, c_logits


def _with_activation(act: type[nn.Module] | None, after_last: bool = False) -> type[JointCBM]:
    class Variant(JointCBM):
        def __init__(self, n_features: int, n_concepts: int) -> None:
            super().__init__(n_features, n_concepts)
            a = (lambda: act()) if act else nn.Identity
            layers = [nn.Linear(n_features, 128), a(), nn.Linear(128, 128), a()]
            layers += [nn.Linear(128, n_concepts)] + ([nn.LeakyReLU()] if after_last else [])
            self.extractor = nn.Sequential(*layers)

    return Variant


@pytest.mark.parametrize(
    ("cls", "problem", "hint"),
    [
        (Probabilities, "c_logits are probabilities", "raw output"),
        (SigmoidTwice, "sigmoid twice", "once"),
        (LogitBottleneck, "c2y reads the concept logits", r"torch.sigmoid\(c_logits\)"),
        (BoolBottleneck, "Bool CBM", "Sigmoid CBM"),
        (TaskProbability, "y_logits are probabilities", "raw output"),
        (Squeezed, r"shape \(32,\); expected \(32, 1\)", "without squeezing"),
        (Swapped, r"returned \(y_logits, c_logits\)", ""),
        (_with_activation(nn.ReLU), "ReLU", "LeakyReLU"),
        (_with_activation(None), "no activation", "LeakyReLU"),
        (_with_activation(nn.LeakyReLU, after_last=True), "after its last Linear", "raw output"),
    ],
)
def test_typical_forward_mistakes_get_their_hint(cls: type, problem: str, hint: str) -> None:
    text = fails(chk.cbm_forward, cls, match=problem)
    assert re.search(hint, text), text


class Crashes(JointCBM):
    def forward(self, x):
        c_logits = self.extractor(x)
        return c_logits, self.c2y(torch.sigmoid(c_logits.T))


def test_an_error_inside_the_students_forward_is_one_plain_message() -> None:
    text = fails(chk.cbm_forward, Crashes, match="forward on a batch of 32 raised RuntimeError")
    assert "test_exercises_cbm_scratch.py, line" in text and "c_logits.T" in text


# ---- task 2: the loss ----


def test_the_right_loss_passes() -> None:
    assert chk.cbm_loss(joint_loss) is True


def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target)


@pytest.mark.parametrize(
    ("loss", "problem"),
    [
        (lambda cl, yl, c, y, a: _bce(cl, c) + _bce(yl.squeeze(1), y.float()), "ignores alpha"),
        (
            lambda cl, yl, c, y, a: _bce(cl, c) + a * _bce(yl.squeeze(1), y.float()),
            "alpha multiplies the task",
        ),
        (lambda cl, yl, c, y, a: a * _bce(cl, c) + F.cross_entropy(yl, y), "one logit per class"),
        (lambda cl, yl, c, y, a: a * _bce(cl, c), "task term is missing"),
        (lambda cl, yl, c, y, a: _bce(yl.squeeze(1), y.float()), "concept term is missing"),
        (
            lambda cl, yl, c, y, a: (
                a * _bce(torch.sigmoid(cl), c) + _bce(torch.sigmoid(yl.squeeze(1)), y.float())
            ),
            "sigmoid is applied twice",
        ),
        (
            lambda cl, yl, c, y, a: (
                a * F.binary_cross_entropy_with_logits(cl, c, reduction="sum")
                + F.binary_cross_entropy_with_logits(yl.squeeze(1), y.float(), reduction="sum")
            ),
            "sums over the batch",
        ),
        (
            lambda cl, yl, c, y, a: a * _bce(cl, c).item() + _bce(yl.squeeze(1), y.float()).item(),
            "returned float",
        ),
        (
            lambda cl, yl, c, y, a: (a * _bce(cl, c) + _bce(yl.squeeze(1), y.float())).detach(),
            "cut off from the graph",
        ),
        (lambda cl, yl, c, y, a: a * _bce(cl, c) + _bce(yl.squeeze(1), y), r"y\.float\(\)"),
        (lambda cl, yl, c, y, a: a * _bce(cl, c) + _bce(yl, y.float()), r"squeeze\(1\)"),
    ],
)
def test_typical_loss_mistakes_get_their_hint(loss: Callable[..., Any], problem: str) -> None:
    fails(chk.cbm_loss, loss, match=problem)


def test_an_unwritten_loss_is_not_answered() -> None:
    def joint_loss(c_logits, y_logits, c, y, alpha): ...

    fails(chk.cbm_loss, joint_loss, match="returned None", kind=NotAnswered)
    fails(chk.cbm_loss, 3.0, match="pass the function itself")


# ---- task 3: the training loop ----


def test_the_right_loop_passes_and_matches_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.cbm_training(JointCBM, make_train()) is True
    out = capsys.readouterr().out
    assert out.startswith("✓ cbm_training: after 30 epochs on Trig")


def test_a_right_loop_that_shuffles_with_another_generator_still_passes() -> None:
    assert chk.cbm_training(JointCBM, make_train(global_rng=True)) is True


def test_a_right_loop_with_the_loss_written_another_way_still_passes() -> None:
    assert chk.cbm_loss(other_loss) is True
    assert chk.cbm_training(JointCBM, make_train(other_loss=True)) is True


def test_an_unwritten_loop_is_not_answered() -> None:
    def train_cbm(model, x, c, y, epochs, lr=0.01, alpha=1.0, batch_size=256, seed=0):
        losses: list[float] = []
        ...
        return losses

    fails(chk.cbm_training, JointCBM, train_cbm, match="changed no weight", kind=NotAnswered)
    fails(chk.cbm_training, JointCBM, ..., match="train_cbm. is still", kind=NotAnswered)


@pytest.mark.parametrize(
    ("bug", "problem"),
    [
        ("no_zero_grad", "gradients add up"),
        ("reset", "new optimiser every epoch"),
        ("no_alpha", "ignores alpha"),
        ("lr_default", "ignores lr"),
        ("sgd", "uses SGD"),
        ("full_batch", "batches of up to 70 samples"),
        ("drop_last", "skips 6 of the 70 samples"),
        ("replacement", "used twice and others not at all"),
        ("no_shuffle", "in the data's order"),
        ("returns_none", "returned None"),
        ("one_loss", "returned 1 losses for 2 epochs"),
        ("sum_loss", "steps are right, but your first epoch's loss"),
    ],
)
def test_typical_loop_mistakes_get_their_hint(bug: str, problem: str) -> None:
    fails(chk.cbm_training, JointCBM, make_train(**{bug: True}), match=problem)


def test_a_loop_that_ignores_its_seed_is_caught() -> None:
    def train_cbm(model, x, c, y, epochs, lr=0.01, alpha=1.0, batch_size=256, seed=0):
        return make_train()(model, x, c, y, epochs, lr, alpha, batch_size, 0)

    fails(chk.cbm_training, JointCBM, train_cbm, match="ignores `seed`")


def test_accuracy_far_from_the_librarys_fails_with_both_numbers() -> None:
    text = fails(chk.cbm_training, JointCBM, make_train(big_data_no_concepts=True), match="Trig")
    assert text.count("%") == 4
