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
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

from cem import __version__
from cem.data.datamodule import ConceptDataModule
from cem.data.dataset import SPLITS, DataConfig, build
from cem.data.spec import get_spec
from cem.devices import check_accelerator
from cem.errors import CemError, check
from cem.evaluate import evaluate_extras, resolve_evaluation
from cem.loggers import RunLoggers, check_logger, resolve_logger
from cem.models.inference import predict
from cem.models.lightning import ConceptLightningModule, split_metrics, stages_for
from cem.models.registry import resolve
from cem.progress import PlainProgress, use_progress_bar

TRAINER_DEFAULTS: dict[str, Any] = {
    "max_epochs": 500,
    "accelerator": "auto",
    "devices": 1,
    "check_val_every_n_epoch": 30,
    "early_stopping_patience": 15,  # validation checks; 0 turns early stopping off
    "progress": "auto",  # auto: a bar on a terminal, plain lines otherwise; or bar / plain / none
    "num_threads": 1,  # torch intra-op threads for this run (as cem-train); 0 = torch's default
    "fast_dev_run": False,
}
DATASET_DEFAULTS: dict[str, Any] = {
    **{f.name: f.default for f in fields(DataConfig) if f.name != "hidden_concepts"},
    "hidden_concepts": [],
    "protocol": "paper",
    "path": None,
    "batch_size": 256,
}


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


def _plain(cfg: Any) -> dict[str, Any]:
    """A dict or DictConfig (from Hydra) as plain nested dicts; None as {}."""
    if cfg is None:
        return {}
    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    if not isinstance(cfg, Mapping):
        raise CemError(f"config type={type(cfg).__name__!r} is invalid; allowed: dict, DictConfig")
    return {k: _plain(v) if isinstance(v, Mapping) else v for k, v in cfg.items()}


def resolve_config(cfg: Any = None) -> dict[str, Any]:
    """Fill a partial run config with defaults and validate every group."""
    cfg = _plain(cfg)
    allowed = ("dataset", "model", "trainer", "evaluation", "logger", "seed", "output_dir")
    unknown_keys = set(cfg) - {*allowed, "hydra"}
    if unknown_keys:
        raise CemError(
            f"config key {sorted(unknown_keys)[0]!r} is unknown; allowed: {', '.join(allowed)}"
        )
    out = {
        "seed": cfg.get("seed", 0),
        "dataset": {**DATASET_DEFAULTS, **_plain(cfg.get("dataset"))},
        "model": resolve(_plain(cfg.get("model"))),
        "trainer": {**TRAINER_DEFAULTS, **_plain(cfg.get("trainer"))},
        "evaluation": resolve_evaluation(_plain(cfg.get("evaluation"))),
        "logger": resolve_logger(_plain(cfg.get("logger"))),
        "output_dir": cfg.get("output_dir"),
    }
    check(isinstance(out["seed"], int) and out["seed"] >= 0, "seed", out["seed"], "an integer >= 0")
    t = out["trainer"]
    for key in t:
        if key not in TRAINER_DEFAULTS:
            raise CemError(f"trainer.{key} is unknown; allowed: {', '.join(TRAINER_DEFAULTS)}")
    me = t["max_epochs"]
    check(
        isinstance(me, int) and not isinstance(me, bool) and me >= 1,
        "trainer.max_epochs",
        me,
        "an integer >= 1",
    )
    ce = t["check_val_every_n_epoch"]
    check(isinstance(ce, int) and ce >= 1, "trainer.check_val_every_n_epoch", ce, "an integer >= 1")
    check(
        t["progress"] in ("auto", "bar", "plain", "none"),
        "trainer.progress",
        t["progress"],
        "auto, bar, plain, none",
    )
    bs = out["dataset"]["batch_size"]
    check(isinstance(bs, int) and bs >= 1, "dataset.batch_size", bs, "an integer >= 1")
    return out


def check_config(cfg: Any) -> dict[str, Any]:
    """Validate a full run config without training or generating data; return it resolved."""
    resolved = resolve_config(cfg)
    check_logger(resolved["logger"])
    ds = dict(resolved["dataset"])
    path = ds.pop("path")
    if path:
        if not Path(path).is_file():
            raise CemError(
                f"dataset.path={path!r} is not a file; allowed: a .npz, .csv or .pt "
                "file written by cem-data generate"
            )
        return resolved
    with _dataset_field():
        _data_config(ds).validate(get_spec(ds.get("name")))
    return resolved


@contextmanager
def _dataset_field() -> Iterator[None]:
    """Name dataset errors by their config key: ``size=-3`` becomes ``dataset.size=-3``."""
    try:
        yield
    except CemError as e:
        msg = str(e)
        if msg.startswith("dataset"):
            raise
        raise CemError(f"dataset.{msg}") from None


def _data_config(ds: Mapping[str, Any]) -> DataConfig:
    known = {f.name for f in fields(DataConfig)}
    settings = {k: v for k, v in ds.items() if k not in ("path", "batch_size")}
    for key in settings:
        if key not in known:
            raise CemError(f"dataset.{key} is unknown; allowed: {', '.join(sorted(known))}, path")
    settings["fractions"] = tuple(settings.get("fractions", (0.7, 0.1, 0.2)))
    settings["label_noise_splits"] = tuple(settings.get("label_noise_splits", ("train",)))
    return DataConfig(**settings)


def make_datamodule(dataset: Mapping[str, Any], seed: int) -> ConceptDataModule:
    """Build (or load, when ``path`` is set) the dataset of a resolved config."""
    path, batch_size = dataset["path"], dataset["batch_size"]
    if path:
        return ConceptDataModule.from_file(path, batch_size=batch_size, seed=seed)
    with _dataset_field():
        data = build(_data_config(dataset))
    return ConceptDataModule(data, batch_size=batch_size, seed=seed)


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
    cfg : dict or DictConfig with optional groups ``dataset`` (DataConfig fields, ``path`` to load
        a saved file, ``batch_size``), ``model`` (see ``cem.models.registry.DEFAULTS``), ``trainer``
        (``TRAINER_DEFAULTS``), ``seed`` (model seed) and ``output_dir`` (where ``metrics.json``,
        ``last.ckpt`` and the logger's files go; nothing is written when absent), ``logger``
        (``cem.loggers.LOGGER_DEFAULTS``: csv, tensorboard or mlflow). ``trainer.num_threads``
        is 1 as in ``cem-train`` (0: torch's default).

    Returns
    -------
    RunResult with ``metrics`` such as ``test/task_acc``, ``test/concept_acc``, ``epochs``,
    ``wall_time_s``. The same config and seed give the same metrics on CPU.
    """
    cfg = resolve_config(cfg)
    check_accelerator(cfg["trainer"]["accelerator"], cfg["trainer"]["devices"])
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


def _run(cfg: dict[str, Any]) -> RunResult:
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
            dm = make_datamodule(cfg["dataset"], seed)
            model_cfg = cfg["model"]
            stages = stages_for(model_cfg["name"])
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
                stage=stages[0],
            )
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
        "config": cfg,
        "versions": {
            "cem-bench": __version__,
            "torch": torch.__version__,
            "pytorch-lightning": pl.__version__,
            "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
    path = output_dir / "metrics.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str))
    os.replace(tmp, path)
    return path
