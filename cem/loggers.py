"""Experiment tracking through Lightning's own loggers: the ``logger`` config group.

* ``csv`` (default): ``CSVLogger`` into the run folder, ``log_<stage>/metrics.csv``.
* ``tensorboard``: ``TensorBoardLogger`` into the run folder, ``log_<stage>/events.*``
  (``pip install 'cem-bench[tensorboard]'``; then ``tensorboard --logdir outputs``).
* ``mlflow``: ``MLFlowLogger``, one MLflow run per cem-bench run, into a SQLite store
  (``sqlite:///outputs/mlflow.db`` by default, MLflow's recommended local store) or a local
  file store (``logger.tracking_uri=file:outputs/mlruns``) (``pip install 'cem-bench[mlflow]'``;
  then ``mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db``).

Every logger receives what the CSV log always held (``train/loss`` and the ``val/`` summary at
each validation) and, once the run is measured, its resolved config as hyper-parameters and
its final scalar metrics (``test/task_acc``, ``test/cas`` …). Loggers write only for runs that
have an ``output_dir`` (``cem-train`` runs always do).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cem.errors import CemError
from cem.settings import Rule, choice, defaults, resolve, setting, text

LOGGERS: tuple[str, ...] = ("csv", "tensorboard", "mlflow")
_EXTRAS = {"tensorboard": ("tensorboard", "tensorboard"), "mlflow": ("mlflow", "mlflow")}


def _store() -> Rule:
    """An MLflow store on this machine: ``sqlite:///PATH.db`` or ``file:DIR``."""
    return Rule(
        lambda v: isinstance(v, str) and v.startswith(("sqlite:///", "file:")),
        "a local store, sqlite:///PATH.db or file:DIR",
    )


@dataclass
class LoggerSettings:
    """The ``logger`` group (conf/logger/*.yaml name the choice; the defaults live here)."""

    name: str = setting("csv", choice(LOGGERS, label="logger"), "csv, tensorboard or mlflow")
    experiment_name: str = setting("cem-bench", text(), "the MLflow experiment")
    tracking_uri: str = setting("sqlite:///outputs/mlflow.db", _store(), "the MLflow store")


LOGGER_DEFAULTS: dict[str, Any] = defaults(LoggerSettings)


def resolve_logger(cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults ⊕ cfg, every value checked: one-line ``CemError`` naming the key."""
    return resolve(LoggerSettings, cfg, "logger")


def _require(name: str) -> None:
    module, extra = _EXTRAS[name]
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise CemError(
            f"logger={name!r} needs the {module} package, which is not installed; allowed: "
            f"logger=csv, or pip install 'cem-bench[{extra}]'"
        )


def check_logger(cfg: Mapping[str, Any]) -> None:
    """Fail before training when the chosen logger's package is missing."""
    if cfg["name"] in _EXTRAS:
        _require(cfg["name"])


@contextlib.contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Serialise MLflow's first use of a SQLite store across the processes of a sweep (each
    may otherwise try to create its tables at once)."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    db = Path(uri.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class RunLoggers:
    """The Lightning logger of each training stage of one run, then its final record.

    CSV and TensorBoard write one folder per stage (``log_<stage>``) in the run folder; MLflow
    keeps one MLflow run across stages.
    """

    def __init__(self, cfg: Mapping[str, Any], output_dir: Path | None, run_name: str) -> None:
        self.cfg, self.output_dir, self.run_name = dict(cfg), output_dir, run_name
        self.loggers: list[Any] = []
        self._mlflow: Any = None

    def for_stage(self, stage: str) -> Any:
        """A logger for ``stage`` (False when the run writes nothing)."""
        if self.output_dir is None:
            return False
        name = self.cfg["name"]
        if name == "csv":
            from pytorch_lightning.loggers import CSVLogger

            logger = CSVLogger(str(self.output_dir), name="", version=f"log_{stage}")
        elif name == "tensorboard":
            _require(name)
            from pytorch_lightning.loggers import TensorBoardLogger

            logger = TensorBoardLogger(
                str(self.output_dir), name="", version=f"log_{stage}", default_hp_metric=False
            )
        else:
            logger = self._mlflow or self._mlflow_logger()
            self._mlflow = logger
        if logger not in self.loggers:
            self.loggers.append(logger)
        return logger

    def _mlflow_logger(self) -> Any:
        _require("mlflow")
        from pytorch_lightning.loggers import MLFlowLogger

        uri = str(self.cfg["tracking_uri"])
        if uri.startswith("file:"):
            # MLflow 3 serves a file store only on request (it recommends a database store).
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        with _store_lock(uri):
            logger = MLFlowLogger(
                experiment_name=self.cfg["experiment_name"],
                tracking_uri=uri,
                run_name=self.run_name,
            )
            _ = logger.run_id  # creates the experiment and the run inside the lock
        return logger

    def finish(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        """Log the resolved config and the final scalar metrics to the last stage's logger."""
        if not self.loggers:
            return
        logger = self.loggers[-1]
        scalars = {
            k: float(v)
            for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        logger.log_hyperparams(_flatten(config))
        logger.log_metrics(scalars, step=int(scalars.get("epochs", 0)))
        logger.finalize("success")
        logger.save()


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v if isinstance(v, int | float | str | bool) or v is None else str(v)
    return out
