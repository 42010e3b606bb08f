"""From a model config to a network and its objective, through a table of model *kinds*.

**A model is one module plus one YAML.** A *kind* is a family of networks with one settings
schema, one builder and one objective (``cbm``, ``cem``, ``intcem``); it lives in the module
``cem/models/<kind>.py``, which registers it::

    register(ModelKind("cem", CEMSettings, build_cem, CEMObjective))

A *model* is a YAML file ``conf/model/<name>.yaml`` that picks a kind and sets what differs from
the kind's defaults, e.g. ``conf/model/cbm_bool.yaml``::

    defaults:
      - _cbm        # every setting of the cbm kind, with its default (CBMSettings)
      - _self_
    name: cbm_bool
    bottleneck: bool

so a new CBM variant is a YAML file only, and a new kind is its module and its YAML: nothing
else names models (the model list is the YAML files; presets sweep them by glob). Hydra composes
the same files (the ``_<kind>`` entries are stored from the schemas by
:func:`cem.cli.register_defaults`), and :func:`resolve` reads them for the Python API, so
``run({"model": {"name": "cbm_bool"}})`` and ``cem-train model=cbm_bool`` mean the same.

A kind's module is imported the first time its kind is asked for (``cem.models.<kind>``); a
kind defined elsewhere (a test, a notebook) is added with :func:`register`, and folders of
your own model YAMLs with :data:`EXTRA_CONFIG_DIRS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cem.errors import CemError, unknown
from cem.models.base import ConceptModel, Objective
from cem.models.optim import resolve_component, try_build
from cem.models.parts import ACTIVATIONS
from cem.paths import conf_root
from cem.settings import (
    choice,
    defaults,
    group,
    integer,
    list_of,
    mapping,
    number,
    setting,
    text,
)
from cem.settings import resolve as resolve_settings

DEFAULT_NAME = "cem"  # the model of a config that names none (conf/train.yaml's default too)
CONCEPT_WEIGHTS: tuple[str, ...] = ("none", "balanced")
MAX_WIDTH = 65536  # widest layer a config may ask for (a typo like 10**9 must not reach torch)
MAX_LAYERS = 64  # deepest extractor a config may ask for

WIDTH = integer(1, MAX_WIDTH)
WIDTHS = list_of(WIDTH, f"at most {MAX_LAYERS} integers >= 1 and <= {MAX_WIDTH}", 0, MAX_LAYERS)
DEFAULT_OPTIMIZER: dict[str, Any] = {
    "_target_": "torch.optim.Adam",
    "_partial_": True,
    "lr": 0.01,
    "weight_decay": 0.0,
}
DEFAULT_SCHEDULER: dict[str, Any] = {
    "_target_": "torch.optim.lr_scheduler.ReduceLROnPlateau",
    "_partial_": True,
    "factor": 0.1,
    "patience": 10,
}


@dataclass
class ExtractorSettings:
    """The concept extractor MLP: Linear(d, h1) → act → ... → Linear(h_last, out)."""

    hidden: list[int] = setting([128, 128], WIDTHS)
    activation: str = setting("leaky_relu", choice(ACTIVATIONS))
    out: int = setting(128, WIDTH, "CEM's h width")


@dataclass
class ModelSettings:
    """What every kind's schema starts with; the CEM paper's synthetic settings (REFERENCE §2)
    are the defaults. A kind's schema extends it with its own settings.

    ``optimizer`` / ``scheduler``: a class of ``torch.optim`` / ``torch.optim.lr_scheduler`` by
    name and its keywords (see :mod:`cem.models.optim`); ``scheduler: null`` for none.
    """

    name: str = setting(DEFAULT_NAME, text(), "the model: a conf/model/*.yaml file")
    kind: str = setting(DEFAULT_NAME, text(), "its family, set by the model's YAML")
    emb_size: int = setting(128, WIDTH, "m: embedding size; Hybrid/DNN get (m - 1)·k units")
    concept_loss_weight: float = setting(1.0, number(0), "alpha")
    task_loss_weight: float = setting(1.0, number(0))
    extractor: ExtractorSettings = group(ExtractorSettings)
    concept_weights: str = setting("none", choice(CONCEPT_WEIGHTS))
    optimizer: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_OPTIMIZER))
    scheduler: dict[str, Any] | None = field(default_factory=lambda: dict(DEFAULT_SCHEDULER))


Builder = Callable[[Mapping[str, Any], int, int, int], ConceptModel]


@dataclass(frozen=True)
class ModelKind:
    """One entry of the registry's table.

    name : the kind, as model YAMLs name it (``defaults: [_<name>]``)
    settings : its schema, a dataclass extending :class:`ModelSettings`
    build : ``(cfg, n_features, n_concepts, n_out) -> ConceptModel`` for a resolved config
    objective : ``(cfg, n_concepts, supervised, pos_weight) -> Objective`` (usually the class)
    learned_policy : its networks carry an intervention policy (the evaluation's ``learned``)
    check : optional checks across settings of a resolved config (raise ``CemError``)
    unused : optional: the settings (dotted, below ``model.``) that a resolved config of this
        kind does not read, e.g. a joint CBM's ``emb_size``; a search leaves them alone
    """

    name: str
    settings: type
    build: Builder
    objective: Callable[..., Objective]
    learned_policy: bool = False
    check: Callable[[dict[str, Any]], None] | None = None
    unused: Callable[[Mapping[str, Any]], set[str]] | None = None


KINDS: dict[str, ModelKind] = {}
# Folders of model YAMLs beside conf/model (the Python API reads them; Hydra users add them to
# hydra.searchpath).
EXTRA_CONFIG_DIRS: list[Path] = []


def register(kind: ModelKind) -> ModelKind:
    """Add (or replace) a kind in the table; returns it."""
    KINDS[kind.name] = kind
    return kind


def _load(name: str) -> None:
    """Import ``cem.models.<name>`` (which registers the kind) unless it is registered."""
    if name not in KINDS and isinstance(name, str) and name.isidentifier():
        try:
            importlib.import_module(f"cem.models.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"cem.models.{name}":
                raise


def get_kind(name: str) -> ModelKind:
    """The kind called ``name``, importing ``cem.models.<name>`` the first time."""
    _load(name)
    if name not in KINDS:
        for model in model_names():  # the kinds the model YAMLs use, for the message
            try:
                _load(preset(model)[0])
            except CemError:
                continue
        raise unknown("model.kind", name, KINDS)
    return KINDS[name]


# ---- model YAML files ---------------------------------------------------------------------------


def config_dirs() -> list[Path]:
    """Where model YAMLs are looked up: ``conf/model``, then :data:`EXTRA_CONFIG_DIRS`."""
    return [conf_root() / "model", *map(Path, EXTRA_CONFIG_DIRS)]


def _files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in config_dirs():
        for p in sorted(folder.glob("*.yaml")):
            if not p.stem.startswith("_"):
                found.setdefault(p.stem, p)
    return found


def model_names() -> list[str]:
    """Every model a config may name: the YAML files of :func:`config_dirs`, sorted."""
    return sorted(_files())


def preset(name: str) -> tuple[str, dict[str, Any]]:
    """(kind, settings) of the model YAML ``name``; a ``CemError`` for an unknown name or a
    file that does not start from one kind's defaults."""
    import yaml

    files = _files()
    if not isinstance(name, str) or name not in files:
        raise unknown("model", name, files)
    path = files[name]
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = values.pop("defaults", None) if isinstance(values, dict) else None
    kinds = [
        e[1:] for e in entries or [] if isinstance(e, str) and e.startswith("_") and e != "_self_"
    ]
    if len(kinds) != 1 or values.get("name") != name:
        raise CemError(
            f"model file {str(path)!r} is invalid; allowed: a YAML mapping with `defaults: "
            f"[_<kind>, _self_]` and `name: {name}`"
        )
    return kinds[0], values


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``, merging nested mappings key by key."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# ---- resolve and build --------------------------------------------------------------------------


def resolve(cfg: Mapping[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """The model YAML's settings ⊕ cfg ⊕ overrides over the kind's defaults, every key known and
    every value checked (the optimiser and scheduler too, by building them on a dummy
    parameter); a one-line ``CemError`` otherwise."""
    values = {**mapping("model", cfg), **overrides}
    name = values.get("name", DEFAULT_NAME)
    kind_name, settings = preset(name)
    kind = get_kind(kind_name)
    if values.get("kind", kind.name) != kind.name:
        raise CemError(
            f"model.kind={values['kind']!r} does not match model={name!r}; allowed: "
            f"{kind.name!r} (the kind its YAML names)"
        )
    merged = _merge(settings, values)
    merged["kind"] = kind.name
    out = resolve_settings(kind.settings, merged, "model")
    out["optimizer"] = resolve_component(
        "optimizer",
        merged.get("optimizer", DEFAULT_OPTIMIZER),
        DEFAULT_OPTIMIZER,
        "model.optimizer",
    )
    out["scheduler"] = resolve_component(
        "scheduler",
        merged.get("scheduler", DEFAULT_SCHEDULER),
        DEFAULT_SCHEDULER,
        "model.scheduler",
    )
    try_build(out["optimizer"], out["scheduler"], "model")
    if kind.check is not None:
        kind.check(out)
    return out


def kind_defaults(name: str) -> dict[str, Any]:
    """Every setting of a kind with its default (what Hydra composes under a model YAML)."""
    kind = get_kind(name)
    out = defaults(kind.settings)
    out.pop("name")
    out["kind"] = kind.name
    return out


def build_model(
    cfg: Mapping[str, Any], n_features: int, n_concepts: int, n_out: int
) -> ConceptModel:
    """The network of a resolved model config for d inputs, k concepts and n_out logits."""
    return get_kind(cfg["kind"]).build(cfg, n_features, n_concepts, n_out)


def build_objective(
    cfg: Mapping[str, Any],
    n_concepts: int,
    supervised: Sequence[bool] | None = None,
    pos_weight: Sequence[float] | None = None,
) -> Objective:
    """The objective (stages, loss) of a resolved model config."""
    return get_kind(cfg["kind"]).objective(cfg, n_concepts, supervised, pos_weight)


def has_learned_policy(cfg: Mapping[str, Any]) -> bool:
    """Whether the networks of a resolved model config carry an intervention policy."""
    return get_kind(cfg["kind"]).learned_policy
