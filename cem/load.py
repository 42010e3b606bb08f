"""Reload a finished run for further analysis: ``load_run(dir) -> RunResult``.

::

    from cem.load import load_run
    r = load_run("outputs/runs/2026-01-01_12-00-00_xor_cem_s42")
    r.metrics["test/task_acc"], r.config["model"]["emb_size"]
    x, c, y = r.datamodule.tensors["test"]
    r.module.net(x)  # the trained network, in eval mode

The network comes from the run's ``last.ckpt`` (its weights after the last training stage, the
ones the metrics were measured on); the data are rebuilt from the recorded config (the same
config and seed give the same arrays), or read again from ``dataset.path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from cem.errors import CemError
from cem.models.concept_models import ConceptBottleneckModel
from cem.models.lightning import ConceptLightningModule
from cem.train import RunResult, make_datamodule


def load_run(run_dir: str | Path) -> RunResult:
    """The trained module, its data, config, metrics and curves of a ``cem-train`` run folder
    (or of ``run(cfg)`` with ``output_dir``).

    Raises ``CemError`` (one line) when the folder holds no completed run or no checkpoint.
    """
    run_dir = Path(run_dir)
    record_path = run_dir / "metrics.json"
    if not record_path.is_file():
        raise CemError(
            f"run directory {str(run_dir)!r} holds no metrics.json; allowed: the folder of one "
            "cem-train run (a sweep's runs are its subfolders)"
        )
    record = json.loads(record_path.read_text())
    if record.get("status") != "completed":
        raise CemError(
            f"run directory {str(run_dir)!r} holds a run with status "
            f"{record.get('status')!r}; allowed: a completed run"
        )
    ckpt = run_dir / "last.ckpt"
    if not ckpt.is_file():
        raise CemError(f"run directory {str(run_dir)!r} has no last.ckpt; allowed: a run folder")
    cfg = record["config"]
    module = ConceptLightningModule.load_from_checkpoint(str(ckpt), map_location="cpu")
    module.eval()
    dm = make_datamodule(cfg["dataset"], cfg["seed"])
    net = module.net
    if isinstance(net, ConceptBottleneckModel) and net.bottleneck == "logit":
        # Koh's intervention values (percentiles of the training logits) are set after
        # training, as run() does.
        with torch.no_grad():
            net.set_intervention_logits(dm.tensors["train"][0])
    return RunResult(record["metrics"], record.get("curves", {}), module, dm, cfg)
