"""Checkers of exercise 3: a joint Concept Bottleneck Model (Koh et al., ICML 2020,
arXiv 2007.04612) written in plain torch, against the library's joint Sigmoid CBM.

The student's class is ``JointCBM(n_features, n_concepts)`` with two parts, ``self.extractor``
(Linear(d, 128) → LeakyReLU → Linear(128, 128) → LeakyReLU → Linear(128, k)) and ``self.c2y``
(Linear(k, 1)), and ``forward(x) -> (c_logits (B, k), y_logits (B, 1))``. How the checks compare
it with the library is in :mod:`cem.exercises.scratch`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cem.exercises.feedback import NotAnswered, fail, passed, require
from cem.exercises.scratch import (
    STEP_TOL,
    CallLog,
    Known,
    Tensor,
    accuracies,
    call,
    check_batches,
    close,
    copy_layers,
    explained,
    gap,
    head,
    instantiate,
    kind,
    library_module,
    library_outputs,
    linears,
    match,
    module_part,
    only_parts,
    reference_train,
    run_forward,
    seeded,
    train_student,
    trig,
)
from cem.models.base import ConceptOutput
from cem.models.cbm import ConceptBottleneckModel
from cem.models.lightning import ConceptLightningModule

__all__ = ["cbm_forward", "cbm_loss", "cbm_training"]

OWNER = "JointCBM"
PARTS = ("extractor", "c2y")
MODEL: dict[str, Any] = {"name": "cbm_sigmoid"}  # the library's joint CBM, Sigmoid bottleneck
# Trig's sizes, then others: a hard-coded 7 or 3 in the student's class shows up in the second.
SIZES: tuple[tuple[int, int], ...] = ((7, 3), (4, 2))
EXTRACTOR = "Linear(d, 128) → LeakyReLU → Linear(128, 128) → LeakyReLU → Linear(128, k)"

# The training check: Trig, the paper's optimiser settings, 30 epochs (~0.3 s a run). Runs of a
# correct loop that only shuffles differently land within ~2 points (task) and ~1 point
# (concepts) of each other after 30 epochs; the margins leave twice that.
LR, BATCH, EPOCHS = 0.01, 256, 30
TASK_MARGIN, CONCEPT_MARGIN = 0.05, 0.03
# The exact probe: a few full-batch steps (no shuffling involved) on the first rows of Trig.
PROBE_ROWS, PROBE_EPOCHS, PROBE_ALPHA = 64, 3, 2.0
BATCH_ROWS, BATCH_SIZE, BATCH_EPOCHS = 70, 16, 2  # 70 = 4 full batches of 16 and one of 6


# ---- task 1: the module and its forward pass ----


def load(what: str, model: nn.Module, net: ConceptBottleneckModel, label: str, again: bool) -> None:
    """Copy the library CBM's weights into the student's ``extractor`` and ``c2y``."""
    hint = (
        f"use n_features and n_concepts rather than fixed numbers: the checker also builds {label}."
        if again
        else f"the extractor is {EXTRACTOR}."
    )
    extractor = module_part(what, model, "extractor", OWNER)
    c2y = module_part(what, model, "c2y", OWNER)
    src = linears(net.extractor)
    copy_layers(what, f"`self.extractor` of {label}", linears(extractor), src, hint)
    copy_layers(
        what,
        f"`self.c2y` of {label}",
        linears(c2y),
        [net.c2y],
        "c2y maps the k concept probabilities to one task logit: nn.Linear(n_concepts, 1).",
    )
    only_parts(what, model, PARTS, OWNER)


def _extractor(
    net: ConceptBottleneckModel, x: Tensor, act: Any, after_last: bool = False
) -> Tensor:
    """The library extractor's layers with activation ``act`` (and one after the last layer)."""
    layers = linears(net.extractor)
    h = x
    for i, layer in enumerate(layers):
        h = layer(h)
        if i < len(layers) - 1 or after_last:
            h = act(h)
    return h


