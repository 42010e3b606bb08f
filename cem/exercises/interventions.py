"""Checkers of exercise 5: correct and incorrect interventions on CEM and the Sigmoid CBM (Trig).

The student writes two functions and answers two questions:

* ``intervene(net, x, c, y, concepts, incorrect=False) -> float``: the task accuracy when the
  concepts listed in ``concepts`` are replaced, for every sample, by their true value (or the
  flipped value); checked against :func:`cem.interventions.evaluate_intervention`;
* ``curve(net, x, c, y, incorrect=False) -> list[float]``: the accuracy after intervening on
  n = 0, 1, …, k concepts, each point the mean over every set of n concepts (the exact expectation
  of the library's per-sample *random* policy);
* which model loses accuracy when every concept is corrected, and which is hurt more by wrong
  values — judged on the student's own curves, so that the answer is right for the numbers the
  student sees whatever the budget (fast mode trains less);
* why correcting concepts can lower a leaky CBM's accuracy (multiple choice).

Wrong functions are diagnosed by running the student's function on every test case and comparing
the results with those of typical mistakes (no intervention, the model's own predictions put in,
``incorrect`` ignored, every concept intervened, the mask's rows set instead of its columns, the
logit thresholded at 0.5, percentages, error rates…): a mistake that reproduces *all* of the
student's numbers gets its specific hint; anything else gets the first case that differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import torch

from cem.exercises.answers import as_array, as_choice, as_float
from cem.exercises.feedback import call_student, fail, passed, require, returned_none
from cem.interventions import evaluate_intervention
from cem.metrics.classification import task_metrics
from cem.models.inference import predict

__all__ = [
    "curve_function",
    "intervene_function",
    "intervention_effects",
    "why_correct_hurts",
]

MODELS: tuple[str, ...] = ("cem", "cbm_sigmoid")
MODEL_NAMES = {"cem": "CEM", "cbm_sigmoid": "the Sigmoid CBM"}
TOL = 1e-6  # accuracies are means over the split: float32 rounding stays far below this
# A model "loses" (or is "hurt more") when its accuracy moves by more than one point: on Trig's
# 600 test samples that is 6 samples, beyond the noise of a re-run.
MARGIN = 0.01

Tensors = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
Case = tuple[str, tuple[int, ...], bool]  # (model name, concepts, incorrect)


# ---- inputs ----------------------------------------------------------------------------------


def _nets(what: str, nets: Any) -> dict[str, torch.nn.Module]:
    """The dict {model name: trained network} the notebook built."""
    require(what, "nets", nets)
    if not isinstance(nets, Mapping) or not nets:
        fail(what, 'pass the dict of trained networks, e.g. {"cem": ..., "cbm_sigmoid": ...}.')
    for name, net in nets.items():
        if not isinstance(net, torch.nn.Module) or not hasattr(net, "n_concepts"):
            fail(what, f"nets[{name!r}] is not a concept model; use `result.module.net`.")
    return dict(nets)


def _split(what: str, test: Any) -> Tensors:
    """The (x, c, y) tensors of one split, as ``result.datamodule.tensors["test"]`` holds them."""
    require(what, "test", test)
    if (
        not isinstance(test, (tuple, list))
        or len(test) != 3
        or not all(isinstance(t, torch.Tensor) for t in test)
    ):
        fail(what, 'pass the test split as (x, c, y) tensors: result.datamodule.tensors["test"].')
    x, c, y = test
    if c.dim() != 2 or len(x) != len(c) or len(c) != len(y):
        fail(what, "the test split should be x (N, d), c (N, k) and y (N,) of one length N.")
    return x, c, y


def _callable(what: str, name: str, fn: Any) -> Callable[..., Any]:
    require(what, name, fn)
    if not callable(fn):
        fail(what, f"pass the function itself, e.g. check.{what}({name}).")
    return fn


# ---- the reference and the typical mistakes --------------------------------------------------


def _accuracy(y_logits: torch.Tensor, y: torch.Tensor) -> float:
    return task_metrics(y_logits, y)["task_acc"]


def _mask(n: int, k: int, concepts: Sequence[int]) -> torch.Tensor:
    mask = torch.zeros(n, k, dtype=torch.bool)
    mask[:, list(concepts)] = True
    return mask


def _run(net: torch.nn.Module, x: torch.Tensor, values: torch.Tensor, mask: torch.Tensor) -> Any:
    return predict(net, x, values.float(), mask)


def _variants(net: torch.nn.Module, data: Tensors) -> dict[str, Callable[..., float]]:
    """Typical wrong ``intervene`` functions, each ``(concepts, incorrect) -> accuracy``."""
    x, c, y = data
    n, k = c.shape
    plain = predict(net, x)
    p_hard = (torch.sigmoid(plain.c_logits) >= 0.5).float()
    flip = lambda v, incorrect: 1 - v if incorrect else v  # noqa: E731

    def rows(concepts: Sequence[int], incorrect: bool) -> float:
        mask = torch.zeros(n, k, dtype=torch.bool)
        mask[list(concepts)] = True  # rows: the samples numbered `concepts`, every concept
        return _accuracy(_run(net, x, flip(c, incorrect), mask).y_logits, y)

    def every_concept(concepts: Sequence[int], incorrect: bool) -> float:
        return _accuracy(_run(net, x, flip(c, incorrect), _mask(n, k, range(k))).y_logits, y)

    def flip_chosen_set_all(concepts: Sequence[int], incorrect: bool) -> float:
        values = c.float().clone()
        if incorrect:
            values[:, list(concepts)] = 1 - values[:, list(concepts)]
        return _accuracy(_run(net, x, values, _mask(n, k, range(k))).y_logits, y)

    def truth(concepts: Sequence[int], incorrect: bool) -> float:
        return evaluate_intervention(net, x, c, y, list(concepts), incorrect)["task_acc"]

    def logits(concepts: Sequence[int], incorrect: bool) -> torch.Tensor:
        return _run(net, x, flip(c, incorrect), _mask(n, k, concepts)).y_logits

    return {
        "truth": truth,
        "no_intervention": lambda concepts, incorrect: _accuracy(plain.y_logits, y),
        "predicted_values": lambda concepts, incorrect: _accuracy(
            _run(net, x, flip(p_hard, incorrect), _mask(n, k, concepts)).y_logits, y
        ),
        "predicted_values:unflipped": lambda concepts, incorrect: _accuracy(
            _run(net, x, p_hard, _mask(n, k, concepts)).y_logits, y
        ),
        "ignores_incorrect": lambda concepts, incorrect: truth(concepts, False),
        "every_concept": every_concept,
        "flips_every_concept": lambda concepts, incorrect: (
            every_concept(concepts, True) if incorrect else truth(concepts, False)
        ),
        "flip_chosen_set_all": flip_chosen_set_all,
        "rows": rows,
        "logit_half": lambda concepts, incorrect: float(
            ((logits(concepts, incorrect).squeeze(1) > 0.5).long() == y).float().mean()
        ),
        "argmax": lambda concepts, incorrect: float((y == 0).float().mean()),
        "percent": lambda concepts, incorrect: 100 * truth(concepts, incorrect),
        "error_rate": lambda concepts, incorrect: 1 - truth(concepts, incorrect),
    }


INTERVENE_HINTS = {
    "no_intervention": "your accuracies are the model's accuracy without any intervention: "
    "either no mask reached the network, or the values put in are the model's own probabilities. "
    "Put the true concepts `c` (or `1 - c`) in `c_int` with a boolean `mask` (N, k), True in the "
    "chosen columns: `net(x, c_int, mask)`.",
    "predicted_values": "you put in the model's own (rounded) predictions. An intervention is a "
    "person telling the model the truth: put in the true concepts `c` (or `1 - c` for incorrect "
    "interventions).",
    "ignores_incorrect": "with incorrect=True your function still puts in the true values. An "
    "incorrect intervention puts in the flipped value, 1 - c.",
    "every_concept": "your function intervenes on every concept, whatever `concepts` says. Only "
    "the chosen concepts change: the mask is True in the columns `concepts` and False elsewhere.",
    "flips_every_concept": "with incorrect=True your function flips every concept, whatever "
    "`concepts` says. An incorrect intervention flips only the chosen concepts: the mask is True "
    "in the columns `concepts` only.",
    "flip_chosen_set_all": "your mask marks every concept, so the concepts you did not choose are "
    "corrected too. Mark only the chosen ones: `mask[:, concepts] = True`.",
    "rows": "your mask marks rows (samples) instead of columns (concepts). Intervene on the "
    "chosen concepts of every sample: `mask[:, concepts] = True`.",
    "logit_half": "you thresholded the task logit at 0.5 (the bug of the public CEM code). The "
    "label is 1 when the probability sigmoid(logit) is at least 0.5, i.e. when the logit is >= 0.",
    "argmax": "`y_logits` has one column (a binary task), so argmax always gives 0. Predict 1 "
    "when sigmoid(logit) >= 0.5.",
    "percent": "return a fraction in [0, 1], not a percentage.",
    "error_rate": "that is the share of wrong predictions; return the share of right ones.",
}


def _cases(k: int) -> list[tuple[tuple[int, ...], bool]]:
    """Concept sets checked: none, the first, all but the first, all — correct and incorrect."""
    sets = [(), (0,), tuple(range(1, k)), tuple(range(k))]
    unique = list(dict.fromkeys(sets))
    return [(s, incorrect) for incorrect in (False, True) for s in unique]


def _describe(case: Case) -> str:
    model, concepts, incorrect = case
    kind = "incorrect" if incorrect else "correct"
    return f"{model} with concepts={list(concepts)} ({kind})"


def _close(a: float, b: float) -> bool:
    """Equal up to float32 rounding (relative for percentages, which are 100× larger)."""
    return abs(a - b) <= TOL * max(1.0, abs(b))


def _matches(got: dict[Case, float], values: dict[Case, float]) -> bool:
    return all(_close(got[case], values[case]) for case in got)


def _worst(got: dict[Case, float], truth: dict[Case, float]) -> Case:
    """The case where the student's result is furthest from the library's: the clearest one."""
    return max(got, key=lambda case: abs(got[case] - truth[case]))


def _diagnose(
    what: str,
    got: dict[Case, float],
    variants: dict[str, dict[Case, float]],
    hints: Mapping[str, str],
    generic: str,
) -> None:
    """Fail with the hint of the first mistake that reproduces every result, else generically.

    ``hints`` maps a variant's name to its hint; variants named ``<hint>:<flavour>`` share the
    hint ``<hint>`` (one mistake written two ways).
    """
    truth = variants["truth"]
    worst = _worst(got, truth)
    problem = (
        f"for {_describe(worst)} you get {got[worst]:.4f}; the library gets {truth[worst]:.4f}."
    )
    for name, values in variants.items():
        if name != "truth" and _matches(got, values):
            fail(what, problem, hints[name.split(":")[0]])
    fail(what, problem, generic)


def _untouched(what: str, name: str, before: Tensors, after: Tensors) -> None:
    """Fail when the student's function changed its input tensors in place."""
    for label, a, b in zip(("x", "c", "y"), before, after, strict=True):
        if not torch.equal(a, b):
            fail(
                what,
                f"your `{name}` changed `{label}` in place, so the data is wrong from then on.",
                f"work on a copy: `{label}.clone()`"
                + (", or `1 - c`, which makes a new tensor." if label == "c" else "."),
            )


