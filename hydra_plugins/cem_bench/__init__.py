"""cem-bench's Hydra plugins. Hydra instantiates only plugins defined under ``hydra_plugins``:
these classes are the cem.sweep ones under names Hydra can find (the configs' ``_target_``).
The modules they come from import nothing heavy (Hydra imports every plugin at start)."""

from cem.sweep import submitit as _submitit
from cem.sweep import sweeper as _sweeper


class CemSweeper(_sweeper.CemSweeper):
    """``hydra/sweeper=cem`` (the default): :class:`cem.sweep.sweeper.CemSweeper`."""


class SlurmLauncher(_submitit.SlurmLauncher):
    """``hydra/launcher=slurm``: :class:`cem.sweep.submitit.SlurmLauncher`."""


class LocalLauncher(_submitit.LocalLauncher):
    """``hydra/launcher=slurm_local``: :class:`cem.sweep.submitit.LocalLauncher`."""
