"""What the from-scratch exercises (3: a joint CBM, 4: a CEM) share: building the student's
module, copying the library's weights into it part by part, reading its outputs, and training it
beside the library's network.

How a from-scratch model is checked
-----------------------------------
1. **Same weights, same outputs.** The checker builds the library's network of the same sizes
   (:func:`library_module`), copies its weights into the student's parts (the attribute names the
   skeleton fixes: ``extractor``, ``c2y``, …; a missing part or a layer of the wrong shape is
   named with the shape expected), runs both on one batch and compares the outputs to ``TOL``.
   Where they differ, the student's outputs are compared with the library's outputs computed in
   typical wrong ways (probabilities for logits, halves swapped, …) so that the message can say
   which mistake it is.
2. **Same start, same training.** A small probe watches the student loop's batches (every
   sample once per epoch, batches of at most ``batch_size``, reproducible from the seed:
   :func:`check_batches`, exercise 3, whose loop is the student's); a few full-batch steps, whose
   result does not depend on shuffling, must match the library's loss and Adam to ``STEP_TOL``;
   then the loop trains on Trig from the library's initial weights beside
   :func:`reference_train`, and the test accuracies must agree within a margin.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from cem.data import paper
from cem.exercises.feedback import (
    CheckFailed,
    NotAnswered,
    call_student,
    fail,
    is_placeholder,
    require,
    returned_none,
)
from cem.models.lightning import ConceptLightningModule

Tensor = torch.Tensor
Data = tuple[Tensor, Tensor, Tensor]

TOL = 1e-5  # the same weights on the same batch: outputs agree to float32 rounding
# After a few Adam steps: a loop that averages the same samples in another order moves the
# weights by ~1e-7 relative; every mistake the probes look for moves them by ~1e-3 or more.
STEP_TOL = 1e-4
_MISSING = object()


# ---- data and the library's side ----


@functools.lru_cache(maxsize=4)
def _paper_split(name: str, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = paper(name)[split]
    return s.x, s.c, s.y


def trig(split: str) -> Data:
    """Trig's paper split as the library's data module serves it: x (n, 7) float32,
    c (n, 3) float32, y (n,) int64 (fresh tensors: a student's loop may write into them)."""
    x, c, y = _paper_split("trig", split)
    return (
        torch.tensor(x, dtype=torch.float32),
        torch.tensor(c, dtype=torch.float32),
        torch.tensor(y, dtype=torch.int64),
    )


@contextmanager
def seeded(seed: int = 0) -> Iterator[None]:
    """Seed torch's global generator for the block, then restore the caller's state (a check
    never changes what the notebook's later cells draw)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def library_module(
    model: dict[str, Any], n_features: int, n_concepts: int, seed: int = 0
) -> ConceptLightningModule:
    """The library's training module (network, loss, RandInt) for a binary task, its network
    initialised from ``seed``."""
    with seeded(seed):
        return ConceptLightningModule(model, n_features, n_concepts, 1)


# ---- the student's module ----


def kind(value: Any) -> str:
    """A short description of a value for a message: its type, or a tensor's shape."""
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(getattr(value, "shape", None), tuple):  # a NumPy array, a pandas frame, …
        name = type(value).__name__
        return f"{'an' if name[0] in 'aeiou' else 'a'} {name} of shape {value.shape}"
    return " ".join(f"{type(value).__name__} {value!r}"[:80].split())


def instantiate(what: str, cls: Any, name: str, *args: int) -> nn.Module:
    """The student's ``name(*args)``, where ``cls`` should be their nn.Module class."""
    require(what, name, cls)
    if isinstance(cls, nn.Module):
        fail(what, f"pass the class itself, check.{what}({name}), not a model made from it.")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        fail(what, f"`{name}` should be a class derived from nn.Module, not {kind(cls)}.")
    call = f"{name}({', '.join(str(a) for a in args)})"
    return call_student(what, call, cls, *args)


def part(what: str, model: nn.Module, name: str, owner: str) -> Any:
    """The student's ``self.<name>``: missing → CheckFailed, still ``...`` → NotAnswered."""
    value = getattr(model, name, _MISSING)
    if value is _MISSING:
        fail(
            what,
            f"your {owner} has no `self.{name}`.",
            "keep the attribute names of the skeleton: the checker copies the library's weights "
            "into each part by its name.",
        )
    if is_placeholder(value):
        raise NotAnswered(what, f"self.{name}")
    return value


def module_part(what: str, model: nn.Module, name: str, owner: str) -> nn.Module:
    """:func:`part` that must be a torch module."""
    value = part(what, model, name, owner)
    if not isinstance(value, nn.Module):
        fail(what, f"`self.{name}` should be a torch module (e.g. nn.Linear), not {kind(value)}.")
    return value


def linears(module: nn.Module) -> list[nn.Linear]:
    """The nn.Linear layers inside ``module`` (itself included), in the order they were added."""
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def linear_name(layer: nn.Linear | torch.Size | tuple[int, ...]) -> str:
    """``Linear(in, out)`` of a layer or of a weight shape (out, in)."""
    out, inp = tuple(layer.weight.shape if isinstance(layer, nn.Linear) else layer)
    return f"Linear({inp}, {out})"


def copy_layers(
    what: str, where: str, dst: Sequence[nn.Linear], src: Sequence[nn.Linear], hint: str = ""
) -> None:
    """Copy the library's ``src`` layers into the student's ``dst`` layers (same count, shapes
    and biases), or say which layer differs from what was expected."""
    if len(dst) != len(src):
        have = ", ".join(linear_name(d) for d in dst) or "none"
        want = ", ".join(linear_name(s) for s in src)
        fail(
            what,
            f"{where} has {len(dst)} Linear layer(s) ({have}); expected {len(src)}: {want}.",
            hint,
        )
    for i, (d, s) in enumerate(zip(dst, src, strict=True), 1):
        label = where if len(src) == 1 else f"layer {i} of {where}"
        if d.weight.shape != s.weight.shape:
            fail(what, f"{label} is {linear_name(d)}; expected {linear_name(s)}.", hint)
        if d.bias is None:
            fail(what, f"{label} has no bias; expected {linear_name(s)} with a bias (the default).")
        with torch.no_grad():
            d.weight.copy_(s.weight)
            d.bias.copy_(s.bias)


def only_parts(what: str, model: nn.Module, parts: Sequence[str], owner: str) -> None:
    """Fail when the student's module has parameters outside the skeleton's parts (they would
    stay random, and the outputs could not match)."""
    extra = [n for n, _ in model.named_parameters() if n.split(".")[0] not in parts]
    if extra:
        names = ", ".join(f"`{n}`" for n in extra[:3])
        allowed = ", ".join(f"self.{p}" for p in parts)
        fail(
            what,
            f"your {owner} has parameters outside its parts ({allowed}): {names}.",
            "put every layer into one of the skeleton's parts.",
        )


# A known error inside the student's code: (text in its message, plainer problem or "" to keep
# the message, hint).
Known = tuple[str, str, str]


@contextmanager
def explained(what: str, known: Sequence[Known]) -> Iterator[None]:
    """Turn an error raised in the student's code (a :class:`CheckFailed` from :func:`call`)
    whose message holds a known text into that error's own problem and hint."""
    try:
        yield
    except NotAnswered:
        raise
    except CheckFailed as e:
        for needle, problem, hint in known:
            if needle in e.problem:
                fail(what, problem or e.problem, hint)
        raise


def call(what: str, description: str, fn: Callable[..., Any], *args: Any) -> Any:
    """:func:`call_student`, where an error about a ``...`` (an unfilled TODO line such as
    ``c_logits, y_logits = ...``) counts as a placeholder still in place."""
    try:
        return call_student(what, description, fn, *args)
    except NotAnswered:
        raise
    except CheckFailed as e:
        if "ellipsis" in e.problem:
            raise NotAnswered(
                what,
                problem=f"{description} met a `...` placeholder: fill in every line marked TODO",
            ) from None
        raise


def outputs(what: str, result: Any, n: int, k: int) -> tuple[Tensor, Tensor]:
    """The student's ``(c_logits (n, k), y_logits (n, 1))``, checked for type and shape."""
    if result is None:
        raise returned_none(what, "forward")
    seq = isinstance(result, (tuple, list))
    if result is Ellipsis or (seq and any(v is Ellipsis for v in result)):
        raise NotAnswered(
            what, problem="forward returned a `...` placeholder: fill in every line marked TODO"
        )
    if not (seq and len(result) == 2):
        fail(what, f"forward should return two tensors, (c_logits, y_logits), not {kind(result)}.")
    c, y = result
    for name, value in (("c_logits", c), ("y_logits", y)):
        if not isinstance(value, Tensor):
            fail(what, f"forward returned {kind(value)} as {name}; expected a tensor.")
    if k != 1 and tuple(c.shape) == (n, 1) and tuple(y.shape) == (n, k):
        fail(what, "forward returned (y_logits, c_logits); the order is (c_logits, y_logits).")
    if tuple(c.shape) != (n, k):
        fail(
            what,
            f"c_logits has shape {tuple(c.shape)} for a batch of {n}; expected ({n}, {k}): one "
            "logit per concept and sample.",
        )
    if tuple(y.shape) == (n,):
        fail(
            what,
            f"y_logits has shape ({n},); expected ({n}, 1).",
            "return c2y's output as it is, without squeezing: the library's models return "
            "(B, 1) task logits, and the loss squeezes them.",
        )
    if tuple(y.shape) != (n, 1):
        fail(what, f"y_logits has shape {tuple(y.shape)}; expected ({n}, 1): one task logit each.")
    c, y = c.detach().float(), y.detach().float()
    if not (torch.isfinite(c).all() and torch.isfinite(y).all()):
        fail(what, "forward returned NaN or infinite values.")
    return c, y


def run_forward(what: str, model: nn.Module, args: Sequence[Any], k: int) -> tuple[Tensor, Tensor]:
    """Call the student's model on ``args`` (``x`` first) without gradients; checked outputs."""
    n = len(args[0])
    with torch.no_grad():
        result = call(what, f"your model's forward on a batch of {n}", model, *args)
    return outputs(what, result, n, k)


def library_outputs(net: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """The library network's (c_logits, y_logits) on x, without gradients."""
    with torch.no_grad():
        out = net(x)
    return out.c_logits, out.y_logits


def head(data: Data, n: int) -> Data:
    """Copies of the first ``n`` rows of (x, c, y)."""
    x, c, y = (t[:n].clone() for t in data)
    return x, c, y


def close(a: Tensor, b: Tensor, tol: float = TOL) -> bool:
    """Same shape and equal to ``tol`` (absolute and relative)."""
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=tol, atol=tol))


