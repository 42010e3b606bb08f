"""cem-train's Hydra sweeper (``hydra/sweeper=cem``, the default; Hydra knows it as
``hydra_plugins.cem_bench.CemSweeper``): every combination of the swept values
(:class:`cem.sweep.grid.GridSweeper`), or, when ``hydra.sweeper.search`` is set
(``experiment=pareto``), a Pareto search per combination (:class:`cem.sweep.pareto.ParetoSweeper`).

One sweeper with a ``search`` setting rather than two sweepers to choose between: a preset can
then switch to the search by its settings alone, whereas a preset's choice of
``hydra/sweeper`` cannot override the one ``conf/train.yaml`` makes.
"""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper

from cem.sweep.launch import one_line_errors
from cem.sweep.settings import resolve_sweeper


class CemSweeper(Sweeper):
    """Hydra's sweeper interface over :class:`~cem.sweep.grid.GridSweeper` and
    :class:`~cem.sweep.pareto.ParetoSweeper`; the settings are checked when Hydra makes it.

    (Not a subclass of Hydra's ``BasicSweeper``: Hydra re-executes its core plugins' modules
    when it scans for plugins, which breaks subclasses made before; the basic sweeper's
    combinations are used as they are, :func:`cem.sweep.grid.combinations`.)"""

    def __init__(self, **settings: Any) -> None:
        from omegaconf import OmegaConf

        plain = {
            k: OmegaConf.to_container(v) if OmegaConf.is_config(v) else v
            for k, v in settings.items()
        }
        with one_line_errors():
            self.settings = resolve_sweeper(plain)
        self.impl: Any = None

    def setup(self, *, hydra_context: Any, task_function: Any, config: Any) -> None:
        from hydra.core.plugins import Plugins

        from cem.sweep.grid import GridSweeper
        from cem.sweep.pareto import ParetoSweeper

        launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )
        kind = GridSweeper if self.settings["search"] is None else ParetoSweeper
        self.impl = kind(self.settings, hydra_context, config, launcher)

    def sweep(self, arguments: list[str]) -> Any:
        return self.impl.sweep(arguments)
