"""What every exercise notebook does first: pin one torch thread, show checker messages without
tracebacks, and choose the budget (full, as in the course, or fast for CI).

Fast mode is on when the environment variable ``CEM_EXERCISES_FAST`` is set to anything but
``0``/``false``/``no``/empty: every notebook then uses small epochs and sizes, so that CI can
execute them all in a few minutes. Without it, the numbers match the course.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

from cem.exercises import catalog
from cem.exercises.feedback import install_display

FAST_ENV = "CEM_EXERCISES_FAST"
T = TypeVar("T")


def fast_mode() -> bool:
    """True when ``CEM_EXERCISES_FAST`` asks for small budgets."""
    return os.environ.get(FAST_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def budget(full: T, fast: T) -> T:
    """``full`` (the course's budget) unless fast mode is on, then ``fast``."""
    return fast if fast_mode() else full


@dataclass(frozen=True)
class Session:
    """The settings an exercise notebook runs with."""

    exercise: catalog.Exercise | None
    fast: bool
    threads: int


def setup(exercise: str | None = None, threads: int = 1) -> Session:
    """Start an exercise: pin ``threads`` torch and BLAS threads and print the mode in one line.

    One thread is the default because these small networks (and scikit-learn probes) run
    several times faster on one thread than on many competing ones (and a laptop's other cores
    stay free).
    """
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)  # NumPy/SciPy BLAS and OpenMP pools, for the kernel's lifetime
    install_display()
    ex = catalog.get(exercise) if exercise is not None else None
    fast = fast_mode()
    mode = (
        f"fast mode ({FAST_ENV}=1): small budgets, numbers differ from the course's"
        if fast
        else "full budget (the course's numbers)"
    )
    title = f"Exercise {ex.number}: {ex.title} — " if ex else ""
    print(f"{title}{mode}; torch threads: {threads}")
    return Session(ex, fast, threads)
