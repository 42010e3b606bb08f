"""``cem-train -m experiment=pareto`` (``hydra.sweeper.search``): a multi-objective search of
a model's settings for the front of validation task accuracy against validation concept
accuracy, built on Optuna.

One study per combination of ``hydra.sweeper.params`` (e.g. each dataset × model), all in one
database in the sweep folder (:mod:`cem.sweep.study`). The search asks its studies for trials in
batches (``batch_size``, by default as many as the launcher runs at once), runs them through
Hydra's launcher like any sweep (joblib, SLURM...: each trial is a run folder
``<study>/trial_NNN`` with its ``metrics.json`` and a ``trial.json``), and tells each study the
run's validation accuracies. The first trial of a new study runs the config's own values
(``enqueue_defaults``), so the front is never worse than the defaults; the next
``n_startup_trials`` are a scrambled Sobol design over the space (``startup: sobol``), which
spreads a handful of trials over every setting at once; the sampler (a Gaussian process by
default) chooses the rest. Each study searches the settings of the space that its model has.

A killed search resumes where it stopped: rerun the same command; trials finished are kept,
trials that were running are run again with their parameters (a run that completed is reused).
Several processes (or machines sharing the folder) can run one search together: each asks for
trials under a lock until every study has ``n_trials``.

Why not Hydra's Optuna sweeper plugin: it pins Optuna < 3 (current is 5), whose SQLite schema and
samplers (no multi-objective GP) are years behind, and it has no notion of resuming trials left
running by a killed process; this sweeper is small and uses the current Optuna's ask-and-tell.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from cem.sweep import manifest
from cem.sweep.grid import combinations
from cem.sweep.job import first_line
from cem.sweep.launch import (
    finish,
    launch_batch,
    one_line_errors,
    plan_job,
    resumable,
    running,
    sweep_dir_of,
)
from cem.sweep.lock import lock
from cem.sweep.progress import SweepProgress
from cem.sweep.settings import OBJECTIVES, unread
from cem.sweep.study import run_value, search_low

SEARCH_LOCK = ".cem-search.lock"
ABANDONED_ATTR = "cem:abandoned"


def trial_subdir(study: str, number: int) -> str:
    """A trial's run folder below the sweep folder."""
    return f"{study}/trial_{number:03d}"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def override_value(value: Any, repeat: int | None) -> str:
    """A sampled value as a Hydra override value (``[64,64]`` for a repeated one)."""
    if isinstance(value, str):
        text = _quote(value)
    elif isinstance(value, bool):
        text = str(value).lower()
    else:
        text = repr(value)
    return f"[{','.join([text] * repeat)}]" if repeat else text


