"""Checkers of exercise 4: a Concept Embedding Model (Espinosa Zarlenga et al., "Concept
Embedding Models", NeurIPS 2022, arXiv 2209.09056) written in plain torch, against the library's
CEM.

The student's class is ``CEM(n_features, n_concepts, emb_size)`` with four parts:
``self.extractor`` (Linear(d, 128) → LeakyReLU → Linear(128, 128) → LeakyReLU → Linear(128, 128)),
``self.concept_layers`` (an nn.ModuleList of k layers Linear(128, 2m), or one Linear(128, k·2m)
as the library stores them: both are accepted), ``self.scorer`` (one Linear(2m, 1) shared by all
concepts) and ``self.c2y`` (Linear(k·m, 1)), and
``forward(x, c_true=None, mask=None) -> (c_logits (B, k), y_logits (B, 1))`` where the
intervention sets p̂_i := c_true_i wherever ``mask`` is True. How the checks compare it with the
library is in :mod:`cem.exercises.scratch`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cem.exercises.feedback import NotAnswered, fail, passed, require
from cem.exercises.scratch import (
    STEP_TOL,
    CallLog,
    Data,
    Known,
    Tensor,
    accuracies,
    call,
    close,
    copy_layers,
    explained,
    gap,
    head,
    instantiate,
    kind,
    library_module,
    library_outputs,
    linear_name,
    linears,
    match,
    module_part,
    only_parts,
    part,
    reference_train,
    run_forward,
    seeded,
    train_student,
    trig,
)
from cem.models.cem import ConceptEmbeddingModel
from cem.models.lightning import ConceptLightningModule

__all__ = ["cem_forward", "cem_training", "randint_mask"]

OWNER = "CEM"
PARTS = ("extractor", "concept_layers", "scorer", "c2y")
# (d, k, m): Trig with the notebook's embedding size, then other sizes, so that a hard-coded
# number in the student's class shows up.
SIZES: tuple[tuple[int, int, int], ...] = ((7, 3, 16), (4, 2, 5))
EXTRACTOR = "Linear(d, 128) → LeakyReLU → Linear(128, 128) → LeakyReLU → Linear(128, 128)"

# Training checks: Trig, m = 16, the paper's optimiser settings and RandInt p = 0.25. After 10
# epochs (~0.6 s a run) correct loops that shuffle or draw masks differently land within ~2.5
# points of each other in task and in concept accuracy; the margins leave twice that.
EMB, LR, BATCH, EPOCHS, P_INT = 16, 0.01, 256, 10, 0.25
TASK_MARGIN = CONCEPT_MARGIN = 0.05
PROBE_ROWS, PROBE_EPOCHS = 64, 3  # exact full-batch steps with p_int = 0 and p_int = 1
RATE_TOL = 0.015  # mask rate over a training run (~60 000 draws: std 0.002)


def model_config(emb_size: int, p_int: float = P_INT) -> dict[str, Any]:
    """The library's CEM with embedding size m and RandInt probability p_int."""
    return {"name": "cem", "emb_size": emb_size, "training_intervention_prob": p_int}


# ---- task 1: the module, its forward pass and interventions ----


def _rows_of(layer: nn.Linear, start: int, stop: int) -> nn.Linear:
    """A Linear holding output rows [start, stop) of ``layer`` (one concept's generator)."""
    out = nn.Linear(layer.in_features, stop - start)
    with torch.no_grad():
        out.weight.copy_(layer.weight[start:stop])
        out.bias.copy_(layer.bias[start:stop])
    return out


