"""The run config: one typed schema per group, the defaults in one place, resolved once.

Groups and their schemas (each default is written once, in its schema):

- ``dataset``: :class:`cem.data.settings.DatasetSettings` (generator settings or a file);
- ``model``: :class:`cem.models.registry.ModelSettings` (optimiser and scheduler from an
  allow-list, :mod:`cem.models.optim`);
- ``trainer``: :class:`TrainerSettings`;
- ``evaluation``: :class:`cem.evaluate.EvaluationSettings`;
- ``logger``: :class:`cem.loggers.LoggerSettings` (csv, tensorboard or mlflow);
- ``seed`` (the model seed) and ``output_dir``.

Hydra composes the same defaults (:func:`hydra_defaults`, stored as ``_defaults`` and listed first
in ``conf/train.yaml``), so the YAML files hold only what differs from them.
:func:`resolve_config` refuses unknown keys at every depth and checks every value, in one line
naming the key; it reads a dataset file once and checks its values too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from cem.data.dataset import ConceptData
from cem.data.settings import DatasetSettings, n_concepts, resolve_dataset
from cem.errors import CemError
from cem.evaluate import EvaluationSettings, resolve_evaluation
from cem.loggers import LoggerSettings, check_logger, resolve_logger
from cem.metrics.interventions import concept_groups
from cem.models.registry import DEFAULTS as MODEL_DEFAULTS
from cem.models.registry import resolve as resolve_model
from cem.settings import (
    INT_MAX,
    Rule,
    choice,
    defaults,
    flag,
    integer,
    is_int,
    optional,
    path,
    resolve,
    setting,
)

ACCELERATORS: tuple[str, ...] = ("cpu", "gpu", "cuda", "mps", "auto")
PROGRESS: tuple[str, ...] = ("auto", "bar", "plain", "none")
GROUPS: tuple[str, ...] = ("dataset", "model", "trainer", "evaluation", "logger")
TOP_KEYS: tuple[str, ...] = (*GROUPS, "seed", "output_dir")


@dataclass
class TrainerSettings:
    """The ``trainer`` group: the paper's schedule on one CPU thread (conf/trainer/cpu.yaml)."""

    max_epochs: int = setting(500, integer(1))
    accelerator: str = setting("cpu", choice(ACCELERATORS))
    # One device a run: the training step and the whole-split metrics assume it (sweeps run
    # runs side by side instead).
    devices: int = setting(1, Rule(lambda v: is_int(v) and v == 1, "1 (one device a run)", int))
    check_val_every_n_epoch: int = setting(30, integer(1))
    early_stopping_patience: int = setting(15, integer(0), "validation checks; 0: off")
    progress: str = setting("auto", choice(PROGRESS), "auto: a bar on a terminal, else lines")
    num_threads: int = setting(1, integer(0, 1024), "torch threads; 0 leaves torch's default")
    fast_dev_run: bool = setting(False, flag())


@dataclass
class TopSettings:
    """The run's own keys beside the groups."""

    seed: int = setting(42, integer(0, INT_MAX), "model seed (the paper: 42 + trial)")
    output_dir: str | None = setting(None, optional(path()), "where a run writes; null: nowhere")


class ResolvedConfig(dict):
    """A resolved run config: plain JSON-able dicts (what ``metrics.json`` records), plus the
    dataset file's data when it was read while resolving (``data``), so that a run reads it
    once. :func:`cem.train.run` takes it as it is, without resolving again."""

    data: ConceptData | None = None


def hydra_defaults() -> dict[str, Any]:
    """Every group's defaults, for Hydra to compose under the YAML files."""
    top = defaults(TopSettings)
    return {
        "seed": top["seed"],
        "dataset": defaults(DatasetSettings),
        "model": MODEL_DEFAULTS,
        "trainer": defaults(TrainerSettings),
        "evaluation": defaults(EvaluationSettings),
        "logger": defaults(LoggerSettings),
    }


def _plain(cfg: Any) -> dict[str, Any]:
    """A dict or DictConfig (from Hydra) as plain nested dicts; None as {}."""
    if cfg is None:
        return {}
    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    if not isinstance(cfg, Mapping):
        raise CemError(f"config type={type(cfg).__name__!r} is invalid; allowed: dict, DictConfig")
    return {k: _plain(v) if isinstance(v, (Mapping, DictConfig)) else v for k, v in cfg.items()}


def check_hardware(trainer: Mapping[str, Any]) -> None:
    """Refuse, before anything starts, an accelerator this machine does not have."""
    acc = trainer["accelerator"]
    if acc in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            raise CemError(
                f"trainer.accelerator={acc!r} needs a CUDA GPU, and torch {torch.__version__} "
                "sees none on this machine; allowed: cpu (trainer=cpu), or a CUDA build of "
                "torch on a machine with a GPU"
            )
    if acc == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise CemError(
                "trainer.accelerator='mps' needs Apple's Metal (MPS), which torch does not see "
                "on this machine; allowed: cpu"
            )


def resolve_config(cfg: Any = None, hardware: bool = True) -> ResolvedConfig:
    """Fill a partial run config with the defaults and check every key and value.

    Parameters
    ----------
    cfg : dict or DictConfig, partial (``{"model": {"name": "cbm_logit"}}``) or full
    hardware : also check that the accelerator, and the logger's package, are here (off for a
        launcher that trains on other machines)

    Returns
    -------
    ResolvedConfig with ``seed``, ``dataset``, ``model``, ``trainer``, ``evaluation``,
    ``logger`` and ``output_dir``; ``.data`` holds a dataset file's data when one was read.
    """
    if isinstance(cfg, ResolvedConfig):
        return cfg
    values = _plain(cfg)
    values.pop("hydra", None)
    for key in values:
        if key not in TOP_KEYS:
            raise CemError(f"config key {key!r} is unknown; allowed: {', '.join(TOP_KEYS)}")
    top = resolve(TopSettings, {k: values[k] for k in ("seed", "output_dir") if k in values})
    dataset, data = resolve_dataset(values.get("dataset"))
    evaluation = resolve_evaluation(values.get("evaluation"))
    groups = evaluation["groups"]
    if groups is not None:
        k = n_concepts(dataset, data)
        try:
            concept_groups(groups, k)
        except CemError:
            raise CemError(
                f"evaluation.groups={groups!r} is invalid; allowed: a partition of the "
                f"concepts 0..{k - 1} into non-empty groups"
            ) from None
    trainer = resolve(TrainerSettings, values.get("trainer"), "trainer")
    logger = resolve_logger(values.get("logger"))
    if hardware:
        check_hardware(trainer)
        check_logger(logger)
    out = ResolvedConfig(
        seed=top["seed"],
        dataset=dataset,
        model=resolve_model(values.get("model")),
        trainer=trainer,
        evaluation=evaluation,
        logger=logger,
        output_dir=top["output_dir"],
    )
    out.data = data
    return out