def gap(a: Tensor, b: Tensor) -> float:
    """The largest absolute difference of two tensors of one shape."""
    return float((a - b).abs().max())


def match(got: Tensor, variants: Sequence[tuple[Callable[[], Tensor], str, str]]) -> tuple | None:
    """The first ``(compute, problem, hint)`` whose tensor equals ``got``, else None."""
    for compute, problem, hint in variants:
        if close(got, compute()):
            return problem, hint
    return None


# ---- training ----


def reference_train(
    module: ConceptLightningModule,
    data: Data,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    zero_grad: bool = True,
    optimizer: str = "adam",
    reset: bool = False,
) -> list[float]:
    """Train the library's network with the library's loss and RandInt masks
    (``module.training_loss``: the model's objective) in the plain loop the students write:
    Adam(lr); each epoch one permutation from a generator seeded ``seed``, cut into batches.

    ``cem.train.run`` adds a learning-rate scheduler, validation and Lightning's start-up around
    the same steps; this loop leaves them out so that the comparison is about the student's code.
    ``zero_grad=False``, ``optimizer="sgd"`` and ``reset=True`` (a new optimiser every epoch)
    give typical wrong loops. Returns the mean loss of each epoch.
    """
    x, c, y = data
    net = module.net
    params = list(net.parameters())

    def make() -> torch.optim.Optimizer:
        if optimizer == "sgd":
            return torch.optim.SGD(params, lr=lr)
        return torch.optim.Adam(params, lr=lr)

    opt = make()
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        if reset:
            opt = make()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch_size):
            b = order[start : start + batch_size]
            loss = module.training_loss(x[b], c[b], y[b])
            if zero_grad:
                opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        losses.append(total / len(x))
    return losses


