"""Checks of a sweep's own settings before anything starts (``cem-train -m``): the sweeper's
settings (``hydra.sweeper.*``), and for a search every bound of its space as the run config's
schema sees it (``model.emb_size: {low: 0}`` is refused, since no run could take it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cem.errors import CemError


def _allowed(message: str) -> str:
    return message.split("allowed: ", 1)[1] if "allowed: " in message else message


def check_sweeper(compose: Callable[..., Any], overrides: Sequence[str], hardware: bool) -> None:
    """Raise a one-line ``CemError`` when cem-train's sweeper would refuse its settings, or a
    search's space reaches a value its setting does not allow. ``compose``: Hydra's, inside an
    initialised config dir; ``overrides``: the command line's (one value per sweep)."""
    from omegaconf import OmegaConf

    from cem.config import resolve_config
    from cem.sweep.pareto import override_value
    from cem.sweep.settings import SWEEPER_TARGET, resolve_sweeper

    cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    node = OmegaConf.to_container(cfg.hydra.sweeper, resolve=False)
    assert isinstance(node, dict)
    if node.pop("_target_", None) != SWEEPER_TARGET:  # Hydra's basic sweeper, or another one
        return
    search = resolve_sweeper(node)["search"]
    if search is None:
        return
    runs = [o for o in overrides if not o.lstrip("~+").startswith("hydra")]
    for key, dim in search["space"].items():
        which = ("choices", "choices") if dim["type"] == "choice" else ("low", "high")
        values = dim["choices"] if dim["type"] == "choice" else [dim["low"], dim["high"]]
        for bound, value in zip(which * len(values), values, strict=False):
            shown = int(value) if dim["type"] == "int" else value
            text = override_value(shown, dim["repeat"])
            run_cfg = compose("train", overrides=[*runs, f"{key}={text}"])
            run_cfg.output_dir = None
            try:
                resolve_config(run_cfg, hardware=hardware)
            except CemError as e:
                name = f"hydra.sweeper.search.space.{key}.{bound}"
                raise CemError(
                    f"{name}={value!r} is invalid; allowed: what {key} takes ({_allowed(str(e))})"
                ) from None
