"""Every checker of the course, one call per task: ``check.<task>(answer)``.

Each prints ``✓ <task>: …`` and returns True when the answer is right; otherwise it raises
:class:`cem.exercises.CheckFailed` (or :class:`cem.exercises.NotAnswered` for a ``...`` still in
place) with what is wrong and a hint, shown without a traceback in Jupyter. Each exercise's
checkers live in their own module, which lists them in ``__all__``.
"""

from cem.exercises.alignment import *  # noqa: F403
from cem.exercises.cbm_scratch import *  # noqa: F403
from cem.exercises.cem_scratch import *  # noqa: F403
from cem.exercises.completeness import (
    ceiling_function,
    ceilings,
    trig_worst_pattern,
    why_incomplete,
)
from cem.exercises.interventions import *  # noqa: F403
from cem.exercises.probing import *  # noqa: F403
from cem.exercises.regions import dot_halfplanes, dot_latents, dot_regions, dot_task, xor_regions
from cem.exercises.tradeoff import *  # noqa: F403

__all__ = [
    "ceiling_function",
    "ceilings",
    "dot_halfplanes",
    "dot_latents",
    "dot_regions",
    "dot_task",
    "trig_worst_pattern",
    "why_incomplete",
    "xor_regions",
]