def _call(
    what: str,
    name: str,
    fn: Callable[..., Any],
    description: str,
    net: torch.nn.Module,
    data: Tensors,
    *args: Any,
) -> Any:
    """Call the student's ``fn(net, x, c, y, *args)`` on copies of the data; None = a stub."""
    copies = tuple(t.clone() for t in data)
    out = call_student(what, description, fn, net, *copies, *args)
    if out is None:
        raise returned_none(what, name)
    _untouched(what, name, data, copies)
    return out


# ---- task 1: one intervention ----------------------------------------------------------------


def _number(what: str, out: Any) -> float:
    """The accuracy ``intervene`` returned: one number (a 0-dim tensor is fine)."""
    shape = tuple(getattr(out, "shape", ()))
    if shape and int(np.prod(shape)) != 1:
        fail(
            what,
            f"`intervene` returned an array of shape {shape}; it should return one number, the "
            "task accuracy.",
            "the share of samples predicted right: `(predicted == y).float().mean().item()`.",
        )
    if shape:
        out = out.reshape(()) if hasattr(out, "reshape") else out
    return as_float(what, "intervene(...)", out)


def intervene_function(intervene: Any, nets: Any, test: Any) -> bool:
    """The student's ``intervene(net, x, c, y, concepts, incorrect=False) -> float`` against
    ``evaluate_intervention`` (to 1e-6) on both networks, on the test split.

    intervene : the student's function; ``concepts`` is a list of concept indices, intervened
        for every sample.
    nets : {model name: trained ConceptModel}; test : (x (N, d), c (N, k), y (N,)) tensors.
    """
    what = "intervene_function"
    fn = _callable(what, "intervene", intervene)
    networks, data = _nets(what, nets), _split(what, test)
    k = data[1].shape[1]
    got: dict[Case, float] = {}
    for model, net in networks.items():
        for concepts, incorrect in _cases(k):
            description = f"intervene(nets[{model!r}], x, c, y, {list(concepts)}, {incorrect})"
            out = _call(what, "intervene", fn, description, net, data, list(concepts), incorrect)
            got[model, concepts, incorrect] = _number(what, out)
    # The mistakes are only worked out for a wrong answer: a right one costs one pass per case.
    truth = {
        case: evaluate_intervention(networks[case[0]], *data, list(case[1]), case[2])["task_acc"]
        for case in got
    }
    if _matches(got, truth):
        return passed(what, "your interventions match the library's on both models.")
    variants: dict[str, dict[Case, float]] = {}
    for model, net in networks.items():
        for name, variant in _variants(net, data).items():
            for concepts, incorrect in _cases(k):
                variants.setdefault(name, {})[model, concepts, incorrect] = variant(
                    concepts, incorrect
                )
    _diagnose(
        what,
        got,
        variants,
        INTERVENE_HINTS,
        "build a mask (N, k) with True in the columns `concepts`, the values `c` (or `1 - c` when "
        "incorrect), call `net(x, values, mask)`, and return the share of samples whose predicted "
        "label (sigmoid(y_logits) >= 0.5) equals y.",
    )


