"""Checks of a sweep's own settings before anything starts (``cem-train -m``): the sweeper's
settings (``hydra.sweeper.*``), and for a search every bound of its space as each searched
model's schema sees it (``model.emb_size: {low: 0}`` is refused, since no run could take it; a
setting only some models have is searched for those, one that none has is refused)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cem.errors import CemError


def _allowed(message: str) -> str:
    return message.split("allowed: ", 1)[1] if "allowed: " in message else message


def check_sweeper(
    compose: Callable[..., Any], variants: Sequence[Sequence[str]], hardware: bool
) -> None:
    """Raise a one-line ``CemError`` when cem-train's sweeper would refuse its settings, or a
    search's space reaches a value its setting does not allow, or holds a setting that none of
    the searched models has. ``compose``: Hydra's, inside an initialised config dir;
    ``variants``: the command line's overrides, once per swept value (one value per sweep), the
    first with every sweep at its first value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from cem.cli import _values
    from cem.config import resolve_config
    from cem.sweep.pareto import override_value
    from cem.sweep.settings import SWEEPER_TARGET, resolve_sweeper, unread, used_by

    cfg = compose("train", overrides=list(variants[0]), return_hydra_config=True)
    node = OmegaConf.to_container(cfg.hydra.sweeper, resolve=False)
    assert isinstance(node, dict)
    if node.pop("_target_", None) != SWEEPER_TARGET:  # Hydra's basic sweeper, or another one
        return
    sweeper = resolve_sweeper(node)
    search = sweeper["search"]
    if search is None:
        return
    # The runs the search makes: the command line's variants, and each value of the sweeper's
    # own sweeps (the preset's model: cbm_sigmoid,cem) that the command line does not set.
    runs = [[o for o in v if not o.lstrip("~+").startswith("hydra")] for v in variants]
    typed = {o.split("=", 1)[0].lstrip("~+") for o in variants[0]}
    parser = OverridesParser.create()
    for key, text in sweeper["params"].items():
        if key not in typed:
            for value in _values(parser.parse_override(f"{key}={text}")):
                runs.append([*runs[0], f"{key}={value}"])
    unused, models = set(search["space"]), {}
    for run in runs:  # each model once: the space's settings are its settings
        model = OmegaConf.to_container(compose("train", overrides=run).model, resolve=True)
        assert isinstance(model, dict)
        models.setdefault(str(model["name"]), (model, run))
    for model, run in models.values():
        known = set(used_by(model))
        for key, dim in search["space"].items():
            if key not in known:  # searched for the other models only
                continue
            unused.discard(key)
            if dim["type"] == "choice":
                bounds = [("choices", c) for c in dim["choices"]]
            else:
                bounds = [("low", dim["low"]), ("high", dim["high"])]
                bounds += [("zero", 0.0)] if dim["zero"] else []
            for bound, value in bounds:
                shown = int(value) if dim["type"] == "int" else value
                text = override_value(shown, dim["repeat"])
                run_cfg = compose("train", overrides=[*run, f"{key}={text}"])
                run_cfg.output_dir = None
                try:
                    resolve_config(run_cfg, hardware=hardware)
                except CemError as e:
                    name = f"hydra.sweeper.search.space.{key}.{bound}"
                    raise CemError(
                        f"{name}={value!r} is invalid; allowed: what {key} takes "
                        f"({_allowed(str(e))})"
                    ) from None
    if unused:
        raise unread(unused, list(models))
