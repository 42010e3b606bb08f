"""Read a student's answer into a plain value, or say in one sentence why it cannot be read.

Every reader takes ``what`` (the checker's name, shown in the message), ``name`` (the variable
the student filled in) and the value; a placeholder raises :class:`NotAnswered`, anything of the
wrong type or shape raises :class:`CheckFailed` naming what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from cem.exercises.feedback import fail, require


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if hasattr(value, "shape") and hasattr(value, "detach"):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"{type(value).__name__} {value!r}"[:80]


def as_int(what: str, name: str, value: Any) -> int:
    """A whole number (``4``, ``np.int64(4)``, ``4.0``)."""
    require(what, name, value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(what, f"`{name}` should be a whole number, not {_kind(value)}.")
    if float(value) != int(value):
        fail(what, f"`{name}` should be a whole number, not {value}.")
    return int(value)


def as_float(what: str, name: str, value: Any) -> float:
    """A finite real number (a 0-dim array or tensor is accepted)."""
    require(what, name, value)
    if hasattr(value, "item") and getattr(value, "ndim", getattr(value, "dim", lambda: 1)) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(what, f"`{name}` should be a number, not {_kind(value)}.")
    if not np.isfinite(value):
        fail(what, f"`{name}` is {value}; it should be a finite number.")
    return float(value)


def as_array(what: str, name: str, value: Any, shape: tuple[int | None, ...]) -> np.ndarray:
    """A float64 array of ``shape`` (``None`` = any size there); tensors are converted."""
    require(what, name, value)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(what, f"`{name}` should be an array of numbers, not {_kind(value)}.")
    expected = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
    if arr.ndim != len(shape) or any(
        s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)
    ):
        fail(what, f"`{name}` has shape {arr.shape}; expected {expected}.")
    if not np.isfinite(arr).all():
        fail(what, f"`{name}` holds NaN or infinite values.")
    return arr


def as_choice(what: str, name: str, value: Any, choices: Mapping[str, str]) -> str:
    """One letter of a multiple-choice question (case and spaces ignored)."""
    require(what, name, value)
    letters = ", ".join(f'"{c}"' for c in choices)
    if not isinstance(value, str) or value.strip().lower() not in choices:
        fail(what, f"`{name}` should be one of the letters {letters}, not {_kind(value)}.")
    return value.strip().lower()


def as_patterns(what: str, name: str, value: Any, k: int) -> set[tuple[int, ...]]:
    """A collection of concept patterns: tuples of ``k`` values in {0, 1}."""
    require(what, name, value)
    example = "{" + ", ".join(["(0, 1)"] if k == 2 else ["(" + ", ".join(["0"] * k) + ")"]) + "}"
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        fail(what, f"`{name}` should be a set of patterns such as {example}, not {_kind(value)}.")
    out: set[tuple[int, ...]] = set()
    for p in value:
        try:
            t = tuple(int(v) for v in p)
        except (TypeError, ValueError):
            fail(what, f"`{name}` holds {p!r}; each pattern is a tuple of {k} zeros and ones.")
        if len(t) != k or any(v not in (0, 1) for v in t) or any(float(v) != int(v) for v in p):
            fail(what, f"`{name}` holds {p!r}; each pattern is a tuple of {k} zeros and ones.")
        out.add(t)
    return out
