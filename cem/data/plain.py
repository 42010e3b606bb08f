"""Your own data without our metadata: arrays, a plain ``.npz`` or a plain CSV -> ConceptData.

What such data must contain
---------------------------
- ``x`` (n, d) finite real inputs, ``c`` (n, k) concepts in {0, 1}, ``y`` (n,) integer class ids
  0, 1, ... (at most :data:`cem.data.checks.MAX_CLASSES` classes);
- optionally a split per row, ``train``, ``val`` or ``test`` (the ``split`` array of a ``.npz``,
  the ``split`` column of a CSV); without one, the rows are split at random from ``seed`` with
  ``fractions`` (train, val, test; default 0.7, 0.1, 0.2). Every split needs a row.

A plain ``.npz`` holds exactly the arrays ``x``, ``c``, ``y`` and optionally ``split``. A plain
CSV has a header row; :class:`PlainColumns` names its concept columns and its label column (its
feature columns are every other column but ``split``, unless named too).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cem import __version__
from cem.data.checks import DataValueError, check_data
from cem.data.dataset import SPLITS, ConceptData, DataConfig, Split, split_sizes

PLAIN_ARRAYS: tuple[str, ...] = ("x", "c", "y")
SPLIT_COLUMN = "split"


def _default_fractions() -> tuple[float, float, float]:
    return DataConfig.__dataclass_fields__["fractions"].default


def _default_seed() -> int:
    return DataConfig.__dataclass_fields__["seed"].default


@dataclass
class PlainColumns:
    """How to read a plain file: the CSV columns that hold the concepts and the label (and the
    features: default every other column but ``split``), and how to split rows when the file has
    no split (``fractions`` of train, val, test, drawn from ``seed``)."""

    concepts: list[str] | None = None
    label: str | None = None
    features: list[str] | None = None
    fractions: tuple[float, float, float] = field(default_factory=_default_fractions)
    seed: int = field(default_factory=_default_seed)


def _split_rows(split: np.ndarray | None, n: int, cols: PlainColumns) -> dict[str, np.ndarray]:
    """Row indices of each split: from the split labels, or a seeded permutation."""
    if split is not None:
        labels = np.asarray(split).astype(str)
        bad = ~np.isin(labels, SPLITS)
        if bad.any():
            raise DataValueError(
                f"split holds {str(labels[bad][0])!r} (row {int(np.argmax(bad))}); "
                f"allowed: {', '.join(SPLITS)}"
            )
        return {s: np.flatnonzero(labels == s) for s in SPLITS}
    rng = np.random.default_rng(np.random.SeedSequence(cols.seed))
    order = rng.permutation(n)
    sizes = split_sizes(n, cols.fractions)
    a, b = sizes["train"], sizes["train"] + sizes["val"]
    return {"train": order[:a], "val": order[a:b], "test": order[b:]}


def from_arrays(
    x: np.ndarray,
    c: np.ndarray,
    y: np.ndarray,
    split: Sequence[str] | np.ndarray | None = None,
    *,
    name: str = "arrays",
    feature_names: Sequence[str] | None = None,
    concept_names: Sequence[str] | None = None,
    task_name: str = "y",
    fractions: Sequence[float] | None = None,
    seed: int | None = None,
    source: dict | None = None,
) -> ConceptData:
    """A checked :class:`ConceptData` from your own arrays.

    Parameters
    ----------
    x : (n, d) finite real inputs
    c : (n, k) concepts in {0, 1}
    y : (n,) integer class ids in [0, n_classes)
    split : (n,) ``train`` / ``val`` / ``test`` per row; None splits at random (``fractions``,
        ``seed``: default 0.7 / 0.1 / 0.2 and 42)
    name : the dataset's name in reports
    feature_names, concept_names, task_name : names (default ``x1..``, ``c1..``, ``y``)

    Raises
    ------
    CemError
        One line naming the array and what is allowed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 3)); c = (x[:, :2] > 0).astype(int); y = c[:, 0] ^ c[:, 1]
    >>> from_arrays(x, c, y)["train"].x.shape
    (70, 3)
    """
    from cem.settings import resolve

    cols = PlainColumns()
    given = {"fractions": fractions, "seed": seed}
    settings = resolve(DataConfig, {k: v for k, v in given.items() if v is not None})
    cols.fractions, cols.seed = settings["fractions"], settings["seed"]
    arrays = {"x": np.asarray(x), "c": np.asarray(c), "y": np.asarray(y)}
    for key, ndim in (("x", 2), ("c", 2), ("y", 1)):
        a = arrays[key]
        if a.ndim != ndim:
            shape = "(n, d)" if key == "x" else "(n, k)" if key == "c" else "(n,)"
            raise DataValueError(f"{key} has shape {a.shape}; allowed: an array of shape {shape}")
        if a.dtype.kind not in "biuf":
            raise DataValueError(f"{key} has dtype {a.dtype}; allowed: real numbers")
    n = len(arrays["y"])
    if len(arrays["x"]) != n or len(arrays["c"]) != n:
        raise DataValueError(
            f"x, c and y have {len(arrays['x'])}, {len(arrays['c'])} and {n} rows; "
            "allowed: the same number of rows"
        )
    if split is not None and np.shape(split) != (n,):
        raise DataValueError(
            f"split has shape {np.shape(split)}; allowed: one entry per row ({n},)"
        )
    rows = _split_rows(None if split is None else np.asarray(split), n, cols)
    d, k = arrays["x"].shape[1], arrays["c"].shape[1]
    y = arrays["y"]
    if y.dtype.kind == "f" and np.isfinite(y).all() and (y == np.round(y)).all():
        y = y.astype(np.int64)  # whole numbers written as floats (a CSV, pandas)
    splits = {s: Split(arrays["x"][idx], arrays["c"][idx], y[idx]) for s, idx in rows.items()}
    meta = {
        "dataset": name,
        "feature_names": list(feature_names or [f"x{i + 1}" for i in range(d)]),
        "concept_names": list(concept_names or [f"c{i + 1}" for i in range(k)]),
        "task_name": task_name,
        "hidden_concepts": [],
        "sizes": {s: int(len(idx)) for s, idx in rows.items()},
        "split": "given"
        if split is not None
        else {"fractions": list(cols.fractions), "seed": cols.seed},
        "cem_bench_version": __version__,
    }
    if source is not None:
        meta["source"] = source
    return check_data(ConceptData(splits, meta))


def read_npz(files: dict[str, np.ndarray], cols: PlainColumns, name: str) -> ConceptData:
    """A plain ``.npz`` (arrays ``x``, ``c``, ``y``, optional ``split``) as ConceptData."""
    extra = sorted(set(files) - {*PLAIN_ARRAYS, SPLIT_COLUMN})
    if extra:
        raise DataValueError(
            f"holds the array {extra[0]!r}; allowed: x, c, y and split (a plain file)"
        )
    if cols.concepts is not None or cols.label is not None or cols.features is not None:
        raise DataValueError(
            "concepts, label and features name the columns of a plain CSV; a plain .npz holds "
            "the arrays x, c and y"
        )
    return from_arrays(
        files["x"],
        files["c"],
        files["y"],
        files.get(SPLIT_COLUMN),
        name=name,
        fractions=cols.fractions,
        seed=cols.seed,
    )


def _column_list(value: object, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(v, str) for v in value)
    ):
        raise DataValueError(f"{key}={value!r} is invalid; allowed: a list of CSV column names")
    if len(set(value)) != len(value):
        raise DataValueError(
            f"{key}={list(value)!r} names a column twice; allowed: distinct columns"
        )
    return list(value)


def read_csv(text: str, cols: PlainColumns, name: str) -> ConceptData:
    """A plain CSV (a header row, then one row a sample) as ConceptData."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if not rows:
        raise DataValueError("no header row")
    header = rows[0]
    if cols.concepts is None or cols.label is None:
        raise DataValueError(
            "a plain CSV (no cem-bench header line) needs its concept and label columns named; "
            "allowed: cem-train dataset.concepts=[...] dataset.label=..., cem-data --concepts "
            f"... --label ..., among its columns {', '.join(header)}"
        )
    concepts = _column_list(cols.concepts, "concepts")
    label = cols.label
    if not isinstance(label, str):
        raise DataValueError(f"label={label!r} is invalid; allowed: one CSV column name")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataValueError(f"the header names the column {dup!r} twice; allowed: distinct names")
    for col in [*concepts, label]:
        if col not in header:
            key = "label" if col == label else "concepts"
            raise DataValueError(
                f"{key}: column {col!r} is not in the header; allowed: {', '.join(header)}"
            )
    if label in concepts:
        raise DataValueError(
            f"label={label!r} is also a concept column; allowed: a separate column"
        )
    taken = {*concepts, label, SPLIT_COLUMN}
    if cols.features is None:
        features = [h for h in header if h not in taken]
    else:
        features = _column_list(cols.features, "features")
        for col in features:
            if col not in header or col in taken:
                raise DataValueError(
                    f"features: column {col!r} is not a free column of the header; allowed: "
                    f"{', '.join(h for h in header if h not in taken)}"
                )
    if not features:
        raise DataValueError("no feature columns left; allowed: at least one column beside c and y")
    index = {h: i for i, h in enumerate(header)}
    body = rows[1:]
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise DataValueError(f"data row {i + 1} has {len(r)} cells, the header {len(header)}")

    def numbers(columns: list[str]) -> np.ndarray:
        out = np.empty((len(body), len(columns)), dtype=np.float64)
        for j, col in enumerate(columns):
            at = index[col]
            for i, r in enumerate(body):
                try:
                    out[i, j] = float(r[at])
                except ValueError:
                    raise DataValueError(
                        f"row {i + 1}, column {col!r} holds {r[at]!r}; allowed: a number"
                    ) from None
        return out

    split = None
    if SPLIT_COLUMN in index:
        split = np.array([r[index[SPLIT_COLUMN]] for r in body])
    c = numbers(concepts)
    if c.size and np.isin(c, (0.0, 1.0)).all():
        c = c.astype(np.int64)
    return from_arrays(
        numbers(features),
        c,
        numbers([label])[:, 0],
        split,
        name=name,
        feature_names=features,
        concept_names=concepts,
        task_name=label,
        fractions=cols.fractions,
        seed=cols.seed,
    )


def dataset_name(path: Path) -> str:
    """A plain file's dataset name in reports: its file name without the extension (prefixed
    with ``file:`` when that is a synthetic dataset's name, which it is not)."""
    from cem.data.spec import SPECS

    stem = path.stem or "file"
    return f"file:{stem}" if stem in SPECS else stem
