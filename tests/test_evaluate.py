"""Evaluation beyond accuracy: intervention curves and their policies, stored by run()."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cem.data import build
from cem.data.dataset import ConceptData, Split
from cem.data.io import save
from cem.errors import CemError
from cem.evaluate import public_reps, resolve_evaluation
from cem.metrics.interventions import concept_groups, intervention_curve
from cem.train import run

SMALL = {"emb_size": 8, "extractor": {"hidden": [32, 32], "out": 32}}
TRAINER = {"max_epochs": 40, "progress": "none", "check_val_every_n_epoch": 40}


def and_dataset(path: Path) -> Path:
    """Concepts that fully and linearly determine the task (y = c0 AND c1), from noisy x, so a
    Sigmoid CBM's label predictor is right on true concepts and mistakes are concept mistakes."""
    rng = np.random.default_rng(0)
    base = build(name="xor", protocol="random", size=1500, seed=5)
    splits = {}
    for s, sp in base.splits.items():
        x = sp.x + rng.normal(0, 0.12, sp.x.shape)  # blurs the concepts near x_i = 0.5
        splits[s] = Split(x, sp.c, (sp.c[:, 0] & sp.c[:, 1]).astype(np.int64))
    save(ConceptData(splits, {**base.meta, "task_name": "c1 AND c2"}), path)
    return path


@pytest.fixture(scope="module")
def sigmoid_cbm(tmp_path_factory: pytest.TempPathFactory):
    path = and_dataset(tmp_path_factory.mktemp("and") / "and.npz")
    return run(
        {
            "dataset": {"path": str(path)},
            "model": {"name": "cbm_sigmoid", **SMALL},
            "trainer": {**TRAINER, "max_epochs": 100, "check_val_every_n_epoch": 100},
            "seed": 0,
            "evaluation": {"alignment": False, "impurity": False},
        }
    )


def curve(result, policy: str, kind: str) -> list[float]:
    return result.curves["interventions"][policy][kind]["task_acc"]


@pytest.mark.parametrize("policy", ["random", "uncertainty", "optimal_greedy"])
def test_curves_start_at_plain_accuracy(sigmoid_cbm, policy: str) -> None:
    for kind in ("correct", "incorrect"):
        assert curve(sigmoid_cbm, policy, kind)[0] == pytest.approx(
            sigmoid_cbm.metrics["test/task_acc"]
        )
        assert len(curve(sigmoid_cbm, policy, kind)) == 3  # 0, 1, 2 groups


@pytest.mark.parametrize("policy", ["random", "uncertainty", "optimal_greedy"])
def test_correct_interventions_never_lower_a_sigmoid_cbm(sigmoid_cbm, policy: str) -> None:
    acc = curve(sigmoid_cbm, policy, "correct")
    assert all(b >= a - 1e-9 for a, b in zip(acc, acc[1:], strict=False))
    assert acc[-1] > acc[0]  # the mistakes were concept mistakes: correcting them helps


def test_incorrect_interventions_lower_it(sigmoid_cbm) -> None:
    acc = curve(sigmoid_cbm, "random", "incorrect")
    assert acc[-1] < acc[0] - 0.3


def test_greedy_is_at_least_as_good_as_random(sigmoid_cbm) -> None:
    greedy, rand = (
        curve(sigmoid_cbm, "optimal_greedy", "correct"),
        curve(sigmoid_cbm, "random", "correct"),
    )
    assert all(g >= r - 1e-9 for g, r in zip(greedy, rand, strict=True))


def test_groups_are_intervened_as_a_whole(sigmoid_cbm) -> None:
    x, c, y = sigmoid_cbm.datamodule.tensors["test"]
    one = intervention_curve(sigmoid_cbm.module.net, x, c, y, "random", groups=[[0, 1]])
    assert one["n_groups"] == [0, 1]
    assert one["task_acc"][1] == pytest.approx(curve(sigmoid_cbm, "random", "correct")[-1])


def test_metrics_json_holds_the_curves(tmp_path: Path) -> None:
    r = run(
        {
            "dataset": {"name": "xor", "protocol": "random", "size": 300},
            "model": {"name": "cem", **SMALL},
            "trainer": {**TRAINER, "max_epochs": 2},
            "evaluation": {"alignment": False, "impurity": False, "policies": ["uncertainty"]},
            "output_dir": str(tmp_path),
        }
    )
    record = json.loads((tmp_path / "metrics.json").read_text())
    stored = record["curves"]["interventions"]["uncertainty"]["incorrect"]
    assert stored == r.curves["interventions"]["uncertainty"]["incorrect"]


