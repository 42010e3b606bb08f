"""The training entry point: ``run(cfg) -> RunResult``. The only place that builds a Trainer.

The same function serves Python users, ``cem-train`` and sweeps::

    from cem.train import run
    result = run({"dataset": {"name": "xor"}, "model": {"name": "cem"},
                  "trainer": {"max_epochs": 50}, "seed": 0})
    result.metrics["test/task_acc"]
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

from cem import __version__
from cem.config import ResolvedConfig, resolve_config
from cem.data.datamodule import ConceptDataModule
from cem.data.dataset import SPLITS, ConceptData
from cem.data.settings import make_data
from cem.evaluate import evaluate_extras
from cem.loggers import RunLoggers
from cem.models.inference import predict
from cem.models.lightning import ConceptLightningModule, split_metrics
from cem.progress import DataEpochBar, PlainProgress, use_progress_bar


@dataclass
class RunResult:
    """What a run returns: final metrics (``train/…``, ``val/…``, ``test/…``), curves
    (``interventions``, ``cas``, and ``train_loss``: stage -> mean training loss of every epoch),
    the trained module, its data and the resolved config."""

    metrics: dict[str, Any]
    curves: dict[str, Any]
    module: ConceptLightningModule
    datamodule: ConceptDataModule
    config: dict[str, Any]


def make_datamodule(
    dataset: Mapping[str, Any], seed: int, data: ConceptData | None = None
) -> ConceptDataModule:
    """The DataModule of resolved dataset settings (``data``: the file's, when already read)."""
    return ConceptDataModule(make_data(dict(dataset), data), dataset["batch_size"], seed)


def _trainer(
    t: Mapping[str, Any],
    output_dir: Path | None,
    stage: str,
    n_stages: int,
    block: int = 1,
    logger: Any = False,
) -> pl.Trainer:
    """A Trainer whose epochs are blocks of ``block`` data epochs, validated after each block
    (``block`` = the validation interval; see ``ConceptDataModule.set_epoch_blocks``)."""
    callbacks: list[pl.Callback] = []
    if t["early_stopping_patience"] and stage in ("joint", "concepts"):
        callbacks.append(EarlyStopping("val/loss", patience=t["early_stopping_patience"]))
    show_bar = use_progress_bar(t["progress"])
    if t["progress"] in ("auto", "plain") and not show_bar:
        callbacks.append(PlainProgress(stage if n_stages > 1 else ""))
    if show_bar:  # counts data epochs, not Lightning's blocks of them
        callbacks.append(DataEpochBar(stage if n_stages > 1 else ""))
    if output_dir is not None:
        callbacks.append(
            ModelCheckpoint(
                dirpath=str(output_dir),
                filename="last",
                save_top_k=0,
                save_last=True,
                enable_version_counter=False,
            )
        )
    return pl.Trainer(
        max_epochs=-(-t["max_epochs"] // block),
        accelerator=t["accelerator"],
        devices=t["devices"],
        check_val_every_n_epoch=t["check_val_every_n_epoch"] if block == 1 else 1,
        num_sanity_val_steps=0,
        logger=logger,
        callbacks=callbacks,
        enable_checkpointing=output_dir is not None,
        enable_progress_bar=show_bar,
        enable_model_summary=False,
        fast_dev_run=t["fast_dev_run"],
        log_every_n_steps=10**9,  # we log once per epoch, never per step
    )


def evaluate(module: ConceptLightningModule, dm: ConceptDataModule) -> dict[str, float]:
    """Whole-split metrics for train, val and test under keys ``split/metric``."""
    metrics: dict[str, float] = {}
    for split in SPLITS:
        x, c, y = dm.tensors[split]
        if len(y) == 0:
            continue
        out = predict(module.net, x, None, None)
        metrics.update({f"{split}/{k}": v for k, v in split_metrics(out, c, y).items()})
    return metrics


def run(cfg: Any = None) -> RunResult:
    """Train, then measure, one model on one dataset with one seed.

    Parameters
    ----------
    cfg : dict or DictConfig with optional groups ``dataset`` (DataConfig fields, or ``path`` of
        a file; ``batch_size``), ``model``, ``trainer``, ``evaluation``, ``logger`` (csv,
        tensorboard or mlflow; the schemas in :mod:`cem.config`), ``seed`` (model seed) and
        ``output_dir`` (where ``metrics.json``, ``last.ckpt`` and the logger's files go; nothing
        is written when absent). A :class:`~cem.config.ResolvedConfig` is used as it is;
        anything else is resolved here, once, and every value checked before any data are made.
        ``trainer.num_threads`` is 1, as in ``cem-train`` (0: torch's default).

    Returns
    -------
    RunResult with ``metrics`` such as ``test/task_acc``, ``test/concept_acc``, ``epochs``,
    ``wall_time_s``. The same config and seed give the same metrics on CPU.
    """
    cfg = resolve_config(cfg)  # a ResolvedConfig comes back as it is
    with warnings.catch_warnings(), _quiet_lightning():
        for message in _NOISE:
            warnings.filterwarnings("ignore", message=message)
        return _run(cfg)


# Lightning chatter that says nothing about this run: the in-memory loader yields one batch an
# epoch (so the logging-interval hint is moot), a torch/Lightning deprecation notice, and the
# notice that our module's own batch transfer (a no-op for on-device data) is the one used.
_NOISE = (
    r".*smaller than the logging interval.*",
    r".*LeafSpec.*is deprecated.*",
    r".*overridden `transfer_batch_to_device`.*",
)


@contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Lightning's INFO lines (GPU available, tips) off for the run, restored afterwards."""
    loggers = [logging.getLogger(n) for n in ("pytorch_lightning", "lightning.pytorch")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _run(cfg: ResolvedConfig) -> RunResult:
    t0 = time.perf_counter()
    seed, t = cfg["seed"], cfg["trainer"]
    output_dir = Path(cfg["output_dir"]) if cfg["output_dir"] else None
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()
    if t["num_threads"]:
        torch.set_num_threads(int(t["num_threads"]))
    devices = list(range(torch.cuda.device_count()))
    try:
        # Seed torch inside a forked RNG so that a run never changes the caller's global state.
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            dm = make_datamodule(cfg["dataset"], seed, cfg.data)
            model_cfg = cfg["model"]
            pos_weight = (
                dm.concept_pos_weight().tolist()
                if model_cfg["concept_weights"] == "balanced"
                else None
            )
            n_out = 1 if dm.n_classes <= 2 else dm.n_classes
            module = ConceptLightningModule(
                model_cfg,
                dm.n_features,
                dm.n_concepts,
                n_out,
                supervised=dm.supervised.tolist(),
                pos_weight=pos_weight,
                resolved=True,
            )
            stages = module.stages
            epochs = 0
            t_fit = time.perf_counter()
            # One Lightning epoch = the data epochs between two validations (one block, run in
            # one training_step): Lightning's fixed per-epoch cost is paid once a validation.
            block = 1 if t["fast_dev_run"] else min(t["check_val_every_n_epoch"], t["max_epochs"])
            dm.set_epoch_blocks(block, None if t["fast_dev_run"] else t["max_epochs"])
            name = f"{model_cfg['name']}_{cfg['dataset'].get('name')}_s{seed}"
            loggers = RunLoggers(cfg["logger"], output_dir, name)
            for stage in stages:
                module.stage = stage
                logger = loggers.for_stage(stage)
                trainer = _trainer(t, output_dir, stage, len(stages), block, logger)
                trainer.fit(module, datamodule=dm)
                epochs += len(module.loss_history[stage])
            train_time = time.perf_counter() - t_fit
            t_eval = time.perf_counter()
            # Training moved the data to the accelerator, and Lightning hands the module back on
            # the CPU after fit: evaluate with both on the module's device.
            dm.to(next(module.net.parameters()).device)
            metrics: dict[str, Any] = evaluate(module, dm)
            ev = cfg["evaluation"]
            split = ev["split"]
            extra, curves = evaluate_extras(module.net, dm.tensors[split], ev, prefix=split)
            curves["train_loss"] = module.loss_history
            metrics.update(extra)
            eval_time = time.perf_counter() - t_eval
    finally:
        torch.set_num_threads(threads)
    metrics.update(
        {
            "epochs": epochs,
            "wall_time_s": time.perf_counter() - t0,
            "train_time_s": train_time,
            "eval_time_s": eval_time,
        }
    )
    loggers.finish(cfg, metrics)
    if output_dir is not None:
        write_metrics(output_dir, cfg, metrics, curves)
    return RunResult(metrics, curves, module, dm, cfg)


def write_metrics(
    output_dir: Path,
    cfg: Mapping[str, Any],
    metrics: Mapping[str, Any],
    curves: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``metrics.json`` (config, metrics, curves, versions) atomically into ``output_dir``."""
    import numpy
    import sklearn

    record = {
        "status": "completed",
        "dataset": cfg["dataset"].get("name"),
        "model": cfg["model"]["name"],
        "seed": cfg["seed"],
        "metrics": dict(metrics),
        "curves": dict(curves or {}),
        "config": dict(cfg),
        "versions": {
            "cem-bench": __version__,
            "torch": torch.__version__,
            "pytorch-lightning": pl.__version__,
            "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
    from cem.data.io import write_text

    # A temporary name of this process's own, moved into place: never a half-written record.
    return write_text(output_dir / "metrics.json", json.dumps(record, indent=2, default=str), True)