def _diagnose_forward(
    what: str, net: ConceptBottleneckModel, x: Tensor, c: Tensor, y: Tensor, label: str
) -> None:
    """Compare the student's outputs with the library's (same weights); fail with the mistake."""
    with torch.no_grad():
        ref_c = net.extractor(x)
        ref_y = net.c2y(torch.sigmoid(ref_c))
        if not close(c, ref_c):
            if close(c, torch.sigmoid(ref_c)):
                if close(y, net.c2y(torch.sigmoid(torch.sigmoid(ref_c)))):
                    fail(
                        what,
                        "your forward applies the sigmoid twice: it returns probabilities as "
                        "c_logits, and c2y reads the sigmoid of those.",
                        "keep c_logits = self.extractor(x) (logits) and apply torch.sigmoid once, "
                        "to feed c2y.",
                    )
                fail(
                    what,
                    "c_logits are probabilities (a sigmoid of the extractor's output), not logits.",
                    "return the extractor's raw output as c_logits: the loss applies the sigmoid "
                    "itself (binary_cross_entropy_with_logits).",
                )
            found = match(
                c,
                [
                    (
                        lambda: _extractor(net, x, torch.relu),
                        "your extractor uses ReLU between its layers; the paper's uses LeakyReLU.",
                        "nn.LeakyReLU() after the first and the second Linear layer.",
                    ),
                    (
                        lambda: _extractor(net, x, lambda t: t),
                        "your extractor has no activation between its Linear layers.",
                        "nn.LeakyReLU() after the first and the second Linear layer.",
                    ),
                    (
                        lambda: _extractor(net, x, F.leaky_relu, after_last=True),
                        "your extractor has an activation after its last Linear layer.",
                        "the concept logits are the last layer's raw output, any real number.",
                    ),
                ],
            )
            problem, hint = found or (
                f"c_logits of {label} differ from the library's with the same weights (largest "
                f"difference {gap(c, ref_c):.3g}).",
                f"c_logits = self.extractor(x), with the extractor {EXTRACTOR}.",
            )
            fail(what, problem, hint)
        if close(y, ref_y):
            return
        found = match(
            y,
            [
                (
                    lambda: net.c2y(ref_c),
                    "c2y reads the concept logits.",
                    "the Sigmoid CBM's bottleneck is the concept probabilities: "
                    "self.c2y(torch.sigmoid(c_logits)).",
                ),
                (
                    lambda: net.c2y(torch.sigmoid(torch.sigmoid(ref_c))),
                    "the sigmoid is applied twice before c2y.",
                    "c2y reads torch.sigmoid(c_logits), once.",
                ),
                (
                    lambda: torch.sigmoid(ref_y),
                    "y_logits are probabilities (a sigmoid after c2y), not logits.",
                    "return c2y's raw output: the loss applies the sigmoid itself.",
                ),
                (
                    lambda: net.c2y((torch.sigmoid(ref_c) > 0.5).float()),
                    "c2y reads hard 0/1 concepts: that is the Bool CBM.",
                    "this exercise builds the Sigmoid CBM: c2y reads torch.sigmoid(c_logits).",
                ),
            ],
        )
        problem, hint = found or (
            f"c_logits are right, but y_logits of {label} differ from the library's (largest "
            f"difference {gap(y, ref_y):.3g}).",
            "y_logits = self.c2y(torch.sigmoid(c_logits)).",
        )
        fail(what, problem, hint)


def cbm_forward(cls: Any) -> bool:
    """Task 1: the student's ``JointCBM`` class gives the library's outputs with its weights.

    Builds ``JointCBM(7, 3)`` (Trig) and ``JointCBM(4, 2)``, copies the library CBM's weights of
    the same sizes into ``extractor`` and ``c2y``, and compares ``forward(x)`` on a batch of 32
    with the library's concept and task logits (to 1e-5).
    """
    what = "cbm_forward"
    for i, (d, k) in enumerate(SIZES):
        label = f"{OWNER}({d}, {k})"
        model = instantiate(what, cls, OWNER, d, k)
        net = library_module(MODEL, d, k).net
        load(what, model, net, label, again=i > 0)
        x = 2 * torch.randn(32, d, generator=torch.Generator().manual_seed(i))
        c, y = run_forward(what, model, (x,), k)
        _diagnose_forward(what, net, x, c, y, label)
    return passed(
        what,
        "with the library's weights your JointCBM gives the library's concept and task logits.",
    )


# ---- task 2: the joint loss ----

LOSS_ALPHAS = (0.5, 2.0)  # not 1: a loss that forgets α must show it


def _loss_case(seed: int, n: int = 16, k: int = 3) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """c_logits (n, k), y_logits (n, 1), c (n, k) float 0/1, y (n,) int64: the data module's
    dtypes."""
    g = torch.Generator().manual_seed(seed)
    return (
        2 * torch.randn(n, k, generator=g),
        2 * torch.randn(n, 1, generator=g),
        torch.randint(0, 2, (n, k), generator=g).float(),
        torch.randint(0, 2, (n,), generator=g),
    )