# ---- task 2: the curve -----------------------------------------------------------------------


def _subset_mean(net: torch.nn.Module, data: Tensors, n: int, incorrect: bool) -> float:
    """Mean task accuracy over every set of ``n`` concepts intervened (for every sample)."""
    x, c, y = data
    sets = list(combinations(range(c.shape[1]), n))
    return float(
        np.mean([evaluate_intervention(net, x, c, y, list(s), incorrect)["task_acc"] for s in sets])
    )


def reference_curve(net: torch.nn.Module, data: Tensors, incorrect: bool = False) -> list[float]:
    """The answer of task 2: k + 1 accuracies, point n the mean over every set of n concepts.

    This is exactly the expected accuracy of the *random* policy (a fresh random order of the
    concepts per sample, the first n intervened): each sample's first n concepts are then a
    uniformly drawn set of n, and accuracy is a mean over samples.
    """
    k = data[1].shape[1]
    return [_subset_mean(net, data, n, incorrect) for n in range(k + 1)]


CURVE_HINTS = {
    "first_n": "point n uses only the first n concepts (0, …, n-1). Average over every set of n "
    "concepts: `itertools.combinations(range(k), n)`.",
    "sum": "you added up the accuracies of the sets of n concepts; take their mean.",
    "ignores_incorrect": "with incorrect=True your curve still puts in the true values; pass "
    "`incorrect` on to `intervene`.",
    "percent": "return fractions in [0, 1], not percentages.",
}