class CallLog:
    """Records the training calls of a model (those made with gradients on): the first input
    column of each batch (which identifies the samples) and the intervention mask passed, if any.
    Use as a context manager around the student's training loop."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.keys: list[Tensor] = []
        self.masks: list[Tensor | None] = []

    def _hook(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        if not torch.is_grad_enabled():
            return
        x = args[0] if args else kwargs.get("x")
        mask = args[2] if len(args) > 2 else kwargs.get("mask")
        if isinstance(x, Tensor):
            self.keys.append(x[:, 0].detach().clone())
            self.masks.append(mask.detach().clone() if isinstance(mask, Tensor) else None)

    def __enter__(self) -> CallLog:
        self._handle = self.model.register_forward_pre_hook(self._hook, with_kwargs=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.remove()

    @property
    def sizes(self) -> list[int]:
        return [len(k) for k in self.keys]


def snapshot(model: nn.Module) -> dict[str, Tensor]:
    """A copy of the model's weights."""
    return copy.deepcopy({k: v.detach() for k, v in model.state_dict().items()})


def unchanged(model: nn.Module, before: dict[str, Tensor]) -> bool:
    """True when no weight moved since ``before``."""
    now = model.state_dict()
    return all(torch.equal(now[k], v) for k, v in before.items())


def train_student(
    what: str, fn: Any, fn_name: str, model: nn.Module, args: Sequence[Any], epochs: int
) -> list[float]:
    """Run the student's ``fn(model, *args)`` (``epochs`` epochs) inside :func:`seeded`; return
    its per-epoch losses, or say why they are wrong. A loop that moved no weight and returned
    nothing (or ``[]``) is a placeholder."""
    if is_placeholder(fn):
        raise NotAnswered(what, fn_name)
    if not callable(fn):
        fail(what, f"pass your function itself, e.g. check.{what}(..., {fn_name}).")
    before = snapshot(model)
    with seeded(0):
        result = call(what, f"`{fn_name}`", fn, model, *args)
    still = unchanged(model, before)
    if still and (result is None or (isinstance(result, list) and not result)):
        raise NotAnswered(what, problem=f"`{fn_name}` changed no weight: is its body still `...`?")
    if still:
        fail(
            what,
            f"`{fn_name}` ran but no weight of the model changed.",
            "build the optimiser over model.parameters() and call optimizer.step() after "
            "loss.backward().",
        )
    if result is None:
        fail(what, f"`{fn_name}` returned None; return the list of each epoch's mean loss.")
    try:
        losses = [float(v) for v in result]
    except (TypeError, ValueError):
        fail(what, f"`{fn_name}` returned {kind(result)}; return a list of floats, one an epoch.")
    if len(losses) != epochs:
        fail(
            what,
            f"`{fn_name}` returned {len(losses)} losses for {epochs} epochs.",
            "append one number, the epoch's mean training loss, at the end of every epoch.",
        )
    if not np.isfinite(losses).all():
        fail(what, f"`{fn_name}` returned NaN or infinite losses: the training diverged.")
    return losses


