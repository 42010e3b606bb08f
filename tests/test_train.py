"""Training end to end through ``cem.train.run``: learning, determinism, stages, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cem.errors import CemError
from cem.models import VARIANTS
from cem.models.inference import predict
from cem.train import run

SMALL_MODEL = {"emb_size": 8, "extractor": {"hidden": [64, 64], "out": 64}}
XOR = {"name": "xor", "protocol": "random", "size": 1000, "seed": 1}
QUICK = {"max_epochs": 60, "progress": "none", "check_val_every_n_epoch": 60}
NO_EXTRAS = {"interventions": False, "alignment": False, "impurity": False}


def quick_run(name: str, **extra: object) -> dict:
    cfg = {
        "dataset": XOR,
        "model": {"name": name, **SMALL_MODEL},
        "trainer": QUICK,
        "seed": 0,
        "evaluation": NO_EXTRAS,
    }
    cfg.update(extra)
    return run(cfg)


@pytest.fixture(scope="module")
def xor_runs() -> dict:
    return {name: quick_run(name) for name in sorted(VARIANTS)}


@pytest.mark.parametrize("name", ["cem", "cbm_hybrid_sigmoid", "cbm_hybrid_logit", "dnn"])
def test_embedding_models_learn_xor(xor_runs: dict, name: str) -> None:
    assert xor_runs[name].metrics["test/task_acc"] >= 0.95


@pytest.mark.parametrize("name", sorted(set(VARIANTS) - {"dnn"}))
def test_concept_models_learn_xor_concepts(xor_runs: dict, name: str) -> None:
    m = xor_runs[name].metrics
    assert m["test/concept_acc"] >= 0.95
    assert m["test/concept_auc"] >= 0.95


def test_metrics_cover_every_split(xor_runs: dict) -> None:
    m = xor_runs["cem"].metrics
    for split in ("train", "val", "test"):
        for key in ("task_acc", "task_auc", "concept_acc", "concept_auc", "concept_acc_0"):
            assert 0.0 <= m[f"{split}/{key}"] <= 1.0
    assert "test/concept_acc" not in xor_runs["dnn"].metrics
    assert m["epochs"] == 60


@pytest.mark.parametrize("name", ["cbm_sequential", "cbm_independent"])
def test_two_stage_models_report_the_composed_model(xor_runs: dict, name: str) -> None:
    r = xor_runs[name]
    x, c, y = r.datamodule.tensors["test"]
    out = predict(r.module.net, x)  # x -> predicted concepts -> c2y
    acc = float(((torch.sigmoid(out.y_logits.squeeze(1)) >= 0.5).long() == y).float().mean())
    assert r.metrics["test/task_acc"] == pytest.approx(acc)
    assert r.metrics["epochs"] == 2 * QUICK["max_epochs"]  # both stages ran
    history = r.curves["train_loss"]  # every epoch of each stage
    second = {"cbm_sequential": "task_predicted", "cbm_independent": "task_true"}[name]
    assert list(history) == ["concepts", second]
    assert [len(v) for v in history.values()] == [QUICK["max_epochs"]] * 2
    assert history["concepts"][-1] < history["concepts"][0]  # the concept loss went down


def test_independent_head_was_trained_on_true_concepts(xor_runs: dict) -> None:
    # A linear head on XOR's true binary concepts cannot beat 75%: if it had seen predicted
    # (soft) concepts in training it would behave differently from the sequential one.
    ind, seq = xor_runs["cbm_independent"], xor_runs["cbm_sequential"]
    assert not torch.equal(ind.module.net.c2y.weight, seq.module.net.c2y.weight)


def test_same_seed_same_metrics_and_different_seed_differs() -> None:
    ra, rb, rc = quick_run("cem"), quick_run("cem"), quick_run("cem", seed=1)
    drop = {"wall_time_s", "train_time_s", "eval_time_s"}
    assert {k: v for k, v in ra.metrics.items() if k not in drop} == {
        k: v for k, v in rb.metrics.items() if k not in drop
    }
    assert ra.curves["train_loss"] == rb.curves["train_loss"]
    # Another seed trains another model (metrics of a small test set can still coincide).
    wa, wb, wc = (torch.cat([p.flatten() for p in r.module.parameters()]) for r in (ra, rb, rc))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    assert ra.curves["train_loss"] != rc.curves["train_loss"]


def test_run_leaves_global_rng_untouched() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    quick_run("cbm_sigmoid", trainer={**QUICK, "max_epochs": 2})
    torch.testing.assert_close(torch.rand(3), expected)


def test_hidden_concepts_get_no_supervision() -> None:
    r = quick_run("cbm_sigmoid", dataset={**XOR, "hidden_concepts": [1]})
    m = r.metrics
    assert m["test/concept_acc_0"] >= 0.95
    assert m["test/concept_acc_1"] < 0.9  # never supervised: no reason to align with x2 > 0.5


def test_output_dir_gets_metrics_checkpoint_and_log(tmp_path: Path) -> None:
    r = quick_run(
        "cbm_logit",
        output_dir=str(tmp_path),
        trainer={**QUICK, "max_epochs": 3, "check_val_every_n_epoch": 1},
    )
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["metrics"]["test/task_acc"] == r.metrics["test/task_acc"]
    assert record["model"] == "cbm_logit" and record["config"]["seed"] == 0
    assert (tmp_path / "last.ckpt").stat().st_size > 0
    assert list(tmp_path.rglob("metrics.csv"))
    from cem.models.lightning import ConceptLightningModule

    reloaded = ConceptLightningModule.load_from_checkpoint(tmp_path / "last.ckpt")
    x = r.datamodule.tensors["test"][0]
    torch.testing.assert_close(predict(reloaded.net, x).y_logits, predict(r.module.net, x).y_logits)


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        ({"model": {"name": "cbn"}}, r"model='cbn' is unknown"),
        ({"trainer": {"max_epochs": "abc"}}, r"trainer.max_epochs='abc' is invalid"),
        ({"trainer": {"max_epoch": 3}}, r"trainer.max_epoch is unknown; allowed: max_epochs"),
        ({"dataset": {"name": "xr"}}, r"dataset='xr' is unknown; allowed: dot, trig, xor"),
        ({"dataset": {"size": -3, "protocol": "random"}}, r"size=-3 is invalid"),
        ({"dataset": {"batch_size": 0}}, r"dataset.batch_size=0 is invalid"),
        ({"seed": -1}, r"seed=-1 is invalid"),
        ({"modle": {}}, r"config key 'modle' is unknown"),
    ],
)
def test_bad_run_config(cfg: dict, match: str) -> None:
    with pytest.raises(CemError, match=match):
        run(cfg)


def test_epoch_blocks_train_exactly_like_one_epoch_at_a_time() -> None:
    # run() makes one Lightning epoch of each validation interval; the training must not change.
    base = {"max_epochs": 25, "progress": "none", "early_stopping_patience": 0}
    one = quick_run("cbm_hybrid_sigmoid", trainer={**base, "check_val_every_n_epoch": 1})
    blocks = quick_run("cbm_hybrid_sigmoid", trainer={**base, "check_val_every_n_epoch": 10})
    assert one.metrics["epochs"] == blocks.metrics["epochs"] == 25  # blocks of 10, 10 and 5
    assert len(blocks.curves["train_loss"]["joint"]) == 25
    assert one.curves["train_loss"] == blocks.curves["train_loss"]
    for p, q in zip(one.module.parameters(), blocks.module.parameters(), strict=True):
        assert torch.equal(p, q)


def test_run_pins_one_torch_thread_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # Like cem-train: one thread per run unless trainer.num_threads says otherwise (0 = torch's).
    calls: list[int] = []
    original = torch.set_num_threads

    def record(n: int) -> None:
        calls.append(n)
        original(n)

    monkeypatch.setattr(torch, "set_num_threads", record)
    before = torch.get_num_threads()
    quick_run("cbm_sigmoid", trainer={**QUICK, "max_epochs": 1})
    assert calls == [1, before] and torch.get_num_threads() == before  # pinned, then restored
    calls.clear()
    quick_run("cbm_sigmoid", trainer={**QUICK, "max_epochs": 1, "num_threads": 0})
    assert calls == [before]  # left alone (only the restore)