def _load_concept_layers(
    what: str, layers: Any, net: ConceptEmbeddingModel, label: str, hint: str
) -> None:
    """Concept i's rows [i·2m, (i+1)·2m) of the library's Linear(h, k·2m) into the student's
    i-th layer, or the whole layer into a single Linear(h, k·2m)."""
    k, m = net.n_concepts, net.emb_size
    generators = net.embedding.generators
    if isinstance(layers, (list, tuple)):
        fail(
            what,
            "`self.concept_layers` is a Python list: its layers are hidden from "
            "model.parameters(), so the optimiser would never train them.",
            "wrap the list in nn.ModuleList([...]).",
        )
    if not isinstance(layers, nn.Module):
        fail(what, f"`self.concept_layers` should be an nn.ModuleList, not {kind(layers)}.", hint)
    if not isinstance(layers, nn.ModuleList):
        where = f"`self.concept_layers` of {label}"
        copy_layers(what, where, linears(layers), [generators], hint)
        return
    if len(layers) != k:
        fail(what, f"`self.concept_layers` of {label} holds {len(layers)} layers; expected {k}.")
    for i, layer in enumerate(layers):
        src = _rows_of(generators, i * 2 * m, (i + 1) * 2 * m)
        copy_layers(what, f"concept layer {i} of {label}", linears(layer), [src], hint)


def _load_scorer(what: str, scorer: Any, net: ConceptEmbeddingModel, label: str) -> None:
    """The library's shared scorer Linear(2m, 1) into the student's ``scorer``."""
    k = net.n_concepts
    shared = (
        "CEM's scorer is ONE nn.Linear(2 * emb_size, 1) shared by all concepts: the same rule "
        "turns each concept's [ĉ⁺_i; ĉ⁻_i] into its logit."
    )
    found = linears(scorer) if isinstance(scorer, nn.Module) else []
    if isinstance(scorer, (list, tuple)) or (len(found) == k and k > 1):
        n = len(scorer) if isinstance(scorer, (list, tuple)) else len(found)
        fail(what, f"`self.scorer` holds {n} layers, one per concept.", shared)
    if not isinstance(scorer, nn.Module):
        fail(what, f"`self.scorer` should be nn.Linear(2 * emb_size, 1), not {kind(scorer)}.")
    if len(found) == 1 and found[0].out_features == k and k > 1:
        fail(
            what,
            f"`self.scorer` of {label} is {linear_name(found[0])}: one output per concept, a "
            "scorer per concept in disguise.",
            shared,
        )
    copy_layers(what, f"`self.scorer` of {label}", found, [net.embedding.scorer], shared)


def load(what: str, model: nn.Module, net: ConceptEmbeddingModel, label: str, again: bool) -> None:
    """Copy the library CEM's weights into the student's four parts."""
    fixed = (
        f"use n_features, n_concepts and emb_size rather than fixed numbers: the checker also "
        f"builds {label}."
    )
    extractor = module_part(what, model, "extractor", OWNER)
    layers = part(what, model, "concept_layers", OWNER)
    scorer = part(what, model, "scorer", OWNER)
    c2y = module_part(what, model, "c2y", OWNER)
    src = linears(net.extractor)
    hint = fixed if again else f"the extractor is {EXTRACTOR}."
    copy_layers(what, f"`self.extractor` of {label}", linears(extractor), src, hint)
    hint = (
        fixed
        if again
        else (
            "one nn.Linear(128, 2 * emb_size) per concept, in an nn.ModuleList: each makes that "
            "concept's ĉ⁺ (first emb_size outputs) and ĉ⁻ (last emb_size)."
        )
    )
    _load_concept_layers(what, layers, net, label, hint)
    _load_scorer(what, scorer, net, label)
    hint = fixed if again else "c2y reads the k mixed embeddings side by side: Linear(k·m, 1)."
    copy_layers(what, f"`self.c2y` of {label}", linears(c2y), [net.c2y], hint)
    only_parts(what, model, PARTS, OWNER)


def _mix(net: ConceptEmbeddingModel, pos: Tensor, neg: Tensor, p: Tensor) -> Tensor:
    """y_logits of the mixture p·pos + (1 − p)·neg; pos, neg (B, k, m), p (B, k)."""
    p = p.unsqueeze(-1)
    return net.c2y((p * pos + (1 - p) * neg).flatten(1))