def check_batches(what: str, log: CallLog, data_keys: Tensor, epochs: int, batch_size: int) -> None:
    """The training calls of ``epochs`` epochs over samples identified by ``data_keys`` (n,):
    batches of at most ``batch_size``, every sample exactly once per epoch, shuffled."""
    n, sizes = len(data_keys), log.sizes
    if not sizes:
        fail(what, "your loop never ran the model with gradients on.")
    if max(sizes) > batch_size:
        fail(
            what,
            f"with batch_size={batch_size} your loop ran the model on batches of up to "
            f"{max(sizes)} samples.",
            "cut each epoch's order into slices of batch_size: order[start : start + batch_size] "
            "for start in range(0, n, batch_size).",
        )
    total, rest = sum(sizes), n % batch_size
    if total == epochs * (n - rest) and rest:
        fail(
            what,
            f"each epoch skips {rest} of the {n} samples: the last, smaller batch is missing.",
            "range(0, n, batch_size) also starts the last, partial batch.",
        )
    if total != epochs * n:
        fail(
            what,
            f"in {epochs} epochs over {n} samples your loop ran the model on {total} samples; "
            f"expected {epochs * n}.",
            "every sample once per epoch: one permutation of range(n) per epoch, cut into batches.",
        )
    seen = torch.cat(log.keys).view(epochs, n)
    want = torch.sort(data_keys).values
    if not all(torch.equal(torch.sort(e).values, want) for e in seen):
        fail(
            what,
            "within an epoch some samples were used twice and others not at all.",
            "draw one permutation per epoch (torch.randperm(n, generator=generator)) and cut it "
            "into batches; do not draw a new random batch each step.",
        )
    if all(torch.equal(e, data_keys) for e in seen):
        fail(
            what,
            "your loop takes the samples in the data's order every epoch.",
            "shuffle: each epoch, order = torch.randperm(n, generator=generator).",
        )


def accuracies(c_logits: Tensor, y_logits: Tensor, c: Tensor, y: Tensor) -> tuple[float, float]:
    """Test task accuracy (probability > 0.5, i.e. logit > 0) and mean concept accuracy."""
    task = ((y_logits.squeeze(1) > 0).long() == y).float().mean()
    concept = ((c_logits > 0).float() == c).float().mean()
    return float(task), float(concept)
