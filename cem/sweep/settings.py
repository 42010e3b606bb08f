"""The sweepers' settings (``hydra.sweeper.*``): typed schemas, defaults once, values checked.

cem-train's sweeper (``hydra/sweeper=cem``, the default) takes :class:`SweeperSettings`: every
combination of the swept values, or with ``search`` (``experiment=pareto``) a Pareto search per
combination, configured by :class:`SearchSettings`, whose ``space`` maps a run setting to a
:class:`Dimension`::

    space:
      model.concept_loss_weight: {low: 0.001, high: 10, log: true}
      model.emb_size: {type: int, low: 2, high: 128, log: true}
      model.extractor.hidden: {type: int, low: 16, high: 256, log: true, repeat: 2}  # [w, w]
      model.intervention_granularity: {type: choice, choices: [sample, batch]}

``zero: true`` puts 0 in a log range too (alpha = 0: no concept loss, the task-only end of the
trade-off): the search draws from one decade more below ``low``, and that decade stands for 0.

A key that is not a setting of the run config, or a bound the setting does not allow, is refused
in one line before anything starts (:func:`check_space`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cem.errors import CemError
from cem.settings import (
    choice,
    flag,
    integer,
    is_real,
    mapping,
    number,
    optional,
    resolve,
    setting,
    text,
)

PROGRESS: tuple[str, ...] = ("auto", "bar", "plain", "none")
SAMPLERS: tuple[str, ...] = ("gp", "tpe", "nsga2", "random")
# The startup trials: a scrambled Sobol design (cem/sweep/study.py), or the sampler's own draws.
STARTUPS: tuple[str, ...] = ("sobol", "sampler")
DIMENSION_TYPES: tuple[str, ...] = ("float", "int", "choice")
# What the search maximises: validation task and concept accuracy (the run's metrics).
OBJECTIVES: tuple[str, ...] = ("val/task_acc", "val/concept_acc")


def _free(name: str, v: Any) -> Any:
    if v is not None and not isinstance(v, Mapping):
        raise CemError(f"{name}={v!r} is invalid; allowed: a mapping of overrides, e.g. model: a,b")
    return v


@dataclass
class SweeperSettings:
    """``hydra.sweeper`` (cem-train's sweeper, ``hydra/sweeper=cem``): every combination of
    ``params`` (as Hydra's basic sweeper), or with ``search``, a Pareto search per combination;
    one owner per run, a progress line, a summary and an exit status either way."""

    max_batch_size: int | None = setting(None, optional(integer(1)), "runs a launch; null: all")
    params: dict[str, str] | None = None  # swept values, as on the command line
    progress: str = setting("auto", choice(PROGRESS), "auto: a line on a terminal, else lines")
    progress_every_s: float = setting(30.0, number(0, lo_open=True), "seconds between log lines")
    search: dict[str, Any] | None = None  # SearchSettings; null: every combination (a grid)


@dataclass
class Dimension:
    """One setting searched: a number in [low, high] (``log``: on a log scale; ``type: int``:
    whole numbers; ``zero``: 0 too, see the module), or one of ``choices``; ``repeat``: the
    setting is a list of that many copies of the value (``model.extractor.hidden: [w, w]``)."""

    type: str = setting("float", choice(DIMENSION_TYPES))
    low: float | None = setting(None, optional(number()))
    high: float | None = setting(None, optional(number()))
    log: bool = setting(False, flag())
    zero: bool = setting(False, flag(), "0 too (a float on a log scale)")
    choices: list[Any] | None = None  # checked by resolve_dimension
    repeat: int | None = setting(None, optional(integer(1, 64)))


@dataclass
class SearchSettings:
    """``hydra.sweeper.search``: a multi-objective search (Optuna) per combination of
    ``hydra.sweeper.params`` (e.g. each dataset × model), maximising validation task and
    concept accuracy (``experiment=pareto``)."""

    space: dict[str, Any] | None = None  # setting -> Dimension
    n_trials: int = setting(36, integer(1, 100_000), "trials of each study, in all")
    sampler: str = setting("gp", choice(SAMPLERS), "Optuna's sampler")
    n_startup_trials: int = setting(3, integer(0), "trials before the model-based sampler")
    startup: str = setting("sobol", choice(STARTUPS), "those trials: a Sobol design, or drawn")
    seed: int = setting(0, integer(0, 2**32 - 1), "the sampler's seed")
    enqueue_defaults: bool = setting(True, flag(), "first trial: the run config's own values")
    batch_size: int | None = setting(None, optional(integer(1)), "trials a launch; null: cores")
    storage: str | None = setting(None, optional(text()), "null: sqlite in the sweep folder")


def _choices_rule(name: str, v: Any) -> list[Any]:
    ok = isinstance(v, (list, tuple)) and len(v) > 0
    ok = ok and all(
        (isinstance(c, str) and c != "") or is_real(c) or isinstance(c, bool) for c in v
    )
    if not ok or len({repr(c) for c in v}) != len(v):
        raise CemError(
            f"{name}={v!r} is invalid; allowed: a non-empty list of distinct numbers or names"
        )
    return list(v)


def resolve_dimension(name: str, values: Any) -> dict[str, Any]:
    """A checked :class:`Dimension` (``name``: ``hydra.sweeper.search.space.<setting>``)."""
    dim = resolve(Dimension, mapping(name, values), name)
    choices = dim["choices"]
    if dim["type"] == "choice":
        dim["choices"] = _choices_rule(f"{name}.choices", choices)
        for key in ("low", "high"):
            if dim[key] is not None:
                raise CemError(f"{name}.{key} is not a setting of a choice; allowed: choices")
        return dim
    if choices is not None:
        raise CemError(
            f"{name}.choices is a setting of type: choice, not {dim['type']}; allowed: low, high"
        )
    for key in ("low", "high"):
        if dim[key] is None:
            raise CemError(f"{name}.{key} is missing; allowed: a finite number")
    low, high = dim["low"], dim["high"]
    if dim["type"] == "int":
        for key in ("low", "high"):
            if not float(dim[key]).is_integer():
                raise CemError(f"{name}.{key}={dim[key]!r} is invalid; allowed: a whole number")
        low, high = int(low), int(high)
    if not low < high:
        raise CemError(f"{name}.high={high!r} is invalid; allowed: a number > low ({low!r})")
    if dim["log"] and low <= 0:
        raise CemError(f"{name}.low={low!r} is invalid; allowed: a number > 0 (log: true)")
    if dim["zero"] and (dim["type"] != "float" or not dim["log"]):
        raise CemError(
            f"{name}.zero=true is invalid with type: {dim['type']}, log: "
            f"{str(dim['log']).lower()}; allowed: zero with type: float and log: true"
        )
    dim["low"], dim["high"] = low, high
    return dim


def _setting_keys(d: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v and not k.startswith("_"):
            keys += _setting_keys(v, key + ".")
        elif not k.startswith("_"):
            keys.append(key)
    return keys


def searchable(kind: str | None = None) -> list[str]:
    """The run settings a search may search: a model's, those of model kind ``kind``, or with
    none those of every kind (each study searches the ones its own model has)."""
    from cem.models.registry import kind_defaults, model_names, preset

    kinds = [kind] if kind else dict.fromkeys(preset(name)[0] for name in model_names())
    known = [k for each in kinds for k in _setting_keys(kind_defaults(each), "model.")]
    return [k for k in dict.fromkeys(known) if k not in ("model.name", "model.kind")]


def used_by(model: Mapping[str, Any]) -> list[str]:
    """The searchable settings that a model config (``model``, as composed) has and reads: its
    kind's, less those its kind says it ignores (a joint CBM's ``model.emb_size``)."""
    from cem.models.registry import get_kind, resolve

    resolved = resolve(model)
    kind = get_kind(resolved["kind"])
    unused = {f"model.{k}" for k in (kind.unused(resolved) if kind.unused else ())}
    return [k for k in searchable(kind.name) if k not in unused]


def unread(keys: set[str], models: Sequence[str]) -> CemError:
    """The error for space settings that none of the searched ``models`` reads."""
    return CemError(
        f"hydra.sweeper.search.space.{sorted(keys)[0]} is not a setting that any searched "
        f"model ({', '.join(models)}) reads; allowed: a setting one of them reads"
    )


def allowed_keys(parent: str) -> str:
    """What a ``hydra.sweeper`` node may hold, for an error naming a key it does not."""
    from cem.settings import keys

    if parent == "hydra.sweeper":
        return ", ".join(keys(SweeperSettings))
    if parent == "hydra.sweeper.search":
        return ", ".join(keys(SearchSettings))
    if parent == "hydra.sweeper.search.space":
        return "a setting to search (" + ", ".join(searchable()) + ")"
    return "none"


def check_space(space: Any) -> dict[str, dict[str, Any]]:
    """Every key a setting of the run config (``model.emb_size``, ``model.optimizer.lr``) and
    every dimension well formed; returns the checked dimensions."""
    space = mapping("hydra.sweeper.search.space", space)
    if not space:
        raise CemError(
            "hydra.sweeper.search.space is empty; allowed: a mapping of settings to ranges"
        )
    known = searchable()
    out = {}
    for key, dim in space.items():
        if key not in known:
            raise CemError(
                f"hydra.sweeper.search.space.{key} is not a setting to search; allowed: "
                + ", ".join(known)
            )
        out[key] = resolve_dimension(f"hydra.sweeper.search.space.{key}", dim)
    return out


def resolve_search(values: Any) -> dict[str, Any]:
    """Checked :class:`SearchSettings` (the space's keys and dimensions too)."""
    values = mapping("hydra.sweeper.search", values)
    space = values.pop("space", None)
    out = resolve(SearchSettings, values, "hydra.sweeper.search")
    out["space"] = check_space(space)
    return out


def resolve_sweeper(values: Mapping[str, Any]) -> dict[str, Any]:
    """Checked :class:`SweeperSettings` (with ``search`` checked when given)."""
    values = dict(values)
    params = _free("hydra.sweeper.params", values.pop("params", None))
    search = values.pop("search", None)
    out = resolve(SweeperSettings, values, "hydra.sweeper")
    out["params"] = {str(k): str(v) for k, v in (params or {}).items()}
    out["search"] = None if search is None else resolve_search(search)
    return out


SWEEPER_TARGET = "hydra_plugins.cem_bench.CemSweeper"


def config_nodes() -> dict[str, dict[str, Any]]:
    """For Hydra's ConfigStore, with the schemas' defaults (the one place they are written):
    ``hydra/sweeper/cem`` (cem-train's sweeper) and ``search/optuna`` (the search settings that
    ``experiment=pareto`` puts under ``hydra.sweeper.search``)."""
    from cem.settings import defaults

    return {
        "hydra/sweeper/cem": {"_target_": SWEEPER_TARGET, **defaults(SweeperSettings)},
        "search/optuna": defaults(SearchSettings),
    }