def _curve_variants(net: torch.nn.Module, data: Tensors) -> dict[str, Callable[[bool], list]]:
    """Typical wrong ``curve`` functions, each ``incorrect -> k + 1 values`` (keys of
    CURVE_HINTS)."""
    x, c, y = data
    k = c.shape[1]

    def first_n(incorrect: bool) -> list[float]:
        return [
            evaluate_intervention(net, x, c, y, list(range(n)), incorrect)["task_acc"]
            for n in range(k + 1)
        ]

    def total(incorrect: bool) -> list[float]:
        return [
            _subset_mean(net, data, n, incorrect) * len(list(combinations(range(k), n)))
            for n in range(k + 1)
        ]

    return {
        "first_n": first_n,
        "sum": total,
        "ignores_incorrect": lambda incorrect: reference_curve(net, data, False),
        "percent": lambda incorrect: [100 * v for v in reference_curve(net, data, incorrect)],
    }


def _curve_values(what: str, out: Any, k: int) -> np.ndarray:
    """The student's curve as k + 1 floats, with a hint when its length is off by one."""
    try:
        length = len(out)
    except TypeError:
        length = None
    if length is not None and length in (k, k + 2):
        fail(
            what,
            f"`curve` returned {length} values; it should return k + 1 = {k + 1}.",
            f"point n is the accuracy with n concepts intervened, for n = 0 (none) up to "
            f"n = k = {k} (every concept): `range(k + 1)`.",
        )
    return as_array(what, "curve(...)", out, (k + 1,))