def _embeddings(net: ConceptEmbeddingModel, h: Tensor, act: bool = True) -> Tensor:
    """Each concept's [ĉ⁺; ĉ⁻] (B, k, 2m) from h, with (or without) the LeakyReLU."""
    raw = net.embedding.generators(h).view(len(h), net.n_concepts, 2 * net.emb_size)
    return F.leaky_relu(raw) if act else raw


def _diagnose_plain(
    what: str, net: ConceptEmbeddingModel, x: Tensor, c: Tensor, y: Tensor, label: str
) -> None:
    """Outputs without intervention against the library's (same weights)."""
    m = net.emb_size
    scorer = net.embedding.scorer
    h = net.extractor(x)
    e = _embeddings(net, h)
    pos, neg = e[..., :m], e[..., m:]
    logits = scorer(e).squeeze(-1)
    p = torch.sigmoid(logits)
    ref_y = _mix(net, pos, neg, p)
    if not close(c, logits):
        swapped = torch.cat([neg, pos], dim=-1)
        found = match(
            c,
            [
                (
                    lambda: p,
                    "c_logits are probabilities (a sigmoid of the scores), not logits.",
                    "return the scorer's raw outputs as c_logits; use torch.sigmoid(c_logits) "
                    "for the mixture.",
                ),
                (
                    lambda: scorer(swapped).squeeze(-1),
                    "the positive and negative halves are swapped.",
                    "ĉ⁺_i is the FIRST emb_size outputs of concept i's layer, ĉ⁻_i the last "
                    "emb_size; the scorer reads [ĉ⁺_i; ĉ⁻_i] in that order.",
                ),
                (
                    lambda: scorer(_embeddings(net, h, act=False)).squeeze(-1),
                    "the embeddings miss their LeakyReLU.",
                    "each concept's layer is Linear(128, 2m) followed by a LeakyReLU.",
                ),
                (
                    lambda: scorer(_embeddings(net, F.leaky_relu(h))).squeeze(-1),
                    "your extractor has an activation after its last Linear layer.",
                    f"the extractor is {EXTRACTOR}, nothing after the last layer.",
                ),
            ],
        )
        problem, hint = found or (
            f"c_logits of {label} differ from the library's with the same weights (largest "
            f"difference {gap(c, logits):.3g}).",
            "h = self.extractor(x); e_i = LeakyReLU(concept_layers[i](h)) = [ĉ⁺_i; ĉ⁻_i]; "
            "c_logits[:, i] = self.scorer(e_i).",
        )
        fail(what, problem, hint)
    if close(y, ref_y):
        return
    found = match(
        y,
        [
            (
                lambda: _mix(net, neg, pos, p),
                "the mixture is the wrong way round: p̂·ĉ⁻ + (1 − p̂)·ĉ⁺.",
                "ĉ_i = p̂_i·ĉ⁺_i + (1 − p̂_i)·ĉ⁻_i: when the concept is on (p̂ → 1) the "
                "positive embedding wins.",
            ),
            (
                lambda: _mix(net, pos, neg, logits),
                "the mixture is weighted by the logits, not the probabilities.",
                "p̂ = torch.sigmoid(c_logits), a number in (0, 1), weighs the two embeddings.",
            ),
            (
                lambda: net.c2y(
                    (p.unsqueeze(-1) * pos + (1 - p.unsqueeze(-1)) * neg).transpose(1, 2).flatten(1)
                ),
                "c2y reads the mixed embeddings interleaved, not concept by concept.",
                "flatten the (B, k, m) mixture to (B, k·m) as [ĉ_1, ĉ_2, …, ĉ_k]: "
                "mixed.flatten(1), or torch.cat over concepts along dim 1.",
            ),
            (
                lambda: torch.sigmoid(ref_y),
                "y_logits are probabilities (a sigmoid after c2y), not logits.",
                "return c2y's raw output: the loss applies the sigmoid itself.",
            ),
        ],
    )
    problem, hint = found or (
        f"c_logits are right, but y_logits of {label} differ from the library's (largest "
        f"difference {gap(y, ref_y):.3g}).",
        "ĉ_i = p̂_i·ĉ⁺_i + (1 − p̂_i)·ĉ⁻_i with p̂ = σ(c_logits); y_logits = c2y of the k mixed "
        "embeddings concatenated.",
    )
    fail(what, problem, hint)