def library_loss(c_logits: Tensor, y_logits: Tensor, c: Tensor, y: Tensor, alpha: float) -> float:
    """The library's joint loss: ``ConceptLightningModule.loss`` with concept_loss_weight α."""
    module = ConceptLightningModule({**MODEL, "concept_loss_weight": alpha}, 2, c.shape[1])
    return float(module.loss(ConceptOutput(y_logits, c_logits, None), c, y))


_LOSS_ERRORS: tuple[Known, ...] = (
    (
        "out of bounds",
        "",
        "F.cross_entropy wants one logit per class, and y_logits has a single column: for a "
        "binary task use F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.float()).",
    ),
    (
        "Long",
        "",
        "y holds int64 labels (0/1), as the library's data module gives them; BCE wants float "
        "targets: y.float().",
    ),
    (
        "size",
        "",
        "y_logits is (B, 1) and y is (B,): squeeze y_logits (y_logits.squeeze(1)) before the task "
        "BCE.",
    ),
)


def _student_loss(what: str, fn: Any, case: tuple[Tensor, ...], alpha: float) -> float:
    """The student's loss on ``case``, checked to be a scalar tensor on the autograd graph."""
    c_logits, y_logits, c, y = (t.clone() for t in case)
    c_logits.requires_grad_(True)
    y_logits.requires_grad_(True)
    with explained(what, _LOSS_ERRORS):
        out = call(what, "joint_loss on a batch of 16", fn, c_logits, y_logits, c, y, alpha)
    if out is None:
        raise NotAnswered(what, problem="`joint_loss` returned None: is its body still `...`?")
    if out is Ellipsis:
        raise NotAnswered(what, "joint_loss")
    if not isinstance(out, Tensor):
        fail(
            what,
            f"joint_loss returned {kind(out)}; return the loss tensor.",
            "no .item() or float(): the training loop calls loss.backward() on it.",
        )
    if out.numel() != 1:
        fail(
            what,
            f"joint_loss returned a tensor of shape {tuple(out.shape)}; expected one number.",
            "average the BCE over samples (and concepts): the default reduction='mean'.",
        )
    if out.grad_fn is None:
        fail(
            what,
            "joint_loss returned a tensor cut off from the graph: no gradient can flow back.",
            "compute it from c_logits and y_logits with torch operations (no .detach(), .item() "
            "or torch.tensor(...)).",
        )
    return float(out.detach())


def _loss_variants(case: tuple[Tensor, ...], alpha: float) -> list[tuple[float, str, str]]:
    """The loss computed in typical wrong ways: (value, problem, hint)."""
    c_logits, y_logits, c, y = case
    bce = F.binary_cross_entropy_with_logits
    concept, task = bce(c_logits, c), bce(y_logits.squeeze(1), y.float())
    sum_c = bce(c_logits, c, reduction="sum")
    sum_t = bce(y_logits.squeeze(1), y.float(), reduction="sum")
    twice = bce(torch.sigmoid(c_logits), c), bce(torch.sigmoid(y_logits.squeeze(1)), y.float())
    sig_hint = (
        "the inputs are logits, and binary_cross_entropy_with_logits applies the sigmoid itself: "
        "do not apply torch.sigmoid first."
    )
    k = c.shape[1]
    return [
        (
            float(concept + task),
            "the loss ignores alpha.",
            "multiply the concept term by alpha: alpha * concept_bce + task_bce.",
        ),
        (
            float(concept + alpha * task),
            "alpha multiplies the task term.",
            "alpha weighs the concept loss: alpha * concept_bce + task_bce.",
        ),
        (
            float(alpha * concept),
            "the task term is missing (or always 0).",
            "add the task BCE: F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.float()).",
        ),
        (
            float(task),
            "the concept term is missing.",
            "add alpha * F.binary_cross_entropy_with_logits(c_logits, c).",
        ),
        (float(alpha * twice[0] + twice[1]), "the sigmoid is applied twice.", sig_hint),
        (float(alpha * twice[0] + task), "the concept term applies the sigmoid twice.", sig_hint),
        (float(alpha * concept + twice[1]), "the task term applies the sigmoid twice.", sig_hint),
        (
            float(alpha * sum_c + sum_t),
            "the loss sums over the batch instead of averaging.",
            "use the mean (reduction='mean', the default), so that the loss does not grow with "
            "the batch size.",
        ),
        (
            float(alpha * k * concept + task),
            "the concept term sums over the concepts instead of averaging.",
            "one BCE over the whole (B, k) matrix, averaged (the default).",
        ),
    ]


