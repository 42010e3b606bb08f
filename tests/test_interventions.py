"""Test-time interventions on trained models."""

from __future__ import annotations

import pytest
import torch

from cem.errors import CemError
from cem.interventions import evaluate_intervention
from cem.metrics.classification import task_metrics
from cem.metrics.interventions import intervention_mask
from cem.train import run

CFG = {
    "dataset": {"name": "trig", "protocol": "random", "size": 1500, "seed": 3},
    "trainer": {"max_epochs": 40, "progress": "none", "check_val_every_n_epoch": 40},
    "seed": 0,
    "evaluation": {"interventions": False, "alignment": False, "impurity": False},
}
SMALL = {"emb_size": 8, "extractor": {"hidden": [64, 64], "out": 64}}


@pytest.fixture(scope="module")
def sigmoid_cbm():
    return run({**CFG, "model": {"name": "cbm_sigmoid", **SMALL}})


@pytest.fixture(scope="module")
def cem_model():
    return run({**CFG, "model": {"name": "cem", **SMALL}})


def test_no_intervention_equals_plain_metrics(sigmoid_cbm) -> None:
    x, c, y = sigmoid_cbm.datamodule.tensors["test"]
    m = evaluate_intervention(sigmoid_cbm.module.net, x, c, y, None)
    assert m["task_acc"] == pytest.approx(sigmoid_cbm.metrics["test/task_acc"])


def test_full_correct_intervention_reaches_label_predictor_on_true_concepts(sigmoid_cbm) -> None:
    net = sigmoid_cbm.module.net
    x, c, y = sigmoid_cbm.datamodule.tensors["test"]
    with torch.no_grad():
        on_true = task_metrics(net.c2y(c), y)["task_acc"]
    full = evaluate_intervention(net, x, c, y, list(range(c.shape[1])))["task_acc"]
    assert full >= on_true - 1e-9
    assert full >= sigmoid_cbm.metrics["test/task_acc"] - 0.01


# A Sigmoid CBM reads nothing but its concepts, so flipping them all collapses it; CEM's
# embeddings still carry x beside the concept, so it drops less (but must drop).
@pytest.mark.parametrize(("fixture", "margin"), [("sigmoid_cbm", 0.2), ("cem_model", 0.03)])
def test_incorrect_interventions_lower_accuracy(fixture: str, margin: float, request) -> None:
    r = request.getfixturevalue(fixture)
    x, c, y = r.datamodule.tensors["test"]
    plain = r.metrics["test/task_acc"]
    wrong = evaluate_intervention(r.module.net, x, c, y, [0, 1, 2], incorrect=True)["task_acc"]
    assert wrong < plain - margin


def test_cem_correct_interventions_help(cem_model) -> None:
    x, c, y = cem_model.datamodule.tensors["test"]
    full = evaluate_intervention(cem_model.module.net, x, c, y, [0, 1, 2])["task_acc"]
    assert full >= cem_model.metrics["test/task_acc"] - 0.01


def test_mask_forms_agree(sigmoid_cbm) -> None:
    net = sigmoid_cbm.module.net
    x, c, y = sigmoid_cbm.datamodule.tensors["test"]
    a = evaluate_intervention(net, x, c, y, [1])
    b = evaluate_intervention(net, x, c, y, torch.tensor([0, 1, 0]))
    full = torch.zeros_like(c, dtype=torch.bool)
    full[:, 1] = True
    assert a == b == evaluate_intervention(net, x, c, y, full)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (torch.ones(5, 2), r"mask shape=\(5, 2\) is invalid; allowed: \(10, 3\) or \(3,\)"),
        (torch.full((10, 3), 0.5), r"mask values are invalid; allowed: 0/1"),
        ([0, 3], r"concepts=\[0, 3\] is invalid; allowed: indices in 0..2"),
    ],
)
def test_bad_masks(spec, match: str) -> None:
    with pytest.raises(CemError, match=match):
        intervention_mask(spec, 10, 3)


def test_dnn_refuses_interventions() -> None:
    r = run(
        {**CFG, "model": {"name": "dnn", **SMALL}, "trainer": {**CFG["trainer"], "max_epochs": 1}}
    )
    x, c, y = r.datamodule.tensors["test"]
    with pytest.raises(CemError, match=r"interventions are undefined .* no concepts"):
        evaluate_intervention(r.module.net, x, c, y, [0])
