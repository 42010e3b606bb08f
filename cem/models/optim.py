"""Optimisers and LR schedulers from config, by name from an allow-list: no config runs code.

A config names a class of ``torch.optim`` (``model.optimizer._target_: torch.optim.Adam``, or just
``Adam``) or of ``torch.optim.lr_scheduler`` and gives its keyword arguments as plain values::

    optimizer: {_target_: torch.optim.Adam, _partial_: true, lr: 0.01, weight_decay: 0.0}

Nothing is imported or called by name: the class comes from the tables below, the keywords must be
the class's own (numbers, booleans, strings, null or flat lists), and the pair is tried on a dummy
parameter when the config is resolved, so a bad value (``lr=-1``) fails before any training. Any
other ``_target_``, or a nested mapping, is refused.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler

from cem.errors import CemError, unknown
from cem.settings import is_real

# Excluded: the base class, and optimisers our training step cannot drive (LBFGS needs a closure
# per step, SparseAdam sparse gradients, Muon 2-D parameters only).
_NOT_OPTIMIZERS = {"Optimizer", "LBFGS", "SparseAdam", "Muon"}
# Excluded: base classes, and schedulers that take Python functions or other schedulers.
_NOT_SCHEDULERS = {
    "LRScheduler",
    "_LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "SequentialLR",
    "ChainedScheduler",
}


def _classes(module: Any, bases: tuple[type, ...], excluded: set[str]) -> dict[str, type]:
    return {
        name: cls
        for name, cls in sorted(vars(module).items())
        if isinstance(cls, type) and issubclass(cls, bases) and name not in excluded
    }


OPTIMIZERS: dict[str, type] = _classes(torch.optim, (torch.optim.Optimizer,), _NOT_OPTIMIZERS)
SCHEDULERS: dict[str, type] = _classes(
    lr_scheduler, (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau), _NOT_SCHEDULERS
)
_PREFIX = {"optimizer": "torch.optim.", "scheduler": "torch.optim.lr_scheduler."}
_TABLE = {"optimizer": OPTIMIZERS, "scheduler": SCHEDULERS}
_RESERVED = ("_target_", "_partial_")


def class_name(kind: str, target: object, field: str) -> str:
    """The allow-listed class name of ``target`` (``torch.optim.Adam`` or ``Adam``)."""
    table, prefix = _TABLE[kind], _PREFIX[kind]
    name = (
        target[len(prefix) :] if isinstance(target, str) and target.startswith(prefix) else target
    )
    if not isinstance(name, str) or name not in table:
        raise unknown(field, target, [prefix + n for n in table])
    return name


def keywords(cls: type) -> list[str]:
    """The keyword arguments of a class beside the parameters / the optimiser it receives."""
    params = list(inspect.signature(cls.__init__).parameters.values())[2:]  # self, params|opt
    return [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _plain_value(v: object) -> bool:
    if isinstance(v, (list, tuple)):
        return all(_plain_value(x) and not isinstance(x, (list, tuple)) for x in v)
    return v is None or isinstance(v, (bool, str)) or is_real(v)


def resolve_component(
    kind: str, values: Any, default: Mapping[str, Any] | None, field: str
) -> dict[str, Any] | None:
    """A checked optimiser (``kind="optimizer"``) or scheduler config, or None (no scheduler).

    ``values`` fills ``default``; keywords of the default class that the chosen class does not
    take are dropped while they keep their default value (they are another class's defaults).
    """
    table = _TABLE[kind]
    if values is None:
        if kind == "scheduler":
            return None
        raise CemError(f"{field}=None is invalid; allowed: a mapping with _target_ (an optimizer)")
    if not isinstance(values, Mapping):
        raise CemError(
            f"{field}={values!r} is invalid; allowed: a mapping with _target_ and keywords"
            + (", or null" if kind == "scheduler" else "")
        )
    default = dict(default or {})
    merged = {**default, **dict(values)}
    if "_target_" not in merged:
        raise CemError(f"{field}._target_ is missing; allowed: {', '.join(table)}")
    name = class_name(kind, merged.pop("_target_"), f"{field}._target_")
    partial = merged.pop("_partial_", True)
    if partial is not True:
        raise CemError(
            f"{field}._partial_={partial!r} is invalid; allowed: true (completed in training)"
        )
    cls = table[name]
    allowed = keywords(cls)
    same_class = default and class_name(kind, default["_target_"], field) == name
    kwargs: dict[str, Any] = {}
    for key, v in merged.items():
        if key not in allowed:
            if not same_class and key in default and default[key] == v:
                continue  # a default of the other class, not a setting of this one
            raise CemError(
                f"{field}.{key} is unknown; allowed: _target_, _partial_, and the keywords of "
                f"{_PREFIX[kind]}{name}: {', '.join(allowed)}"
            )
        if isinstance(v, Mapping) or not _plain_value(v):
            raise CemError(
                f"{field}.{key}={v!r} is invalid; allowed: a number, boolean, string, null or a "
                "flat list (no nested configs)"
            )
        kwargs[key] = list(v) if isinstance(v, tuple) else v
    if "lr" in kwargs and not (is_real(kwargs["lr"]) and kwargs["lr"] > 0):
        raise CemError(f"{field}.lr={kwargs['lr']!r} is invalid; allowed: a finite number > 0")
    return {"_target_": _PREFIX[kind] + name, "_partial_": True, **kwargs}


def _kwargs(cfg: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cfg.items() if k not in _RESERVED}


def build_optimizer(cfg: Mapping[str, Any], params: Iterable[Any]) -> torch.optim.Optimizer:
    """The optimiser of a resolved config over ``params``."""
    return OPTIMIZERS[class_name("optimizer", cfg["_target_"], "optimizer")](params, **_kwargs(cfg))


def build_scheduler(cfg: Mapping[str, Any], optimizer: torch.optim.Optimizer) -> Any:
    """The LR scheduler of a resolved config on ``optimizer``."""
    return SCHEDULERS[class_name("scheduler", cfg["_target_"], "scheduler")](
        optimizer, **_kwargs(cfg)
    )


def try_build(
    optimizer: Mapping[str, Any], scheduler: Mapping[str, Any] | None, field: str
) -> None:
    """Build both on a dummy parameter so that torch's own checks (``Invalid learning rate``,
    a missing required keyword) fail now, in one line, instead of after data are made."""
    key, cfg = "optimizer", optimizer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = build_optimizer(optimizer, [torch.nn.Parameter(torch.zeros(1))])
            if scheduler is not None:
                key, cfg = "scheduler", scheduler
                build_scheduler(scheduler, opt)
    except (TypeError, ValueError, RuntimeError, KeyError) as e:
        why = " ".join(str(e).split())
        raise CemError(
            f"{field}.{key}={dict(cfg)!r} is invalid ({why}); allowed: the keywords and values "
            f"that {cfg['_target_']} accepts"
        ) from None
