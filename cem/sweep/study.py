"""The Pareto search's Optuna side: its database, studies, samplers and trial ownership.

- **Storage**: an SQLite database in the sweep folder (``study.db``), or any Optuna storage URL
  (``hydra.sweeper.storage``). A file that is not an Optuna database is refused in one line.
- **Identity**: a study records what it searches (the composed base config, the space, the
  objectives); a second search into the same folder with another of these is refused.
- **Ownership**: each search process holds a lock file (``.cem-owners/<host>-<pid>``) for its
  lifetime and tags the trials it runs with it; a trial still RUNNING whose owner's lock is free
  was left by a process that died (killed, timed out): another process takes it over and runs it
  again with the same parameters, in the same folder (a completed run there is reused).
"""

from __future__ import annotations

import json
import math
import os
import socket
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cem.errors import CemError
from cem.sweep.lock import Lock, is_held, try_lock
from cem.sweep.manifest import difference
from cem.sweep.settings import OBJECTIVES

DATABASE = "study.db"
OWNERS = ".cem-owners"
OWNER_ATTR = "cem:owner"
IDENTITY_ATTR = "cem:identity"


def optuna_module() -> Any:
    """Optuna, quiet (the search prints its own lines); ``CemError`` when not installed."""
    try:
        import optuna
    except ImportError:
        raise CemError(
            "hydra/sweeper=pareto needs Optuna, which is not installed; allowed: "
            "pip install 'cem-bench[search]'"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def storage_url(storage: str | None, sweep_dir: Path) -> str:
    """``hydra.sweeper.search.storage``, or the SQLite database in the sweep folder."""
    return storage or f"sqlite:///{(sweep_dir / DATABASE).resolve()}"


def open_storage(url: str) -> Any:
    """An Optuna RDB storage, or ``CemError`` naming the database when it cannot be used."""
    optuna = optuna_module()
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}  # other processes write too
        path = Path(url.split("///", 1)[-1])
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return optuna.storages.RDBStorage(url, **kwargs)
    except Exception as e:  # noqa: BLE001 - a corrupt file, another schema, a bad URL: one line
        why = " ".join(str(e).split()).split(" [SQL:")[0][:200] or type(e).__name__
        raise CemError(
            f"hydra.sweeper.search.storage={url!r} is not a usable Optuna study database ({why}); "
            "allowed: a database written by this search, or none there (move the file away to "
            "start afresh)"
        ) from None


def make_sampler(settings: Mapping[str, Any], seed: int) -> Any:
    """A study's sampler, seeded with ``seed``."""
    optuna = optuna_module()
    startup = settings["n_startup_trials"]
    name = settings["sampler"]
    if name == "gp":
        # Not deterministic: a validation accuracy is a noisy measure of the setting's worth
        # (another training seed moves it by a few validation samples), so the GP fits a noise
        # term instead of threading through every point.
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=startup, deterministic_objective=False
        )
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(2, startup))
    return optuna.samplers.RandomSampler(seed=seed)


def search_low(dim: Mapping[str, Any]) -> float:
    """Where the study's range of a number starts: ``low``, or with ``zero`` one decade below,
    the decade that stands for 0 (:func:`run_value`)."""
    return dim["low"] / 10 if dim.get("zero") else dim["low"]


def run_value(dim: Mapping[str, Any], value: Any) -> Any:
    """The run's value of a study's parameter: 0 for the decade below ``low`` of a ``zero``
    dimension (a float: :func:`cem.sweep.settings.resolve_dimension`), the value otherwise."""
    if dim.get("zero") and value < dim["low"]:
        return 0.0
    return value


