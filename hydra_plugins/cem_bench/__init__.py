"""cem-bench's Hydra plugins. Hydra instantiates only plugins defined under ``hydra_plugins``:
these classes are the cem.sweep ones under the names Hydra can find (the configs'
``_target_``). The modules they come from import nothing heavy (Hydra imports every plugin at
start)."""

from cem.sweep import grid as _grid
from cem.sweep import submitit as _submitit


class GridSweeper(_grid.GridSweeper):
    """``hydra/sweeper=grid``: :class:`cem.sweep.grid.GridSweeper`."""


class SlurmLauncher(_submitit.SlurmLauncher):
    """``hydra/launcher=slurm``: :class:`cem.sweep.submitit.SlurmLauncher`."""


class LocalLauncher(_submitit.LocalLauncher):
    """``hydra/launcher=slurm_local``: :class:`cem.sweep.submitit.LocalLauncher`."""
