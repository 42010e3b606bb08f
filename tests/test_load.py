"""load_run: a finished run folder gives back the trained model, its config and its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cem.errors import CemError
from cem.evaluate import evaluate_extras
from cem.load import load_run
from cem.train import evaluate, run

SMALL = {"emb_size": 4, "extractor": {"hidden": [16], "out": 16}}


def small_run(tmp_path: Path, model: str) -> dict:
    cfg = {
        "dataset": {"name": "trig", "protocol": "random", "size": 400, "seed": 3},
        "model": {"name": model, **SMALL},
        "trainer": {"max_epochs": 12, "check_val_every_n_epoch": 5, "progress": "none"},
        "evaluation": {"policies": ["uncertainty"], "alignment": False, "impurity": False},
        "seed": 7,
        "output_dir": str(tmp_path / model),
    }
    return run(cfg)


@pytest.mark.parametrize("model", ["cem", "cbm_sequential", "cbm_logit"])
def test_reloaded_model_has_the_recorded_accuracy(tmp_path: Path, model: str) -> None:
    trained = small_run(tmp_path, model)
    loaded = load_run(tmp_path / model)
    assert loaded.config == json.loads(json.dumps(trained.config))  # as recorded (JSON)
    again = evaluate(loaded.module, loaded.datamodule)
    for key in ("test/task_acc", "test/task_auc", "test/concept_acc", "val/task_acc"):
        assert again[key] == loaded.metrics[key] == trained.metrics[key]
    # Interventions too (a Logit CBM's intervention values are restored from the train split).
    _, curves = evaluate_extras(
        loaded.module.net, loaded.datamodule.tensors["test"], loaded.config["evaluation"]
    )
    assert curves["interventions"] == trained.curves["interventions"]


def test_bad_run_dirs(tmp_path: Path) -> None:
    with pytest.raises(CemError, match=r"holds no metrics.json"):
        load_run(tmp_path)
    (tmp_path / "metrics.json").write_text('{"status": "failed"}')
    with pytest.raises(CemError, match=r"status 'failed'; allowed: a completed run"):
        load_run(tmp_path)