def test_cas_clustering_accepts_one_name() -> None:
    assert resolve_evaluation({"cas_clustering": "public"})["cas_clustering"] == ["public"]
    assert resolve_evaluation(None)["cas_clustering"] == ["build"]


def test_both_cas_clusterings_are_stored(tmp_path: Path) -> None:
    r = run(
        {
            "dataset": {"name": "xor", "protocol": "random", "size": 300},
            "model": {"name": "cbm_sigmoid", **SMALL},
            "trainer": {**TRAINER, "max_epochs": 2},
            "evaluation": {
                "interventions": False,
                "impurity": False,
                "cas_clustering": ["build", "public"],
            },
            "output_dir": str(tmp_path),
        }
    )
    record = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("cas", "cas_public"):
        value = record["metrics"][f"test/{key}"]
        assert 0.0 <= value <= 1.0
        assert value == pytest.approx(r.metrics[f"test/{key}"])
        curve = np.array(record["curves"][key]["curve"])
        assert curve.shape == (2, 50)  # k concepts x the ρ grid
        assert np.mean([record["metrics"][f"test/{key}_{i}"] for i in range(2)]) == pytest.approx(
            value
        )


@pytest.mark.parametrize("name", ["cbm_bool", "cbm_hybrid_sigmoid", "cem"])
def test_public_reps_are_what_the_authors_code_clusters(name: str) -> None:
    r = run(
        {
            "dataset": {"name": "trig", "protocol": "random", "size": 200},
            "model": {"name": name, **SMALL},
            "trainer": {**TRAINER, "max_epochs": 1},
            "evaluation": {"interventions": False, "alignment": False, "impurity": False},
        }
    )
    net = r.module.net
    x = r.datamodule.tensors["test"][0]
    with torch.no_grad():
        out = net(x)
    ours = out.reps.numpy()
    public = public_reps(net, x, ours)
    if name == "cem":
        assert public is ours  # the mixed embeddings, as ours
        return
    probs = torch.sigmoid(out.c_logits).numpy()
    np.testing.assert_allclose(public[:, :, 0], probs, rtol=1e-6)  # Bool: σ(ĉ), not 0/1
    if name == "cbm_bool":
        assert set(np.unique(ours)) <= {0.0, 1.0}
        assert public.shape == (len(x), 3, 1)
        assert ((public > 0.01) & (public < 0.99)).any()
    else:  # each concept's score beside every free unit
        free = ours.reshape(len(x), -1)
        assert public.shape == (len(x), 3, 1 + free.shape[1])
        for i in range(3):
            np.testing.assert_array_equal(public[:, i, 1:], free)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: resolve_evaluation({"policies": ["oracle"]}),
            r"evaluation.policies='oracle' is unknown; allowed: optimal_greedy, random, "
            r"uncertainty",
        ),
        (lambda: resolve_evaluation({"polices": []}), r"evaluation.polices is unknown"),
        (
            lambda: resolve_evaluation({"cas_clustering": ["kmeans"]}),
            r"evaluation.cas_clustering='kmeans' is unknown; allowed: build, pam, public",
        ),
        (
            lambda: concept_groups([[0], [2]], 3),
            r"groups=\[\[0\], \[2\]\] is invalid \(missing \[1\]",
        ),
        (lambda: concept_groups([[0, 1], [1, 2]], 3), r"partition of the concepts 0..2"),
    ],
)
def test_bad_evaluation_input(call, match: str) -> None:
    with pytest.raises(CemError, match=match):
        call()


def test_unknown_policy_and_dnn(sigmoid_cbm) -> None:
    x, c, y = sigmoid_cbm.datamodule.tensors["test"]
    with pytest.raises(CemError, match=r"policy='best' is unknown"):
        intervention_curve(sigmoid_cbm.module.net, x, c, y, "best")
    dnn = run(
        {
            "dataset": {"name": "xor", "protocol": "random", "size": 200},
            "model": {"name": "dnn", **SMALL},
            "trainer": {**TRAINER, "max_epochs": 1},
            "evaluation": {"alignment": False, "impurity": False},
        }
    )
    assert "interventions" not in dnn.curves  # no concepts, no curves
    with pytest.raises(CemError, match="no concepts"):
        intervention_curve(dnn.module.net, x, c, y, "random")
    assert torch.is_tensor(x)
