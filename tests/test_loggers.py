"""The logger group: a run's metrics reach each store through Lightning's own logger."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cem.errors import CemError
from cem.loggers import resolve_logger
from cem.train import run

TINY = {
    "dataset": {"name": "xor", "protocol": "random", "size": 150},
    "model": {"name": "cbm_sequential", "emb_size": 2, "extractor": {"hidden": [8], "out": 8}},
    "trainer": {"max_epochs": 2, "check_val_every_n_epoch": 1, "progress": "none"},
    "evaluation": {"interventions": False, "alignment": False, "impurity": False},
    "seed": 0,
}


def tiny_run(tmp_path: Path, logger: dict) -> dict:
    return run({**TINY, "logger": logger, "output_dir": str(tmp_path / "run")}).metrics


def test_csv_holds_the_training_curve_and_the_final_metrics(tmp_path: Path) -> None:
    metrics = tiny_run(tmp_path, {"name": "csv"})
    # Two stages (concepts, then the head): one folder each; the final record goes to the last.
    first = list(csv.DictReader((tmp_path / "run/log_concepts/metrics.csv").open()))
    assert [r["train/loss"] for r in first if r.get("train/loss")]  # the curve
    last = list(csv.DictReader((tmp_path / "run/log_task_predicted/metrics.csv").open()))
    final = [r for r in last if r.get("test/task_acc")]
    assert float(final[-1]["test/task_acc"]) == pytest.approx(metrics["test/task_acc"])
    hparams = (tmp_path / "run/log_task_predicted/hparams.yaml").read_text()
    assert "model.name: cbm_sequential" in hparams


def test_tensorboard_events_hold_the_metrics(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    metrics = tiny_run(tmp_path, {"name": "tensorboard"})
    events = EventAccumulator(str(tmp_path / "run/log_task_predicted")).Reload()
    assert events.Scalars("test/task_acc")[-1].value == pytest.approx(metrics["test/task_acc"])
    first = EventAccumulator(str(tmp_path / "run/log_concepts")).Reload()
    assert len(first.Scalars("train/loss")) >= 1


@pytest.mark.parametrize("store", ["sqlite", "file"])
def test_mlflow_store_holds_the_run(tmp_path: Path, store: str) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path}/mlflow.db" if store == "sqlite" else f"file:{tmp_path}/mlruns"
    metrics = tiny_run(tmp_path, {"name": "mlflow", "tracking_uri": uri, "experiment_name": "t"})
    client = MlflowClient(tracking_uri=uri)
    (found,) = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    assert found.data.metrics["test/task_acc"] == pytest.approx(metrics["test/task_acc"])
    assert found.data.params["model.name"] == "cbm_sequential"
    # One MLflow run across both training stages, with the training curve in it.
    assert client.get_metric_history(found.info.run_id, "train/loss")
    assert found.info.status == "FINISHED"


def test_bad_logger_settings() -> None:
    with pytest.raises(CemError, match=r"^logger='wandb' is unknown; allowed: csv, mlflow"):
        resolve_logger({"name": "wandb"})
    with pytest.raises(CemError, match=r"^logger.tracking_uri='http://x' is invalid"):
        resolve_logger({"name": "mlflow", "tracking_uri": "http://x"})
    with pytest.raises(CemError, match=r"^logger.savedir is unknown"):
        resolve_logger({"savedir": "x"})
