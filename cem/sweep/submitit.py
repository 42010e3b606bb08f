"""``hydra/launcher=slurm`` and ``slurm_local``: Hydra's submitit launchers, made to survive.

Hydra's own launcher returns the jobs' results in order and raises at the first job that did not
finish (a SLURM time-out, a node failure), losing the others' results while they may still run.
These wait for every job: one that did not finish comes back as a failed job with submitit's
error, so the sweep's summary names it and its exit status says so. When the sweep is
interrupted (SIGTERM/SIGINT), the jobs not yet finished are cancelled (``scancel``; local jobs
are stopped with the sweep's other processes).

``slurm_local`` runs the very same code path — pickled jobs, job arrays, results read back from
the submitit folder — on this machine through submitit's local executor: CI tests it there.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher import submitit_launcher as hydra_submitit
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from omegaconf import OmegaConf

from cem.sweep.signals import on_interrupt


def _executor(launcher: hydra_submitit.BaseSubmititLauncher) -> Any:
    """The submitit executor Hydra's launcher builds, with its parameters."""
    import submitit

    executor_name = launcher._EXECUTOR
    params = dict(launcher.params)
    init = {"folder": params.pop("submitit_folder")}
    if "max_num_timeout" in params:
        init[f"{executor_name}_max_num_timeout"] = params.pop("max_num_timeout")
    executor = submitit.AutoExecutor(cluster=executor_name, **init)
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(
        **{k if k in base else f"{executor_name}_{k}": v for k, v in params.items()}
    )
    return executor


def _cancel(jobs: Sequence[Any]) -> None:
    """Cancel the jobs not finished yet: one ``scancel`` per SLURM array, else each job."""
    pending = [j for j in jobs if not j.done()]
    arrays = sorted({str(j.job_id).split("_")[0] for j in pending})
    if pending and type(pending[0]).__name__ == "SlurmJob":
        for array in arrays:
            subprocess.call(["scancel", array])
    else:
        for job in pending:
            job.cancel(check=False)


class TolerantLauncher(hydra_submitit.BaseSubmititLauncher):
    """Launch an array of jobs and wait for every one of them (see the module)."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        import logging

        assert self.config is not None
        log = logging.getLogger(__name__)
        executor = _executor(self)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        log.info(
            f"submitit '{self._EXECUTOR}': {len(job_overrides)} jobs, logs in "
            f"{self.params['submitit_folder']}"
        )
        params = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            state = Singleton.get_state()
            params.append((list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", state))
        jobs = executor.map_array(self, *zip(*params, strict=True))
        forget = on_interrupt(lambda: _cancel(jobs))
        try:
            returns = []
            for job, overrides in zip(jobs, job_overrides, strict=True):
                try:
                    returns.append(job.results()[0])
                except Exception as e:  # noqa: BLE001 - a job that did not finish is a failed run
                    failed = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
                    failed.return_value = e
                    returns.append(failed)
            return returns
        finally:
            forget()


class SlurmLauncher(TolerantLauncher):
    _EXECUTOR = "slurm"


class LocalLauncher(TolerantLauncher):
    _EXECUTOR = "local"