def cbm_loss(fn: Any) -> bool:
    """Task 2: ``joint_loss(c_logits (B, k), y_logits (B, 1), c (B, k) float, y (B,) int64,
    alpha) -> 0-dim tensor`` equals the library's joint loss α·BCE(ĉ, c) + BCE(ŷ, y) (both from
    logits, averaged), for two values of α, and can be back-propagated."""
    what = "cbm_loss"
    require(what, "joint_loss", fn)
    if not callable(fn):
        fail(what, "pass the function itself: check.cbm_loss(joint_loss).")
    for i, alpha in enumerate(LOSS_ALPHAS):
        case = _loss_case(i)
        got = _student_loss(what, fn, case, alpha)
        want = library_loss(*case, alpha)
        if abs(got - want) <= 1e-5 * max(1.0, abs(want)):
            continue
        for value, problem, hint in _loss_variants(case, alpha):
            if abs(got - value) <= 1e-5 * max(1.0, abs(value)):
                fail(what, f"with alpha = {alpha}: {problem}", hint)
        fail(
            what,
            f"with alpha = {alpha} your loss is {got:.5f}; the library's is {want:.5f}.",
            "alpha * F.binary_cross_entropy_with_logits(c_logits, c) + "
            "F.binary_cross_entropy_with_logits(y_logits.squeeze(1), y.float()).",
        )
    return passed(what, "your joint loss equals the library's, gradient included.")


# ---- task 3: the training loop ----


def _pair(
    what: str, cls: Any, d: int, k: int, alpha: float = 1.0
) -> tuple[nn.Module, ConceptLightningModule]:
    """The student's model holding the library's initial weights, and the library's module
    (network, loss with concept_loss_weight α) that trains beside it."""
    module = library_module({**MODEL, "concept_loss_weight": alpha}, d, k)
    model = instantiate(what, cls, OWNER, d, k)
    load(what, model, module.net, f"{OWNER}({d}, {k})", again=False)
    return model, module


def _check_steps(what: str, cls: Any, fn: Any) -> None:
    """A few full-batch steps: the student's loop must move the weights as the library's loss
    and Adam do (no shuffling involved), and report the right first-epoch loss."""
    data = head(trig("train"), PROBE_ROWS)
    x = data[0]
    args = (*data, PROBE_EPOCHS, LR, PROBE_ALPHA, PROBE_ROWS, 0)
    model, module = _pair(what, cls, 7, 3, PROBE_ALPHA)
    losses = train_student(what, fn, "train_cbm", model, args, PROBE_EPOCHS)
    c, y = run_forward(what, model, (x,), 3)

    def trained(alpha: float = PROBE_ALPHA, lr: float = LR, **how: Any) -> tuple[Tensor, Tensor]:
        ref = library_module({**MODEL, "concept_loss_weight": alpha}, 7, 3)
        with seeded(0):
            reference_train(ref, data, PROBE_EPOCHS, lr, PROBE_ROWS, 0, **how)
        return library_outputs(ref.net, x)

    with seeded(0):
        ref_losses = reference_train(module, data, PROBE_EPOCHS, LR, PROBE_ROWS, 0)
    ref_c, ref_y = library_outputs(module.net, x)
    if close(c, ref_c, STEP_TOL) and close(y, ref_y, STEP_TOL):
        if abs(losses[0] - ref_losses[0]) > 1e-4 * max(1.0, ref_losses[0]):
            fail(
                what,
                f"the steps are right, but your first epoch's loss is {losses[0]:.5f}; the joint "
                f"loss at the starting weights is {ref_losses[0]:.5f}.",
                "append the epoch's mean loss: add loss.item() * len(batch) over the batches, "
                "divide by n.",
            )
        return
    variants = [
        (
            lambda: trained(zero_grad=False),
            "the gradients add up from step to step.",
            "call optimizer.zero_grad() in every step, before loss.backward().",
        ),
        (
            lambda: trained(reset=True),
            "your loop makes a new optimiser every epoch.",
            "make the Adam optimiser once, before the loop: a new one forgets its running "
            "averages of the gradients.",
        ),
        (
            lambda: trained(alpha=1.0),
            f"your loop ignores alpha: with alpha = {PROBE_ALPHA} it trains as with alpha = 1.",
            "pass alpha on to joint_loss.",
        ),
        (
            lambda: trained(lr=1e-3),
            "your optimiser ignores lr (it runs with Adam's default, 0.001).",
            "torch.optim.Adam(model.parameters(), lr=lr).",
        ),
        (
            lambda: trained(optimizer="sgd"),
            "your loop uses SGD; the library trains with Adam.",
            "torch.optim.Adam(model.parameters(), lr=lr).",
        ),
    ]
    for compute, problem, hint in variants:
        vc, vy = compute()
        if close(c, vc, STEP_TOL) and close(y, vy, STEP_TOL):
            fail(what, f"after {PROBE_EPOCHS} full-batch steps: {problem}", hint)
    fail(
        what,
        f"after {PROBE_EPOCHS} full-batch steps (batch_size = n) your model differs from the "
        f"library's trained the same way (largest difference {gap(y, ref_y):.3g} in y_logits).",
        "each step: forward on the batch, joint_loss(..., alpha), optimizer.zero_grad(), "
        "loss.backward(), optimizer.step(), with one Adam(model.parameters(), lr=lr) made before "
        "the loop.",
    )


