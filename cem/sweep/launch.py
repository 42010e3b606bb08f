"""What both sweepers do around Hydra's launcher: plan each job (its folder and composed
config), launch batches and turn what comes back into outcomes, watch progress, handle
signals, and end with a summary and an exit status."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cem.sweep.job import SWEEP_PID_ENV, first_line, outcome
from cem.sweep.manifest import PlannedRun
from cem.sweep.progress import SweepProgress
from cem.sweep.signals import interrupts
from cem.sweep.summary import exit_code, interrupted_line, summary_lines


def plan_job(hydra_context: Any, master: Any, overrides: Sequence[str], idx: int) -> PlannedRun:
    """Compose job ``idx``'s config as its launcher will, and where it will run (the sweep
    folder's ``hydra.sweep.subdir``)."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf, open_dict

    cfg = hydra_context.config_loader.load_sweep_config(master, list(overrides))
    with open_dict(cfg.hydra.job):
        cfg.hydra.job.num = idx
        cfg.hydra.job.id = f"{cfg.hydra.job.name}_{idx}"
    hydra_cfg = HydraConfig.instance()
    before = hydra_cfg.cfg
    try:
        hydra_cfg.set_config(cfg)  # ${hydra:job.override_dirname} reads it
        subdir = str(OmegaConf.select(cfg, "hydra.sweep.subdir"))
    finally:
        hydra_cfg.cfg = before
    with open_dict(cfg):
        del cfg["hydra"]
        if "output_dir" in cfg:
            del cfg["output_dir"]
    config = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(config, dict)
    return PlannedRun(subdir, tuple(overrides), config)


def sweep_dir_of(master: Any) -> Path:
    return Path(str(master.hydra.sweep.dir))


def resumable(master: Any) -> bool:
    """Whether rerunning the same command uses the same folder (not a new timestamped one)."""
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(master.hydra.sweep, resolve=False)
    return "${now:" not in str(raw.get("dir", ""))  # type: ignore[union-attr]


def launch_batch(
    launcher: Any, batch: Sequence[Sequence[str]], run_dirs: Sequence[Path], initial_idx: int
) -> list[dict[str, str]]:
    """Launch ``batch`` and return one outcome per job. A job whose task raised, or a launcher
    that raised (a cluster job that timed out), gives ``failed`` outcomes with the error — unless
    the run's folder shows it completed after all."""
    from hydra.core.utils import JobStatus

    try:
        results = launcher.launch(batch, initial_job_idx=initial_idx)
    except Exception as e:  # noqa: BLE001 - the jobs' folders say what happened
        why = first_line(f"{type(e).__name__}: {e}")
        return [_from_folder(d, f"its job failed ({why})") for d in run_dirs]
    outcomes = []
    for ret, run_dir in zip(results, run_dirs, strict=True):
        value = getattr(ret, "_return_value", None)
        if ret.status == JobStatus.COMPLETED and isinstance(value, dict) and "status" in value:
            outcomes.append({k: str(v) for k, v in value.items() if k != "metrics"})
        elif ret.status == JobStatus.FAILED:
            error = first_line(f"{type(value).__name__}: {value}")
            outcomes.append(outcome("failed", run_dir, error))
        else:
            outcomes.append(_from_folder(run_dir, "its job returned no outcome"))
    return outcomes


def _from_folder(run_dir: Path, why: str) -> dict[str, str]:
    from cem.report.runs import read_record

    path = run_dir / "metrics.json"
    record = read_record(path) if path.is_file() else {}
    if record.get("status") == "completed":
        return outcome("completed", run_dir)
    if record.get("status") == "failed":
        return outcome("failed", run_dir, first_line(str(record.get("error", why))))
    return outcome("failed", run_dir, why)


@contextmanager
def running(
    monitor: SweepProgress, sweep_dir: Path, can_resume: bool, total: Callable[[], int]
) -> Iterator[SweepProgress]:
    """While a sweep runs: its workers know the main process (:func:`cem.sweep.job.watch_parent`),
    the progress line is drawn, and SIGTERM/SIGINT stop everything with one line."""

    def message(signame: str) -> str:
        monitor.stop(final=False)
        c = monitor.counts()
        return interrupted_line(signame, c.done, max(c.total, total()), sweep_dir, can_resume)

    before = os.environ.get(SWEEP_PID_ENV)
    os.environ[SWEEP_PID_ENV] = str(os.getpid())
    try:
        with monitor, interrupts(message):
            yield monitor
    finally:
        if before is None:
            os.environ.pop(SWEEP_PID_ENV, None)
        else:
            os.environ[SWEEP_PID_ENV] = before


def finish(outcomes: Sequence[dict[str, str]], sweep_dir: Path, t0: float) -> None:
    """Print the summary; ``SystemExit(1)`` when a run failed."""
    for line in summary_lines(outcomes, sweep_dir, time.time() - t0):
        print(line, flush=True)
    code = exit_code(outcomes)
    if code:
        sys.stdout.flush()
        raise SystemExit(code)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """A ``CemError`` raised while a sweep is set up: one line, exit 2 (HYDRA_FULL_ERROR=1: the
    traceback)."""
    from cem.errors import CemError

    try:
        yield
    except CemError as e:
        if os.environ.get("HYDRA_FULL_ERROR"):
            raise
        print(f"cem-train: error: {e}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
