"""Exercise 5's checkers: the right answers pass, typical wrong ones get their specific hint,
placeholders and bad input get one plain sentence."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import torch
from exercise_checks import message_of

from cem.exercises import NotAnswered, check
from cem.exercises.interventions import reference_curve
from cem.interventions import intervention_curve
from cem.train import run

QUIET = {"interventions": False, "alignment": False, "impurity": False}


@pytest.fixture(scope="module")
def trained() -> tuple[dict[str, torch.nn.Module], tuple[torch.Tensor, ...]]:
    """A Sigmoid CBM and a CEM on Trig, briefly trained (the CBM long enough to leak)."""
    torch.set_num_threads(1)
    nets = {}
    for model, epochs in (("cem", 10), ("cbm_sigmoid", 60)):
        result = run(
            {
                "dataset": {"name": "trig"},
                "model": {"name": model},
                "trainer": {"max_epochs": epochs, "accelerator": "cpu", "progress": "none"},
                "evaluation": QUIET,
                "seed": 42,
            }
        )
        nets[model] = result.module.net
    return nets, result.datamodule.tensors["test"]


def _accuracy(y_logits: torch.Tensor, y: torch.Tensor) -> float:
    return ((torch.sigmoid(y_logits[:, 0]) >= 0.5).long() == y).float().mean().item()


def intervene(net, x, c, y, concepts, incorrect=False):
    mask = torch.zeros_like(c, dtype=torch.bool)
    mask[:, concepts] = True
    with torch.no_grad():
        return _accuracy(net(x, 1 - c if incorrect else c, mask).y_logits, y)


def curve(net, x, c, y, incorrect=False):
    k = c.shape[1]
    return [
        np.mean([intervene(net, x, c, y, list(s), incorrect) for s in combinations(range(k), n)])
        for n in range(k + 1)
    ]


# ---- task 1 ----------------------------------------------------------------------------------


def test_right_intervene_passes(trained, capsys) -> None:
    nets, test = trained
    assert check.intervene_function(intervene, nets, test) is True
    assert capsys.readouterr().out.startswith("✓ intervene_function")


def test_intervene_without_no_grad_or_eval_mode_passes_too(trained) -> None:
    """These networks have no dropout or batch norm: the mode does not change the numbers."""
    nets, test = trained

    def plain(net, x, c, y, concepts, incorrect=False):
        net.train()
        mask = torch.zeros_like(c, dtype=torch.bool)
        mask[:, concepts] = True
        return _accuracy(net(x, 1 - c if incorrect else c, mask).y_logits, y)

    assert check.intervene_function(plain, nets, test)


def _no_mask(net, x, c, y, concepts, incorrect=False):
    return _accuracy(net(x).y_logits, y)


def _own_probabilities(net, x, c, y, concepts, incorrect=False):
    mask = torch.zeros_like(c, dtype=torch.bool)
    mask[:, concepts] = True
    return _accuracy(net(x, torch.sigmoid(net(x).c_logits), mask).y_logits, y)


def _own_rounded(net, x, c, y, concepts, incorrect=False):
    mask = torch.zeros_like(c, dtype=torch.bool)
    mask[:, concepts] = True
    p = (torch.sigmoid(net(x).c_logits) >= 0.5).float()
    return _accuracy(net(x, 1 - p if incorrect else p, mask).y_logits, y)


def _ignores_incorrect(net, x, c, y, concepts, incorrect=False):
    return intervene(net, x, c, y, concepts, False)


def _flips_every_concept(net, x, c, y, concepts, incorrect=False):
    chosen = list(range(c.shape[1])) if incorrect else concepts
    return intervene(net, x, c, y, chosen, incorrect)


def _every_concept(net, x, c, y, concepts, incorrect=False):
    return intervene(net, x, c, y, list(range(c.shape[1])), incorrect)


def _rows(net, x, c, y, concepts, incorrect=False):
    mask = torch.zeros_like(c, dtype=torch.bool)
    mask[concepts] = True
    return _accuracy(net(x, 1 - c if incorrect else c, mask).y_logits, y)


def _logit_half(net, x, c, y, concepts, incorrect=False):
    mask = torch.zeros_like(c, dtype=torch.bool)
    mask[:, concepts] = True
    logits = net(x, 1 - c if incorrect else c, mask).y_logits[:, 0]
    return ((logits > 0.5).long() == y).float().mean().item()


def _argmax(net, x, c, y, concepts, incorrect=False):
    mask = torch.zeros_like(c, dtype=torch.bool)
    mask[:, concepts] = True
    logits = net(x, 1 - c if incorrect else c, mask).y_logits
    return (logits.argmax(1) == y).float().mean().item()


def _percent(net, x, c, y, concepts, incorrect=False):
    return 100 * intervene(net, x, c, y, concepts, incorrect)


def _in_place(net, x, c, y, concepts, incorrect=False):
    if incorrect:
        c[:, concepts] = 1 - c[:, concepts]
    mask = torch.zeros_like(c, dtype=torch.bool)
    mask[:, concepts] = True
    return _accuracy(net(x, c, mask).y_logits, y)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_no_mask, "without any intervention"),
        (_own_probabilities, "without any intervention"),
        (_own_rounded, "own (rounded) predictions"),
        (_ignores_incorrect, "still puts in the true values"),
        (_flips_every_concept, "flips every concept, whatever `concepts` says"),
        (_every_concept, "intervenes on every concept"),
        (_rows, "marks rows (samples)"),
        (_logit_half, "thresholded the task logit at 0.5"),
        (_argmax, "argmax always gives 0"),
        (_percent, "not a percentage"),
        (_in_place, "changed `c` in place"),
    ],
)
def test_typical_wrong_interventions_get_their_hint(trained, wrong, hint) -> None:
    nets, test = trained
    message = message_of(check.intervene_function, wrong, nets, test)
    assert hint in message
    assert message.count("\n") <= 1  # the problem and the hint, no traceback


def test_a_wrong_intervention_names_the_case_and_both_numbers(trained) -> None:
    nets, test = trained
    message = message_of(check.intervene_function, _ignores_incorrect, nets, test)
    assert "(incorrect) you get" in message and "the library gets" in message


def test_intervene_placeholders_and_bad_returns_get_a_plain_sentence(trained) -> None:
    nets, test = trained
    with pytest.raises(NotAnswered):
        check.intervene_function(..., nets, test)

    def stub(net, x, c, y, concepts, incorrect=False): ...

    with pytest.raises(NotAnswered, match="returned None"):
        check.intervene_function(stub, nets, test)

    def per_sample(net, x, c, y, concepts, incorrect=False):
        return (net(x).y_logits[:, 0] >= 0).long() == y

    assert "one number" in message_of(check.intervene_function, per_sample, nets, test)

    def broken(net, x, c, y, concepts, incorrect=False):
        return net(x, c, concepts).y_logits.mean()  # a list where the mask goes: forward fails

    message = message_of(check.intervene_function, broken, nets, test)
    assert "raised AttributeError" in message and "Traceback" not in message


def test_intervene_bad_arguments_are_named(trained) -> None:
    nets, test = trained
    assert "dict of trained networks" in message_of(check.intervene_function, intervene, [1], test)
    assert "(x, c, y)" in message_of(check.intervene_function, intervene, nets, test[:2])
    assert "the function itself" in message_of(check.intervene_function, 3, nets, test)


# ---- task 2 ----------------------------------------------------------------------------------


def test_right_curve_passes(trained) -> None:
    nets, test = trained
    assert check.curve_function(curve, nets, test)


def test_reference_curve_is_the_expectation_of_the_random_policy(trained) -> None:
    """The mean over every set of n concepts is what the library's random policy estimates."""
    nets, (x, c, y) = trained
    for net in nets.values():
        for incorrect in (False, True):
            exact = reference_curve(net, (x, c, y), incorrect)
            sampled = intervention_curve(
                net, x, c, y, policy="random", incorrect=incorrect, n_orders=40
            )["task_acc"]
            assert exact[0] == pytest.approx(sampled[0]) and exact[-1] == pytest.approx(sampled[-1])
            assert np.allclose(exact, sampled, atol=0.01)