def _diagnose_intervention(
    what: str, model: nn.Module, net: ConceptEmbeddingModel, x: Tensor, c: Tensor, y: Tensor
) -> None:
    """Outputs with an intervention mask against the library's ``net(x, c_true, mask)``."""
    g = torch.Generator().manual_seed(7)
    mask = torch.rand(x.shape[0], net.n_concepts, generator=g) < 0.5
    c_true = torch.randint(0, 2, mask.shape, generator=g).float()
    c2, y2 = run_forward(what, model, (x, c_true.clone(), mask.clone()), net.n_concepts)
    if not close(c2, c):
        fail(
            what,
            "with an intervention mask your c_logits change.",
            "return the model's own predicted logits, from before the intervention: the concept "
            "loss trains the scorer on them.",
        )
    m = net.emb_size
    e = _embeddings(net, net.extractor(x))
    pos, neg = e[..., :m], e[..., m:]
    logits = net.embedding.scorer(e).squeeze(-1)
    p = torch.sigmoid(logits)
    ref_y = net(x, c_true, mask).y_logits
    if close(y2, ref_y):
        return
    if close(y2, y):
        fail(
            what,
            "with an intervention mask your y_logits do not change: the forward ignores "
            "c_true and mask.",
            "after p = torch.sigmoid(c_logits): if mask is not None, p = torch.where(mask, "
            "c_true, p).",
        )
    found = match(
        y2,
        [
            (
                lambda: _mix(net, pos, neg, torch.sigmoid(torch.where(mask, c_true, logits))),
                "the intervention replaces the logits by c_true (σ(1) is 0.73, not 1).",
                "replace the probabilities: p̂_i := c_true_i, so the embedding becomes exactly "
                "ĉ⁺_i or ĉ⁻_i.",
            ),
            (
                lambda: _mix(net, pos, neg, torch.where(mask, 1 - c_true, p)),
                "the intervention sets p̂ to 1 − c_true.",
                "an intervention puts the true value in: p̂_i := c_true_i where mask is True.",
            ),
            (
                lambda: _mix(net, pos, neg, torch.where(~mask, c_true, p)),
                "the intervention replaces the concepts where the mask is False.",
                "mask is True for the concepts to replace: torch.where(mask, c_true, p).",
            ),
        ],
    )
    problem, hint = found or (
        f"with an intervention mask your y_logits differ from the library's (largest difference "
        f"{gap(y2, ref_y):.3g}).",
        "p̂ = torch.where(mask, c_true, torch.sigmoid(c_logits)), then the same mixture and c2y.",
    )
    fail(what, problem, hint)


_FORWARD_ERRORS: tuple[Known, ...] = (
    (
        "ambiguous",
        "",
        "test `if mask is not None:`: a tensor of several values has no truth value.",
    ),
)


def cem_forward(cls: Any) -> bool:
    """Task 1: the student's ``CEM`` class gives the library's outputs with its weights.

    Builds ``CEM(7, 3, 16)`` (Trig) and ``CEM(4, 2, 5)``, copies the library CEM's weights of
    the same sizes into ``extractor``, ``concept_layers``, ``scorer`` and ``c2y``, and compares
    ``forward(x)`` and ``forward(x, c_true, mask)`` on a batch of 32 with the library's concept
    and task logits (to 1e-5).
    """
    what = "cem_forward"
    for i, (d, k, m) in enumerate(SIZES):
        label = f"{OWNER}({d}, {k}, {m})"
        model = instantiate(what, cls, OWNER, d, k, m)
        net = library_module(model_config(m), d, k).net
        load(what, model, net, label, again=i > 0)
        x = 2 * torch.randn(32, d, generator=torch.Generator().manual_seed(i))
        with explained(what, _FORWARD_ERRORS), torch.no_grad():
            c, y = run_forward(what, model, (x,), k)
            _diagnose_plain(what, net, x, c, y, label)
            _diagnose_intervention(what, model, net, x, c, y)
    return passed(
        what,
        "with the library's weights your CEM gives the library's concept and task logits, with "
        "and without interventions.",
    )


