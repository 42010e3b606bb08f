"""cem-train's sweeps of every combination of the swept values (Hydra's basic sweeper's jobs),
which also

- records the planned runs in the sweep folder's manifest, refusing a sweep that would land a
  run of another config where an earlier sweep planned one (:mod:`cem.sweep.manifest`);
- shows k/N done, failed, elapsed and ETA while it runs (:mod:`cem.sweep.progress`);
- stops its workers on SIGTERM/SIGINT with one line (:mod:`cem.sweep.signals`);
- ends with a summary and exits 1 when a run failed (:mod:`cem.sweep.summary`).

(The Hydra plugin is :class:`cem.sweep.sweeper.CemSweeper`.)
"""

from __future__ import annotations

import time
from typing import Any

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


class GridSweeper:
    """Every combination of the swept values, each run owned by one process; see the module.

    ``settings``: checked :class:`cem.sweep.settings.SweeperSettings`; the rest is what Hydra
    hands a sweeper (:class:`cem.sweep.sweeper.CemSweeper`)."""

    def __init__(self, settings: dict[str, Any], hydra_context: Any, config: Any, launcher: Any):
        self.settings = settings
        self.max_batch_size = settings["max_batch_size"]
        self.hydra_context, self.config, self.launcher = hydra_context, config, launcher

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