def _get(config: dict[str, Any], key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _without(config: dict[str, Any], keys: Any) -> dict[str, Any]:
    """A deep copy of ``config`` without the dotted ``keys``."""
    out = json.loads(json.dumps(config, default=str))
    for key in keys:
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(leaf, None)
    return out


def default_params(config: dict[str, Any], space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The config's own values of the searched settings that the space can hold."""
    params = {}
    for key, dim in space.items():
        v = _get(config, key)
        if dim["repeat"]:
            if not (isinstance(v, list) and len(v) == dim["repeat"] and len(set(v)) == 1):
                continue
            v = v[0]
        if dim["type"] == "choice":
            if v in dim["choices"]:
                params[key] = v
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            if dim["type"] == "int" and not float(v).is_integer():
                continue
            if dim["low"] <= v <= dim["high"]:
                params[key] = int(v) if dim["type"] == "int" else float(v)
            elif dim["zero"] and v == 0:
                params[key] = search_low(dim)
    return params


def _identified(dim: dict[str, Any]) -> dict[str, Any]:
    """A dimension as a study's identity records it: without ``zero`` when it is off, as
    before ``zero`` existed, so a search started then still resumes."""
    return {k: v for k, v in dim.items() if k != "zero" or v}


def objectives(run_dir: Path) -> list[float] | None:
    """The run's validation task and concept accuracy, or None when they are not numbers."""
    from cem.report.runs import read_record

    record = read_record(run_dir / "metrics.json")
    if record.get("status") != "completed":
        return None
    values = [record["metrics"].get(k) for k in OBJECTIVES]
    ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
    return [float(v) for v in values] if ok else None


class ParetoSweeper:
    """See the module. ``settings``: checked :class:`cem.sweep.settings.SweeperSettings` with a
    ``search``; the rest is what Hydra hands a sweeper (:class:`cem.sweep.sweeper.CemSweeper`)."""

    def __init__(self, settings: dict[str, Any], hydra_context: Any, config: Any, launcher: Any):
        self.sweeper = settings
        self.settings = settings["search"]
        self.hydra_context, self.config, self.launcher = hydra_context, config, launcher

    # ---- set-up ---------------------------------------------------------------------------

    def _batch_size(self) -> int:
        if self.settings["batch_size"]:
            return int(self.settings["batch_size"])
        launcher = self.config.hydra.launcher
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if "n_jobs" in launcher:  # joblib: -1 all cores, -2 all but one...
            n = int(launcher.n_jobs)
            return max(1, n if n > 0 else (cores or 1) + 1 + n)
        if "array_parallelism" in launcher:
            return max(1, int(launcher.array_parallelism))
        return 1

    def _studies(self, arguments: list[str]) -> list[dict[str, Any]]:
        """One study per combination: its name, overrides and composed base config."""
        from cem.cli import short_dirname
        from cem.errors import CemError
        from cem.models.registry import resolve as resolve_model

        params = [f"{k}={v}" for k, v in self.sweeper["params"].items()]
        space = self.settings["space"]
        for text in arguments:
            key = text.split("=", 1)[0].lstrip("~+")
            if key in space:
                raise CemError(
                    f"{key} is searched (hydra.sweeper.search.space.{key}) and set on the "
                    f"command line ({text}); allowed: one of the two"
                )
        from hydra.core.override_parser.overrides_parser import OverridesParser

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        parsed = parser.parse_overrides(arguments)
        swept = {o.get_key_element() for o in parsed if o.is_sweep_override()}
        swept |= set(self.sweeper["params"])  # the study names: what tells the studies apart
        studies = []
        unused = set(space)  # keys no study's model has: a mistake, refused
        self._told: set[Any] = set()
        for i, overrides in enumerate(combinations(self.hydra_context, [*params, *arguments])):
            named = [o for o in overrides if o.split("=", 1)[0] in swept]
            name = short_dirname(",".join(named) or "study")
            plan = plan_job(self.hydra_context, self.config, overrides, i)
            base = json.loads(json.dumps(plan.config, default=str))
            model = _get(base, "model.name")
            # A model's YAML says whether it has concepts (the no-concept DNN: has_concepts).
            if not resolve_model(_get(base, "model") or {}).get("has_concepts", True):
                raise CemError(
                    f"model={model!r} has no concepts, so no concept accuracy to search on; "
                    "allowed: a model with concepts (cem, cbm_*)"
                )
            own = self._space_of(model, _get(base, "model") or {}, unused)
            identity = {
                "config": _without(base, space),  # the searched settings do not identify it
                "space": {k: _identified(d) for k, d in own.items()},
                "objectives": list(OBJECTIVES),
            }
            studies.append(
                {
                    "name": name,
                    "overrides": list(overrides),
                    "base": base,
                    "identity": identity,
                    "space": own,
                    "model": model,
                }
            )
        if unused:
            raise unread(unused, list(dict.fromkeys(str(s["model"]) for s in studies)))
        return studies

    def _space_of(self, model: Any, config: dict[str, Any], unused: set[str]) -> dict[str, Any]:
        """The dimensions of the space that ``model`` (its composed ``config``) has and reads;
        they are taken out of ``unused``, and a model that lacks some says so once."""
        from cem.errors import CemError
        from cem.sweep.settings import used_by

        space = self.settings["space"]
        known = used_by(config)
        own = {k: v for k, v in space.items() if k in known}
        unused -= set(own)
        if not own:
            raise CemError(
                f"hydra.sweeper.search.space has no setting that model={model!r} reads; "
                "allowed: " + ", ".join(known)
            )
        missing = [k for k in space if k not in own]
        if missing and model not in self._told:
            self._told.add(model)
            print(
                f"cem-train: model={model} does not have or read {', '.join(missing)}; its "
                f"studies search the other {len(own)} setting{'s' if len(own) > 1 else ''}",
                flush=True,
            )
        return own

    # ---- the search -----------------------------------------------------------------------

    def sweep(self, arguments: list[str]) -> Any:
        from omegaconf import OmegaConf

        from cem.sweep import study as st

        assert self.config is not None and self.launcher is not None
        t0 = time.time()
        sweep_dir = sweep_dir_of(self.config)
        with one_line_errors():
            studies = self._studies(arguments)
            manifest.check_kind(sweep_dir, "search")
            st.optuna_module()
            url = st.storage_url(self.settings["storage"], sweep_dir)
            storage = st.open_storage(url)
            for i, s in enumerate(studies):
                s["seed"] = self.settings["seed"] + i  # studies differ, each reproducible
                sampler = st.make_sampler(self.settings, s["seed"])
                s["study"] = st.open_study(storage, s["name"], sampler, s["identity"])
                s["dists"] = st.distributions(s["space"])  # what every trial is asked with
            manifest.record(sweep_dir, "search", [])
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        owner = st.Owner(sweep_dir)
        n_trials = self.settings["n_trials"]
        monitor = SweepProgress(
            [],
            total=n_trials * len(studies),
            mode=self.sweeper["progress"],
            every_s=self.sweeper["progress_every_s"],
        )
        for s in studies:  # trials of an earlier process count as done (reused) or left
            monitor.add([sweep_dir / trial_subdir(s["name"], t.number) for t in s["study"].trials])
        outcomes: list[dict[str, str]] = []
        job_idx = 0
        try:
            with running(monitor, sweep_dir, resumable(self.config), lambda: monitor.total or 0):
                while True:
                    with one_line_errors(), lock(sweep_dir / SEARCH_LOCK, timeout_s=600):
                        batch = self._next_batch(studies, owner, sweep_dir)
                    if not batch:
                        break
                    monitor.add([b["run_dir"] for b in batch])
                    results = launch_batch(
                        self.launcher,
                        [b["overrides"] for b in batch],
                        [b["run_dir"] for b in batch],
                        job_idx,
                    )
                    job_idx += len(batch)
                    for b, result in zip(batch, results, strict=True):
                        outcomes.append(self._tell(b, result))
        finally:
            owner.release()
        self._report_fronts(studies)
        finish(outcomes, sweep_dir, t0)
        return outcomes

    def _counted(self, study: Any) -> int:
        """Trials of a study that count towards ``n_trials``: all but abandoned ones and those
        enqueued but not yet asked for."""
        import optuna

        waiting = optuna.trial.TrialState.WAITING
        return sum(
            ABANDONED_ATTR not in t.system_attrs and t.state != waiting
            for t in study.get_trials(deepcopy=False)
        )

    def _enqueue_first(self, s: dict[str, Any]) -> None:
        """A new study's first trials: the config's own values (``enqueue_defaults``), then
        ``n_startup_trials`` of a scrambled Sobol design (``startup: sobol``; seeded like the
        sampler), all within ``n_trials``. Enqueued trials live in the database, so another
        process (or a resumed one) runs those that are left."""
        from cem.sweep import study as st

        first = []
        if self.settings["enqueue_defaults"]:
            defaults = default_params(s["base"], s["space"])
            if defaults:
                first.append(defaults)
        if self.settings["startup"] == "sobol" and self.settings["sampler"] != "random":
            n = min(self.settings["n_startup_trials"], self.settings["n_trials"] - len(first))
            first += st.sobol_design(s["space"], n, s["seed"])
        for params in first:
            s["study"].enqueue_trial(params, skip_if_exists=True)

    def _next_batch(
        self, studies: list[dict[str, Any]], owner: Any, sweep_dir: Path
    ) -> list[dict[str, Any]]:
        """Trials to run next (under the search lock): stale ones first, then new ones, the
        study with the fewest trials first."""
        import optuna

        from cem.sweep import study as st

        size = self._batch_size()
        batch: list[dict[str, Any]] = []
        for s in studies:
            for trial in st.stale_trials(s["study"], owner):
                if len(batch) >= size:
                    break
                if set(trial.params) != set(s["space"]):  # died before its parameters were drawn
                    storage = s["study"]._storage
                    storage.set_trial_system_attr(trial._trial_id, ABANDONED_ATTR, True)
                    storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
                    continue
                st.claim(s["study"], trial._trial_id, owner)
                print(
                    f"cem-train: taking over {s['name']} trial {trial.number}: its process "
                    "ended without finishing it",
                    flush=True,
                )
                batch.append(self._job(s, trial.number, trial.params, sweep_dir))
        counts = {s["name"]: self._counted(s["study"]) for s in studies}
        while len(batch) < size:
            open_ = [s for s in studies if counts[s["name"]] < self.settings["n_trials"]]
            if not open_:
                break
            s = min(open_, key=lambda s: counts[s["name"]])
            study = s["study"]
            if counts[s["name"]] == 0:
                self._enqueue_first(s)
            trial = study.ask(fixed_distributions=s["dists"])
            st.claim(study, trial._trial_id, owner)
            counts[s["name"]] += 1
            batch.append(self._job(s, trial.number, trial.params, sweep_dir))
        if batch:
            manifest.record(sweep_dir, "search", [b["plan"] for b in batch])
        return batch

    def _job(
        self, s: dict[str, Any], number: int, params: dict[str, Any], sweep_dir: Path
    ) -> dict[str, Any]:
        """The launcher's job of trial ``number``: the study's overrides, the trial's values
        and its folder; ``trial.json`` written into it."""
        from cem.data.io import write_text
        from cem.sweep.manifest import PlannedRun

        space = s["space"]
        subdir = trial_subdir(s["name"], number)
        params = {k: run_value(space[k], params[k]) for k in space}
        values = [f"{k}={override_value(params[k], space[k]['repeat'])}" for k in space]
        overrides = [*s["overrides"], *values, f"hydra.sweep.subdir={_quote(subdir)}"]
        run_dir = sweep_dir / subdir
        run_dir.mkdir(parents=True, exist_ok=True)
        info = {"study": s["name"], "number": number, "params": params, "objectives": OBJECTIVES}
        write_text(run_dir / "trial.json", json.dumps(info, indent=1, default=str), force=True)
        plan = PlannedRun(subdir, tuple(overrides), {**s["base"], "trial": info})
        return {
            "study": s,
            "number": number,
            "overrides": overrides,
            "run_dir": run_dir,
            "plan": plan,
        }

    def _tell(self, b: dict[str, Any], result: dict[str, str]) -> dict[str, str]:
        """Tell the study how trial ``b`` went; a result that cannot be trusted is a failure."""
        import optuna

        study = b["study"]["study"]
        status = result["status"]
        if status == "busy":  # another process runs this very trial: it will tell
            return result
        values = objectives(b["run_dir"]) if status in ("completed", "reused") else None
        if values is None and status != "failed":
            result = {**result, "status": "failed"}
            result["error"] = f"no finite {' and '.join(OBJECTIVES)} in its metrics.json"
        try:
            if values is not None:
                study.tell(b["number"], values)
            else:
                storage = study._storage
                trial_id = storage.get_trial_id_from_study_id_trial_number(
                    study._study_id, b["number"]
                )
                storage.set_trial_user_attr(trial_id, "error", first_line(result["error"]))
                study.tell(b["number"], state=optuna.trial.TrialState.FAIL)
        except Exception as e:  # noqa: BLE001 - e.g. another process told it first
            return {**result, "status": "failed", "error": first_line(f"not told: {e}")}
        return result

    def _report_fronts(self, studies: list[dict[str, Any]]) -> None:
        """Print each study's front (validation accuracies) and its hypervolume."""
        import optuna

        from cem.metrics.pareto import hypervolume

        for s in studies:
            done = s["study"].get_trials(states=(optuna.trial.TrialState.COMPLETE,))
            front = sorted(s["study"].best_trials, key=lambda t: -t.values[0])
            hv = hypervolume([t.values for t in done]) if done else 0.0
            n = self._counted(s["study"])
            print(
                f"[pareto] {s['name']}: {len(done)} of {n} trials complete, front of "
                f"{len(front)}, hypervolume {hv:.4f} (val task x concept accuracy)",
                flush=True,
            )
            for t in front:
                shown = ", ".join(
                    f"{k.split('.')[-1]}={_short(run_value(s['space'][k], v))}"
                    for k, v in t.params.items()
                )
                print(
                    f"  trial {t.number}: task {100 * t.values[0]:.2f}%, concept "
                    f"{100 * t.values[1]:.2f}% ({shown})",
                    flush=True,
                )


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)