def curve_function(curve: Any, nets: Any, test: Any) -> bool:
    """The student's ``curve(net, x, c, y, incorrect=False) -> k + 1 accuracies`` (point n: the
    mean over every set of n concepts) against :func:`reference_curve`, on both networks,
    correct and incorrect."""
    what = "curve_function"
    fn = _callable(what, "curve", curve)
    networks, data = _nets(what, nets), _split(what, test)
    k = data[1].shape[1]
    got: dict[Case, float] = {}
    truth: dict[Case, float] = {}
    for model, net in networks.items():
        for incorrect in (False, True):
            description = f"curve(nets[{model!r}], x, c, y, incorrect={incorrect})"
            out = _call(what, "curve", fn, description, net, data, incorrect)
            values = _curve_values(what, out, k)
            reference = reference_curve(net, data, incorrect)
            for n in range(k + 1):
                case = (model, tuple(range(n)), incorrect)
                got[case], truth[case] = float(values[n]), reference[n]
    if _matches(got, truth):
        return passed(what, "your curves match the exact mean over every set of n concepts.")
    model, concepts, incorrect = _worst(got, truth)
    case = (model, concepts, incorrect)
    problem = (
        f"for {model} ({'incorrect' if incorrect else 'correct'}), point n = {len(concepts)} is "
        f"{got[case]:.4f}; the mean over every set of {len(concepts)} concepts is "
        f"{truth[case]:.4f}."
    )
    variants: dict[str, dict[Case, float]] = {}
    for model, net in networks.items():
        for name, variant in _curve_variants(net, data).items():
            for incorrect in (False, True):
                for n, value in enumerate(variant(incorrect)):
                    variants.setdefault(name, {})[model, tuple(range(n)), incorrect] = value
    for name, hint in CURVE_HINTS.items():
        if _matches(got, variants[name]):
            fail(what, problem, hint)
    fail(
        what,
        problem,
        "for each n in range(k + 1), average intervene(net, x, c, y, list(s), incorrect) over "
        "every s in itertools.combinations(range(k), n).",
    )


# ---- task 3: what the curves say -------------------------------------------------------------

LOSES_CHOICES = {"a": "CEM", "b": "the Sigmoid CBM", "c": "both", "d": "neither"}
HURT_CHOICES = {"a": "CEM", "b": "the Sigmoid CBM", "c": "about the same (within a point)"}


def _curves(what: str, curves: Any) -> dict[str, dict[str, np.ndarray]]:
    """The notebook's ``{model: {"correct": [...], "incorrect": [...]}}`` as float arrays."""
    require(what, "curves", curves)
    example = '{"cem": {"correct": [...], "incorrect": [...]}, "cbm_sigmoid": {...}}'
    if not isinstance(curves, Mapping):
        fail(what, f"`curves` should be a dict such as {example}.")
    out: dict[str, dict[str, np.ndarray]] = {}
    for model in MODELS:
        entry = curves.get(model)
        if not isinstance(entry, Mapping) or not {"correct", "incorrect"} <= set(entry):
            fail(what, f"`curves[{model!r}]` should be a dict with 'correct' and 'incorrect'.")
        out[model] = {}
        for kind in ("correct", "incorrect"):
            name = f'curves["{model}"]["{kind}"]'
            values = as_array(what, name, entry[kind], (None,))
            if len(values) < 2:
                fail(what, f"`{name}` should hold the accuracy for n = 0, …, k concepts.")
            if values.max() > 1:
                fail(what, f"`{name}` holds values above 1; use fractions, not percentages.")
            out[model][kind] = values
    return out


def _movement(values: np.ndarray) -> str:
    return f"{values[0]:.1%} → {values[-1]:.1%}"