# ---- task 2: RandInt's mask ----

MASK_ROWS, MASK_CONCEPTS = 2000, 4
MASK_TOL = 0.03  # rate over 8000 draws: std <= 0.0056


def _draw(what: str, fn: Callable[..., Any], c: Tensor, p: float) -> Tensor:
    """The student's mask for concepts ``c`` and probability ``p``, checked for type and shape."""
    out = call(what, f"randint_mask(c, p={p}) with c of shape {tuple(c.shape)}", fn, c.clone(), p)
    if out is None:
        raise NotAnswered(what, problem="`randint_mask` returned None: is its body still `...`?")
    if out is Ellipsis:
        raise NotAnswered(what, "randint_mask")
    if not isinstance(out, Tensor):
        fail(
            what,
            f"randint_mask returned {kind(out)}; expected a torch tensor.",
            "use torch's random numbers (torch.rand), so that torch.manual_seed makes training "
            "reproducible.",
        )
    if tuple(out.shape) != tuple(c.shape):
        fail(
            what,
            f"for c of shape {tuple(c.shape)} the mask has shape {tuple(out.shape)}; expected "
            f"{tuple(c.shape)}: one draw per sample and concept.",
            "torch.rand(c.shape) < p.",
        )
    if out.dtype != torch.bool:
        fail(
            what,
            f"the mask is a {out.dtype} tensor; expected torch.bool.",
            "a comparison such as torch.rand(c.shape) < p already gives a bool tensor.",
        )
    return out


def randint_mask(fn: Any) -> bool:
    """Task 2: ``randint_mask(c (B, k), p) -> (B, k) bool``, each entry True with probability p
    independently of the others and of c.

    Checks the type, shape and dtype; that rows differ (per sample, not one mask per batch) and
    columns differ (per concept); the rate at p = 0.25 and 0.7 (within 0.03 over 8000 draws),
    p = 0 (no True) and p = 1 (all True); that successive calls differ and that
    torch.manual_seed repeats them.
    """
    what = "randint_mask"
    require(what, "randint_mask", fn)
    if not callable(fn):
        fail(what, "pass the function itself: check.randint_mask(randint_mask).")
    g = torch.Generator().manual_seed(0)
    c = torch.randint(0, 2, (MASK_ROWS, MASK_CONCEPTS), generator=g).float()
    with seeded(0):
        _draw(what, fn, c[:5, :3], P_INT)
        masks = {p: _draw(what, fn, c, p) for p in (P_INT, 0.7)}
    mask = masks[P_INT]
    if torch.equal(mask, c.bool()) or torch.equal(mask, ~c.bool()):
        fail(
            what,
            "the mask copies the concept values.",
            "the mask says which concepts to replace, chosen at random: it does not depend on c.",
        )
    if bool((mask == mask[:1]).all()):
        fail(
            what,
            "every sample of the batch gets the same mask: one draw per batch.",
            "draw per sample and concept: torch.rand(c.shape) (B, k), not torch.rand(k).",
        )
    if bool((mask == mask[:, :1]).all()):
        fail(
            what,
            "all concepts of a sample get the same value: one draw per sample.",
            "draw per concept as well: torch.rand(c.shape) has shape (B, k).",
        )
    for p, drawn in masks.items():
        rate = float(drawn.float().mean())
        if abs(rate - p) <= MASK_TOL:
            continue
        if abs(rate - (1 - p)) <= MASK_TOL:
            fail(
                what,
                f"with p = {p} the mask is True for {rate:.1%} of the entries: probability 1 − p.",
                "torch.rand(...) < p is True with probability p.",
            )
        if p != P_INT and abs(rate - P_INT) <= MASK_TOL:
            fail(what, f"with p = {p} the mask is True for {rate:.1%}: it ignores p.")
        fail(
            what,
            f"with p = {p} the mask is True for {rate:.1%} of {drawn.numel()} entries; expected "
            f"about {p:.0%}.",
            "torch.rand(c.shape) < p is True with probability p.",
        )
    with seeded(0):
        none, every = _draw(what, fn, c, 0.0), _draw(what, fn, c, 1.0)
    if bool(none.any()) or not bool(every.all()):
        fail(
            what,
            "with p = 0 the mask must be all False, and with p = 1 all True.",
            "torch.rand gives numbers in [0, 1): compare with `< p`.",
        )
    with seeded(1):
        first, second = _draw(what, fn, c, 0.5), _draw(what, fn, c, 0.5)
    with seeded(1):
        again = _draw(what, fn, c, 0.5)
    if torch.equal(first, second):
        fail(
            what,
            "two calls in a row gave the same mask.",
            "draw fresh random numbers on every call; do not re-seed inside the function.",
        )
    if not torch.equal(first, again):
        fail(
            what,
            "after the same torch.manual_seed the function gave a different mask.",
            "draw with torch (torch.rand), not NumPy or random: then torch.manual_seed makes the "
            "training reproducible.",
        )
    return passed(what, "a fresh mask per sample and concept, True with probability p.")