def _first_n(net, x, c, y, incorrect=False):
    return [intervene(net, x, c, y, list(range(n)), incorrect) for n in range(c.shape[1] + 1)]


def _sum(net, x, c, y, incorrect=False):
    k = c.shape[1]
    return [
        sum(intervene(net, x, c, y, list(s), incorrect) for s in combinations(range(k), n))
        for n in range(k + 1)
    ]


def _ignores_incorrect_curve(net, x, c, y, incorrect=False):
    return curve(net, x, c, y)


def _percent_curve(net, x, c, y, incorrect=False):
    return [100 * v for v in curve(net, x, c, y, incorrect)]


def _without_none(net, x, c, y, incorrect=False):
    return curve(net, x, c, y, incorrect)[1:]


def _without_all(net, x, c, y, incorrect=False):
    return curve(net, x, c, y, incorrect)[:-1]


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_first_n, "itertools.combinations"),
        (_sum, "take their mean"),
        (_ignores_incorrect_curve, "pass `incorrect` on"),
        (_percent_curve, "not percentages"),
        (_without_none, "k + 1"),
        (_without_all, "k + 1"),
    ],
)
def test_typical_wrong_curves_get_their_hint(trained, wrong, hint) -> None:
    nets, test = trained
    assert hint in message_of(check.curve_function, wrong, nets, test)