def _check_batch_order(what: str, cls: Any, fn: Any) -> None:
    """Minibatches: at most batch_size samples, each sample once per epoch, shuffled, and the
    same batches for the same seed only."""
    data = head(trig("train"), BATCH_ROWS)
    orders = []
    for seed in (3, 3, 4):
        model, _ = _pair(what, cls, 7, 3)
        args = (*data, BATCH_EPOCHS, LR, 1.0, BATCH_SIZE, seed)
        with CallLog(model) as log:
            train_student(what, fn, "train_cbm", model, args, BATCH_EPOCHS)
        check_batches(what, log, data[0][:, 0], BATCH_EPOCHS, BATCH_SIZE)
        orders.append(torch.cat(log.keys))
    if not torch.equal(orders[0], orders[1]):
        fail(
            what,
            "two runs with the same seed used different batches.",
            "draw every permutation from `generator` (torch.randperm(n, generator=generator)).",
        )
    if torch.equal(orders[0], orders[2]):
        fail(
            what,
            "runs with different seeds used the same batches: the loop ignores `seed`.",
            "draw every permutation from `generator`, which the skeleton seeds with `seed`.",
        )


def train_on_trig(
    what: str, cls: Any, fn: Any, epochs: int = EPOCHS
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The student's loop and the reference loop on Trig from the same initial weights:
    ((task, concept) test accuracies of the student's model, those of the library's)."""
    train, test = trig("train"), trig("test")
    model, module = _pair(what, cls, 7, 3)
    train_student(what, fn, "train_cbm", model, (*train, epochs, LR, 1.0, BATCH, 0), epochs)
    with seeded(0):
        reference_train(module, train, epochs, LR, BATCH, 0)
    mine = accuracies(*run_forward(what, model, (test[0],), 3), *test[1:])
    lib = accuracies(*library_outputs(module.net, test[0]), *test[1:])
    return mine, lib


def cbm_training(cls: Any, fn: Any) -> bool:
    """Task 3: ``train_cbm(model, x, c, y, epochs, lr, alpha, batch_size, seed) -> list[float]``.

    1. on 70 samples with batches of 16: every sample once per epoch, batches of at most 16,
       shuffled, and the same batches for the same seed only;
    2. three full-batch steps from the library's initial weights give the library's weights
       (loss, Adam, zero_grad, α and lr used), and the first epoch's loss is the joint loss;
    3. 30 epochs on Trig from the library's initial weights: test task and concept accuracy
       within 5 and 3 points of the library's trained with the same settings.
    """
    what = "cbm_training"
    require(what, OWNER, cls)
    require(what, "train_cbm", fn)
    _check_batch_order(what, cls, fn)
    _check_steps(what, cls, fn)
    (task, concept), (lib_task, lib_concept) = train_on_trig(what, cls, fn)
    summary = (
        f"after {EPOCHS} epochs on Trig your CBM reaches {task:.1%} task / {concept:.1%} concept "
        f"accuracy (test); the library's, from the same start: {lib_task:.1%} / {lib_concept:.1%}."
    )
    if abs(task - lib_task) > TASK_MARGIN or abs(concept - lib_concept) > CONCEPT_MARGIN:
        fail(
            what,
            summary,
            "the exact steps passed, so look at how a batch is made: x, c and y must be indexed "
            "with the same batch indices.",
        )
    return passed(what, summary)