def intervention_effects(
    loses_when_corrected: Any, hurt_more_by_incorrect: Any, curves: Any
) -> bool:
    """What the student's curves say (letters of LOSES_CHOICES and HURT_CHOICES).

    loses_when_corrected : which model is less accurate with every concept corrected than with
        none (a drop of more than one point, MARGIN);
    hurt_more_by_incorrect : which model loses more accuracy with every concept set to the wrong
        value (or about the same, within MARGIN);
    curves : ``{"cem": {"correct": [k + 1], "incorrect": [k + 1]}, "cbm_sigmoid": {...}}``.

    Judged on these curves, not on the course's numbers: the student's run (fast or full budget)
    is what they are looking at.
    """
    what = "intervention_effects"
    data = _curves(what, curves)
    loses = as_choice(what, "loses_when_corrected", loses_when_corrected, LOSES_CHOICES)
    hurt = as_choice(what, "hurt_more_by_incorrect", hurt_more_by_incorrect, HURT_CHOICES)
    drop = {m: data[m]["correct"][0] - data[m]["correct"][-1] for m in MODELS}
    losers = {m for m in MODELS if drop[m] > MARGIN}
    truth = {frozenset(): "d", frozenset({"cem"}): "a", frozenset({"cbm_sigmoid"}): "b"}.get(
        frozenset(losers), "c"
    )
    seen = "; ".join(f"{MODEL_NAMES[m]}: {_movement(data[m]['correct'])}" for m in MODELS)
    if loses != truth:
        hint = (
            "correcting a concept sounds as if it can only help, but read your solid curves: "
            if loses == "d"
            else "compare the first point (no intervention) with the last (every concept "
            "corrected) of each solid curve: "
        )
        fail(
            what,
            f'"{loses}" ({LOSES_CHOICES[loses]}) is not what your curves show.',
            f"{hint}{seen}.",
        )
    harm = {m: data[m]["incorrect"][0] - data[m]["incorrect"][-1] for m in MODELS}
    if abs(harm["cem"] - harm["cbm_sigmoid"]) <= MARGIN:
        worst = "c"
    else:
        worst = "a" if harm["cem"] > harm["cbm_sigmoid"] else "b"
    if hurt != worst:
        wrong = "; ".join(f"{MODEL_NAMES[m]}: {_movement(data[m]['incorrect'])}" for m in MODELS)
        fail(
            what,
            f'"{hurt}" ({HURT_CHOICES[hurt]}) is not what your dashed curves show.',
            f"compare how far each dashed curve falls from n = 0 to n = k: {wrong}.",
        )
    return passed(
        what,
        f"with every concept corrected — {seen}; with every concept wrong — "
        + "; ".join(f"{MODEL_NAMES[m]}: {_movement(data[m]['incorrect'])}" for m in MODELS)
        + ".",
    )


# ---- task 4: why -----------------------------------------------------------------------------

WHY_CHOICES = {
    "a": "the intervention puts in wrong values: Trig's concept labels are noisy",
    "b": "the soft probabilities carry more than each concept's truth value (information about "
    "the latents, and so about the task), and the label predictor reads it; a hard 0/1 value "
    "erases that, and a function of the true concepts alone is capped at Trig's 81.8% ceiling",
    "c": "CEM was trained with interventions (RandInt) and the CBM was not, so the CBM has never "
    "seen intervened values and extrapolates badly",
    "d": "the intervention replaces the concept's logit, which the label predictor never reads",
}
WHY_HINTS = {
    "a": "Trig's concepts are computed exactly from the latents (no noise), and a correct "
    "intervention puts in exactly those values.",
    "c": "RandInt does teach CEM to use intervened values, but look at the end of the CBM's "
    "curve: with all three concepts set to 0/1 its label predictor is a function of the true "
    "concepts alone. What is the best any such function can do on Trig (exercise 2)?",
    "d": "the Sigmoid CBM's intervention replaces the probability sigmoid(logit), which is "
    "exactly what its label predictor reads (see ConceptBottleneckModel.forward).",
}


def why_correct_hurts(answer: Any) -> bool:
    """Why correct interventions lower the Sigmoid CBM's accuracy (a letter of WHY_CHOICES)."""
    what = "why_correct_hurts"
    letter = as_choice(what, "answer", answer, WHY_CHOICES)
    if letter == "b":
        return passed(
            what,
            "the CBM's probabilities *leak* task information beyond the concepts' truth values "
            "(a probability of 0.6 for 'a > 0' tells the label predictor something a 1 cannot). "
            "That is how it beats the 81.8% concept-only ceiling, and a hard 0/1 value throws it "
            "away. CEM's label predictor reads embeddings, and an intervention picks one of two "
            "embeddings that still carry that information, so CEM keeps its accuracy.",
        )
    fail(what, f'"{letter}" ({WHY_CHOICES[letter]}) is not the reason.', WHY_HINTS[letter])