def test_curve_placeholder_is_not_answered(trained) -> None:
    nets, test = trained

    def stub(net, x, c, y, incorrect=False): ...

    with pytest.raises(NotAnswered):
        check.curve_function(stub, nets, test)


# ---- task 3: judged on the student's own curves ----------------------------------------------


def _curves(cem_c, cem_i, cbm_c, cbm_i) -> dict[str, dict[str, list[float]]]:
    return {
        "cem": {"correct": cem_c, "incorrect": cem_i},
        "cbm_sigmoid": {"correct": cbm_c, "incorrect": cbm_i},
    }


LEAKY = _curves(
    [0.99, 0.99, 0.99, 0.99],
    [0.99, 0.98, 0.96, 0.93],
    [0.99, 0.91, 0.82, 0.73],
    [0.99, 0.60, 0.45, 0.28],
)


def test_the_course_reading_of_the_curves_passes(capsys) -> None:
    assert check.intervention_effects("b", "b", LEAKY)
    assert "99.0% → 73.0%" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("loses", "hurt", "hint"),
    [
        ("d", "b", "sounds as if it can only help"),
        ("a", "b", "compare the first point (no intervention) with the last"),
        ("c", "b", "the Sigmoid CBM: 99.0% → 73.0%"),
        ("b", "a", "how far each dashed curve falls"),
        ("b", "c", "how far each dashed curve falls"),
    ],
)
def test_wrong_readings_get_the_students_numbers(loses, hurt, hint) -> None:
    assert hint in message_of(check.intervention_effects, loses, hurt, LEAKY)


def test_readings_follow_the_numbers_not_the_course() -> None:
    """Under-trained models may show other effects: the answer is judged on the curves given."""
    flat = [0.9, 0.9, 0.9, 0.9]
    assert check.intervention_effects("d", "c", _curves(flat, flat, flat, flat))
    cem_drops = _curves([0.9, 0.8, 0.7, 0.6], [0.9, 0.5, 0.3, 0.1], flat, [0.9, 0.85, 0.8, 0.8])
    assert check.intervention_effects("a", "a", cem_drops)
    assert "not what your curves show" in message_of(
        check.intervention_effects, "b", "a", cem_drops
    )
    # a drop of less than a point (6 of Trig's 600 test samples) is not a loss
    tiny = _curves(flat, flat, [0.9, 0.9, 0.9, 0.895], flat)
    assert check.intervention_effects("d", "c", tiny)


def test_effects_bad_input_is_named() -> None:
    with pytest.raises(NotAnswered):
        check.intervention_effects(..., "b", LEAKY)
    with pytest.raises(NotAnswered):
        check.intervention_effects("b", "b", ...)
    assert "one of the letters" in message_of(check.intervention_effects, "cbm", "b", LEAKY)
    assert "'correct' and 'incorrect'" in message_of(
        check.intervention_effects, "b", "b", {"cem": LEAKY["cem"]}
    )
    percent = {m: {k: [100 * v for v in vs] for k, vs in d.items()} for m, d in LEAKY.items()}
    assert "not percentages" in message_of(check.intervention_effects, "b", "b", percent)


# ---- task 4 ----------------------------------------------------------------------------------


def test_why_right_answer_passes() -> None:
    assert check.why_correct_hurts("b")
    assert check.why_correct_hurts(" B ")


@pytest.mark.parametrize(
    ("letter", "hint"),
    [
        ("a", "no noise"),
        ("c", "What is the best any such function can do on Trig"),
        ("d", "replaces the probability"),
    ],
)
def test_why_wrong_answers_get_their_hint(letter, hint) -> None:
    assert hint in message_of(check.why_correct_hurts, letter)
