"""Course exercises: the checkers and helpers that the notebooks in ``exercises/`` call.

A notebook starts with::

    from cem.exercises import budget, check, setup
    setup("01_dot_regions")

and ends each task with one ``check.<task>(answer)`` call, which prints ``✓`` or says what is
wrong and gives a hint (:mod:`cem.exercises.feedback`). ``cem-exercises`` lists the exercises and
exports the notebooks (:mod:`cem.exercises.cli`).
"""

from cem.exercises.catalog import EXERCISES, Exercise
from cem.exercises.feedback import CheckFailed, NotAnswered
from cem.exercises.session import FAST_ENV, budget, fast_mode, setup

__all__ = [
    "EXERCISES",
    "FAST_ENV",
    "CheckFailed",
    "Exercise",
    "NotAnswered",
    "budget",
    "fast_mode",
    "setup",
]