# ---- task 3: training with RandInt ----

_TRAIN_ERRORS: tuple[Known, ...] = (
    (
        "inplace",
        "loss.backward() failed: your forward writes in place into a tensor that autograd "
        "needs (p[mask] = … overwrites the sigmoid's output).",
        "torch.where(mask, c_true, p) makes a new tensor instead.",
    ),
)


def _pair(what: str, cls: Any, p_int: float) -> tuple[nn.Module, ConceptLightningModule]:
    """The student's CEM(7, 3, EMB) holding the library's initial weights, and the library's
    module (network, loss, RandInt with p_int) that trains beside it."""
    module = library_module(model_config(EMB, p_int), 7, 3)
    model = instantiate(what, cls, OWNER, 7, 3, EMB)
    load(what, model, module.net, f"{OWNER}(7, 3, {EMB})", again=False)
    return model, module


def _train(
    what: str, fn: Any, model: nn.Module, data: Data, epochs: int, batch: int, p_int: float
) -> list[float]:
    args = (*data, epochs, LR, 1.0, batch, 0, p_int)
    with explained(what, _TRAIN_ERRORS):
        return train_student(what, fn, "train_cem", model, args, epochs)


def _check_steps(what: str, cls: Any, fn: Any) -> None:
    """Full-batch steps with p_int = 0 (no intervention) and p_int = 1 (every concept replaced
    by its true value): both deterministic, both must give the library's weights."""
    data = head(trig("train"), PROBE_ROWS)
    x = data[0]

    def reference(p_int: float) -> tuple[Tensor, Tensor]:
        module = library_module(model_config(EMB, p_int), 7, 3)
        with seeded(0):
            reference_train(module, data, PROBE_EPOCHS, LR, PROBE_ROWS, 0)
        return library_outputs(module.net, x)

    for p_int, other in ((0.0, 1.0), (1.0, 0.0)):
        model, _ = _pair(what, cls, p_int)
        _train(what, fn, model, data, PROBE_EPOCHS, PROBE_ROWS, p_int)
        c, y = run_forward(what, model, (x,), 3)
        ref_c, ref_y = reference(p_int)
        if close(c, ref_c, STEP_TOL) and close(y, ref_y, STEP_TOL):
            continue
        alt_c, alt_y = reference(other)
        as_other = close(c, alt_c, STEP_TOL) and close(y, alt_y, STEP_TOL)
        if p_int == 1.0 and as_other:
            fail(
                what,
                "with p_int = 1 every concept should be replaced by its true value, but your "
                "model trains as if none were.",
                "pass the batch's true concepts and the mask to the model: "
                "model(x[batch], c[batch], mask).",
            )
        if p_int == 0.0 and as_other:
            fail(
                what,
                "with p_int = 0 your loop still replaces every concept: the mask is True with "
                "probability 1 − p_int.",
                "mask = randint_mask(c[batch], p_int).",
            )
        fail(
            what,
            f"after {PROBE_EPOCHS} full-batch steps with p_int = {p_int:g} your model differs "
            f"from the library's trained the same way (largest difference {gap(y, ref_y):.3g}).",
            "the loop around your lines is given: draw mask = randint_mask(c[batch], p_int) and "
            "run c_logits, y_logits = model(x[batch], c[batch], mask).",
        )