def sobol_design(space: Mapping[str, Mapping[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` points of a scrambled Sobol sequence over the space (seeded): the first trials of
    a study, spread over every dimension at once where ``n`` random draws may bunch up (the
    first 2^j points put one in each of 2^j equal slices of each dimension). A log dimension is
    spread on the log scale; a whole-number one over equal slices of its values."""
    import torch

    if n <= 0:
        return []
    engine = torch.quasirandom.SobolEngine(len(space), scramble=True, seed=seed)
    units = engine.draw(n, dtype=torch.float64).tolist()
    points = []
    for row in units:
        point: dict[str, Any] = {}
        for (key, dim), u in zip(space.items(), row, strict=True):
            if dim["type"] == "choice":
                point[key] = dim["choices"][
                    min(int(u * len(dim["choices"])), len(dim["choices"]) - 1)
                ]
                continue
            low, high = float(search_low(dim)), float(dim["high"])
            top = high + 1 if dim["type"] == "int" else high  # [low, high + 1): equal slices
            if dim["log"]:
                v = math.exp(math.log(low) + u * (math.log(top) - math.log(low)))
            else:
                v = low + u * (top - low)
            point[key] = (
                min(int(math.floor(v)), int(high)) if dim["type"] == "int" else min(v, high)
            )
        points.append(point)
    return points


def distributions(space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Optuna distributions of the checked search space."""
    optuna = optuna_module()
    out: dict[str, Any] = {}
    for key, dim in space.items():
        if dim["type"] == "choice":
            out[key] = optuna.distributions.CategoricalDistribution(dim["choices"])
        elif dim["type"] == "int":
            out[key] = optuna.distributions.IntDistribution(dim["low"], dim["high"], log=dim["log"])
        else:
            out[key] = optuna.distributions.FloatDistribution(
                search_low(dim), dim["high"], log=dim["log"]
            )
    return out


def open_study(storage: Any, name: str, sampler: Any, identity: Mapping[str, Any]) -> Any:
    """Create or load study ``name``; ``CemError`` when it exists with another identity."""
    optuna = optuna_module()
    directions = ["maximize"] * len(OBJECTIVES)
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            sampler=sampler,
            directions=directions,
            load_if_exists=True,
        )
    except ValueError as e:  # an existing study with other directions
        raise CemError(f"study {name!r} in {storage.url!r} is not this search's ({e})") from None
    plain = json.loads(json.dumps(identity, default=str))
    old = study.user_attrs.get(IDENTITY_ATTR)
    if old is None:
        if study.trials:
            raise CemError(
                f"study {name!r} in {storage.url!r} was not made by cem-train's Pareto search; "
                "allowed: another hydra.sweep.dir or hydra.sweeper.search.storage"
            )
        study.set_user_attr(IDENTITY_ATTR, plain)
    elif old != plain:
        raise CemError(
            f"hydra.sweep.dir holds study {name!r} of another search "
            f"({difference(plain, old)}); allowed: the same search (rerunning resumes it), "
            "or another hydra.sweep.dir"
        )
    return study


class Owner:
    """This process's claim on the trials it runs (see the module)."""

    def __init__(self, sweep_dir: Path) -> None:
        folder = sweep_dir / OWNERS
        folder.mkdir(parents=True, exist_ok=True)
        self.name = f"{socket.gethostname()}-{os.getpid()}"
        self.folder = folder
        lock: Lock | None = try_lock(folder / self.name)
        if lock is None:  # pragma: no cover - a pid is not reused while its process lives
            raise RuntimeError(f"{folder / self.name} is held by another process")
        self._lock = lock

    def alive(self, name: object) -> bool:
        """Whether the process that tagged a trial ``name`` still holds its lock."""
        return isinstance(name, str) and (name == self.name or is_held(self.folder / name))

    def release(self) -> None:
        self._lock.release()


def stale_trials(study: Any, owner: Owner) -> list[Any]:
    """The study's RUNNING trials whose owner is gone (see the module)."""
    optuna = optuna_module()
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    return [t for t in running if not owner.alive(t.system_attrs.get(OWNER_ATTR))]


def claim(study: Any, trial_id: int, owner: Owner) -> None:
    study._storage.set_trial_system_attr(trial_id, OWNER_ATTR, owner.name)
