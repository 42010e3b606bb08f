"""Value checks of a dataset, whatever its source (a generated one, a saved file, a plain file or
the Python API's arrays): what a model may be trained on.

- ``x``: finite real numbers, shape (n, d) with d the number of feature names;
- ``c``: 0 or 1, shape (n, k);
- ``y``: integer class ids in [0, n_classes), shape (n,), where n_classes comes from the metadata
  (``n_classes``; the synthetic datasets are binary) or, for data without it, is max(y) + 1,
  bounded by :data:`MAX_CLASSES` so that one stray label cannot build a huge output layer;
- every split (train, val, test) holds at least one sample;
- ``hidden_concepts`` (metadata) are distinct concept indices, at least one concept supervised.

A failed check raises :class:`DataValueError`, one line naming the array and what is allowed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cem.data.dataset import SPLITS, ConceptData
from cem.data.spec import SPECS
from cem.errors import CemError

MAX_CLASSES = 1000  # bound on the classes of data whose metadata does not give n_classes
REAL_KINDS = "biuf"  # bool, signed/unsigned integer, float (no complex, strings or objects)


class DataValueError(CemError):
    """A dataset (file or arrays) whose content a model cannot be trained on: values, shapes,
    metadata, or a plain file's columns. Its message names the array or column, not the file."""


def _names(meta: dict[str, Any], key: str) -> list[str]:
    names = meta.get(key)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataValueError(f"metadata {key}={names!r} is invalid; allowed: a list of names")
    return names


def _where(bad: np.ndarray) -> str:
    """'row 3' or 'row 3, column 1' of the first True cell of ``bad``."""
    idx = np.argwhere(bad)[0]
    return f"row {idx[0]}" + (f", column {idx[1]}" if len(idx) > 1 else "")


def _kind(name: str, a: np.ndarray, allowed: str) -> None:
    if a.dtype.kind not in REAL_KINDS:
        raise DataValueError(f"{name} has dtype {a.dtype}; allowed: {allowed}")


def n_classes_of(meta: dict[str, Any], y_max: int) -> int:
    """The task's class count: ``meta["n_classes"]``, a synthetic dataset's, else max(y) + 1."""
    if "n_classes" in meta:
        n = meta["n_classes"]
        ok = isinstance(n, int) and not isinstance(n, bool) and 2 <= n <= MAX_CLASSES
        if not ok:
            raise DataValueError(
                f"metadata n_classes={n!r} is invalid; allowed: an integer in [2, {MAX_CLASSES}]"
            )
        return n
    if meta.get("dataset") in SPECS:
        return SPECS[meta["dataset"]].n_classes
    if y_max + 1 > MAX_CLASSES:
        raise DataValueError(
            f"y holds the class id {y_max}; allowed: class ids in [0, {MAX_CLASSES}) "
            "(or give n_classes in the metadata)"
        )
    return max(2, y_max + 1)


def check_data(data: ConceptData) -> ConceptData:
    """Check every value of ``data``; fill ``meta["n_classes"]`` when absent. Returns ``data``.

    Raises
    ------
    DataValueError
        One line naming the array (``x_train``, ``c_val``, ...) or metadata entry at fault.
    """
    meta = data.meta
    if not isinstance(meta, dict):
        raise DataValueError("metadata is not a JSON object")
    d, k = len(_names(meta, "feature_names")), len(_names(meta, "concept_names"))
    if d < 1 or k < 1:
        raise DataValueError(
            f"{d} features and {k} concepts; allowed: at least one feature and one concept"
        )
    y_max = 0
    for s in SPLITS:
        if s not in data.splits:
            raise DataValueError(f"the {s} split is missing; allowed: train, val and test splits")
        sp = data.splits[s]
        x, c, y = (np.asarray(a) for a in (sp.x, sp.c, sp.y))
        n = len(y)
        if not (x.shape == (n, d) and c.shape == (n, k) and y.shape == (n,)):
            raise DataValueError(
                f"{s} shapes x{x.shape} c{c.shape} y{y.shape} do not fit d={d}, k={k}; "
                "allowed: x (n, d), c (n, k), y (n,)"
            )
        if n == 0:
            raise DataValueError(
                f"the {s} split is empty; allowed: at least one sample in train, val and test"
            )
        _kind(f"x_{s}", x, "real numbers")
        bad = ~np.isfinite(x) if x.dtype.kind == "f" else None
        if bad is not None and bad.any():
            raise DataValueError(
                f"x_{s} holds NaN or inf ({_where(bad)}); allowed: finite real numbers"
            )
        _kind(f"c_{s}", c, "0 and 1")
        bad = (c != 0) & (c != 1)
        if bad.any():
            value = c[tuple(np.argwhere(bad)[0])].item()
            raise DataValueError(f"c_{s} holds {value!r} ({_where(bad)}); allowed: 0 and 1")
        _kind(f"y_{s}", y, "integer class ids >= 0")
        bad = ~np.isfinite(y) | (y != np.round(y)) | (y < 0) if y.dtype.kind == "f" else y < 0
        if bad.any():
            raise DataValueError(
                f"y_{s} holds {y[bad][0].item()!r} ({_where(bad)}); allowed: integer class ids >= 0"
            )
        y_max = max(y_max, int(y.max()))
    n_classes = n_classes_of(meta, y_max)
    if y_max >= n_classes:
        split = next(s for s in SPLITS if int(np.asarray(data.splits[s].y).max()) == y_max)
        raise DataValueError(
            f"y_{split} holds the class id {y_max}; allowed: class ids in [0, {n_classes}) "
            f"(n_classes={n_classes})"
        )
    meta["n_classes"] = n_classes
    hidden = meta.get("hidden_concepts", [])
    ok = (
        isinstance(hidden, list)
        and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < k for i in hidden)
        and len(set(hidden)) == len(hidden) < k
    )
    if not ok:
        raise DataValueError(
            f"metadata hidden_concepts={hidden!r} is invalid; allowed: distinct concept indices "
            f"in 0..{k - 1}, at least one concept supervised"
        )
    return data