def _check_masks(what: str, log: CallLog) -> None:
    """The masks the loop passed during a run with RandInt p = P_INT."""
    masks = [m for m in log.masks if m is not None]
    if not masks:
        fail(
            what,
            "your loop never passes a mask to the model.",
            "model(x[batch], c[batch], mask) with mask = randint_mask(c[batch], p_int).",
        )
    same = sum(bool((m == m[:1]).all()) for m in masks if len(m) > 1)
    if same > len(masks) / 2:
        fail(
            what,
            "your loop gives every sample of a batch the same mask.",
            "mask = randint_mask(c[batch], p_int): one draw per sample and concept.",
        )
    rate = float(torch.cat([m.reshape(-1).float() for m in masks]).mean())
    if abs(rate - P_INT) > RATE_TOL:
        fail(
            what,
            f"with p_int = {P_INT} your loop intervened on {rate:.1%} of the concepts.",
            "mask = randint_mask(c[batch], p_int), drawn for every batch.",
        )


def train_on_trig(
    what: str, cls: Any, fn: Any, epochs: int = EPOCHS
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The student's loop and the reference loop (library CEM, loss and RandInt) on Trig from
    the same initial weights: ((task, concept) test accuracies of the student's, the library's)."""
    train, test = trig("train"), trig("test")
    model, module = _pair(what, cls, P_INT)
    with CallLog(model) as log:
        _train(what, fn, model, train, epochs, BATCH, P_INT)
    _check_masks(what, log)
    with seeded(0):
        reference_train(module, train, epochs, LR, BATCH, 0)
    mine = accuracies(*run_forward(what, model, (test[0],), 3), *test[1:])
    lib = accuracies(*library_outputs(module.net, test[0]), *test[1:])
    return mine, lib


def cem_training(cls: Any, fn: Any) -> bool:
    """Task 3: ``train_cem(model, x, c, y, epochs, lr, alpha, batch_size, seed, p_int)``.

    1. three full-batch steps from the library's initial weights, with p_int = 0 and with
       p_int = 1, give the library's weights (the mask reaches the model, with the true concepts);
    2. 10 epochs on Trig with p_int = 0.25: the masks passed are True for 25 % of the concepts
       (within 1.5 points) and differ between the samples of a batch; test task and concept
       accuracy within 5 points of the library's CEM trained from the same start.
    """
    what = "cem_training"
    require(what, OWNER, cls)
    require(what, "train_cem", fn)
    _check_steps(what, cls, fn)
    (task, concept), (lib_task, lib_concept) = train_on_trig(what, cls, fn)
    summary = (
        f"after {EPOCHS} epochs on Trig with RandInt (p = {P_INT}) your CEM reaches {task:.1%} "
        f"task / {concept:.1%} concept accuracy (test); the library's, from the same start: "
        f"{lib_task:.1%} / {lib_concept:.1%}."
    )
    if abs(task - lib_task) > TASK_MARGIN or abs(concept - lib_concept) > CONCEPT_MARGIN:
        fail(
            what,
            summary,
            "the exact steps passed, so look at the batches: x, c, y and the mask must belong to "
            "the same samples.",
        )
    return passed(what, summary)
