"""``hydra/sweeper=grid`` (cem-train's default sweeper): Hydra's basic sweeper — every
combination of the swept values — that also

- records the planned runs in the sweep folder's manifest, refusing a sweep that would land a
  run of another config where an earlier sweep planned one (:mod:`cem.sweep.manifest`);
- shows k/N done, failed, elapsed and ETA while it runs (:mod:`cem.sweep.progress`);
- stops its workers on SIGTERM/SIGINT with one line (:mod:`cem.sweep.signals`);
- ends with a summary and exits 1 when a run failed (:mod:`cem.sweep.summary`).

Hydra finds the plugin as ``hydra_plugins.cem_bench.GridSweeper`` (conf/hydra/sweeper/grid.yaml).
"""

from __future__ import annotations

import time
from typing import Any

from hydra.plugins.sweeper import Sweeper
from omegaconf import OmegaConf

from cem.sweep import manifest
from cem.sweep.launch import (
    finish,
    launch_batch,
    one_line_errors,
    plan_job,
    resumable,
    running,
    sweep_dir_of,
)
from cem.sweep.progress import SweepProgress
from cem.sweep.settings import resolve_grid


class GridSweeper(Sweeper):
    """Every combination of the swept values, each run owned by one process; see the module.

    (Not a subclass of Hydra's ``BasicSweeper``: Hydra re-executes its core plugins' modules when
    it scans for plugins, which breaks subclasses made before; its combinations are used as
    they are, :func:`combinations`.)"""

    def __init__(
        self,
        max_batch_size: int | None = None,
        params: dict[str, str] | None = None,
        progress: str = "auto",
        progress_every_s: float = 30.0,
    ) -> None:
        values = {"max_batch_size": max_batch_size, "params": params, "progress": progress}
        values["progress_every_s"] = progress_every_s
        with one_line_errors():
            self.settings = resolve_grid(values)
        self.max_batch_size = self.settings["max_batch_size"]
        self.hydra_context: Any = None
        self.config: Any = None
        self.launcher: Any = None

    def setup(self, *, hydra_context: Any, task_function: Any, config: Any) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None
        t0 = time.time()
        params = [f"{k}={v}" for k, v in self.settings["params"].items()]
        jobs = combinations(self.hydra_context, [*params, *arguments])
        sweep_dir = sweep_dir_of(self.config)
        with one_line_errors():
            # Composing every job here is what Hydra's sweeper does to validate them.
            plans = [plan_job(self.hydra_context, self.config, o, i) for i, o in enumerate(jobs)]
            manifest.record(sweep_dir, "grid", plans)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        run_dirs = [sweep_dir / p.subdir for p in plans]
        size = self.max_batch_size or len(jobs)
        monitor = SweepProgress(
            run_dirs, mode=self.settings["progress"], every_s=self.settings["progress_every_s"]
        )
        outcomes: list[dict[str, str]] = []
        with running(monitor, sweep_dir, resumable(self.config), lambda: len(jobs)):
            for start in range(0, len(jobs), size):
                batch = jobs[start : start + size]
                outcomes += launch_batch(
                    self.launcher, batch, run_dirs[start : start + size], start
                )
        finish(outcomes, sweep_dir, t0)
        return outcomes


def combinations(hydra_context: Any, overrides: list[str]) -> list[list[str]]:
    """Every job's overrides: the product of the swept values, as Hydra's basic sweeper makes
    it (``a=1,2 b=x`` -> ``[[a=1, b=x], [a=2, b=x]]``)."""
    from hydra._internal.core_plugins import basic_sweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create(config_loader=hydra_context.config_loader)
    parsed = parser.parse_overrides(overrides)
    return basic_sweeper.BasicSweeper.split_arguments(parsed, None)[0]
