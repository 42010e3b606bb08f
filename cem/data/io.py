"""Save and load a :class:`~cem.data.ConceptData` as ``.npz``, ``.csv`` or ``.pt``.

Formats (chosen by the file's extension)
----------------------------------------
``.npz`` : arrays ``x_train c_train y_train x_val c_val y_val x_test c_test y_test`` plus ``meta``,
           a 0-d string array holding the metadata as JSON. Loads with ``allow_pickle=False``.
``.csv`` : one row per sample, split by split (train, val, test). Line 1 is a comment holding the
           metadata: ``# cem-bench-csv {"format_version": 1, "dtypes": {...}, "meta": {...}}``;
           line 2 is the header ``split, x:<feature>..., c:<concept>..., y:<task>`` (names from the
           metadata, made one-line and unique); floats are written with ``repr`` so reading them
           back restores every bit. With pandas: ``pd.read_csv(path, skiprows=1)``.
``.pt``  : ``torch.save`` of a dict with the same nine arrays as CPU tensors and ``meta`` (the
           JSON string); loads with ``torch.load(path, weights_only=True)``. torch is imported only
           here, when a ``.pt`` file is written or read.

Every write is atomic: the file is written to a temporary file in the target folder and moved into
place with ``os.replace``, so a failed write leaves no partial file and an existing file untouched.
Bad paths and foreign files raise a one-line :class:`~cem.errors.CemError`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cem.data.dataset import SPLITS, ConceptData, Split
from cem.errors import CemError, unknown

FORMATS: tuple[str, ...] = (".npz", ".csv", ".pt")
ARRAYS: tuple[str, ...] = ("x", "c", "y")
KEYS: tuple[str, ...] = tuple(f"{a}_{s}" for s in SPLITS for a in ARRAYS)
CSV_MAGIC = "# cem-bench-csv "
CSV_VERSION = 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Metadata entries every saved file must carry (the rest is kept verbatim).
META_KEYS: tuple[str, ...] = ("dataset", "feature_names", "concept_names", "task_name")


# ---- paths and atomic writes ----------------------------------------------------------------


def file_format(path: str | os.PathLike[str], allowed: tuple[str, ...] = FORMATS) -> str:
    """The lower-case extension of ``path`` (e.g. ``".npz"``); raise ``CemError`` unless allowed."""
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        raise unknown("extension", ext or Path(path).name, allowed)
    return ext


def check_output(path: str | os.PathLike[str], force: bool = False) -> Path:
    """Check that ``path`` can be written: its folder exists, and it is new unless ``force``.

    Raises
    ------
    CemError
        One line naming ``output`` and what is wrong.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise CemError(f"output={str(path)!r}: folder {str(folder)!r} does not exist; create it")
    if path.is_dir():
        raise CemError(f"output={str(path)!r} is a folder; allowed: a file path")
    if path.exists() and not force:
        raise CemError(f"output={str(path)!r} already exists; use --force (force=True) to replace")
    return path


def _umask_mode() -> int:
    # mkstemp creates files 0600; give the final file the usual 0666 & ~umask.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    The temporary file keeps ``path``'s extension (so writers that infer the format from the name
    work) and is removed if the block raises; ``path`` itself is never half-written.

    Examples
    --------
    >>> with atomic_path("out.txt", force=True) as tmp:  # doctest: +SKIP
    ...     tmp.write_text("hello")
    """
    path = check_output(path, force)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str, force: bool = False) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    with atomic_path(path, force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# ---- save -------------------------------------------------------------------------------------


def _arrays(data: ConceptData) -> dict[str, np.ndarray]:
    """The nine arrays under their file keys: ``x_train``, ``c_train``, ..., ``y_test``."""
    return {f"{a}_{s}": getattr(data.splits[s], a) for s in SPLITS for a in ARRAYS}


def meta_json(meta: dict) -> str:
    """The metadata as one line of JSON (non-ASCII names kept readable)."""
    return json.dumps(meta, ensure_ascii=False)


def save(data: ConceptData, path: str | os.PathLike[str], force: bool = False) -> Path:
    """Write ``data`` to ``path``; the format follows the extension (``.npz``, ``.csv``, ``.pt``).

    Parameters
    ----------
    data : ConceptData
        Splits ``train``, ``val``, ``test`` with x (n, d), c (n, k), y (n,), and metadata.
    path : path-like
        Target file; its folder must exist.
    force : bool
        Replace an existing file.

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    CemError
        Unknown extension, missing folder, or existing file without ``force``.
    """
    writer = _WRITERS[file_format(path)]
    with atomic_path(path, force) as tmp:
        writer(data, tmp)
    return Path(path)


def _save_npz(data: ConceptData, path: Path) -> None:
    with open(path, "wb") as f:
        np.savez(f, **_arrays(data), meta=np.array(meta_json(data.meta)))


def _save_pt(data: ConceptData, path: Path) -> None:
    import torch  # lazy: only .pt files need torch

    obj: dict[str, object] = {
        k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _arrays(data).items()
    }
    obj["meta"] = meta_json(data.meta)
    torch.save(obj, path)


def _safe_name(prefix: str, name: str, seen: set[str]) -> str:
    """``prefix:name`` on one line (control characters become spaces), unique within ``seen``."""
    base = f"{prefix}:{_CONTROL.sub(' ', str(name)).strip()}"
    col, i = base, 2
    while col in seen:
        col, i = f"{base}~{i}", i + 1
    seen.add(col)
    return col


def csv_columns(meta: dict) -> list[str]:
    """Header of the CSV format: ``split``, ``x:<feature>``..., ``c:<concept>``..., ``y:<task>``."""
    seen = {"split"}
    return [
        "split",
        *(_safe_name("x", n, seen) for n in meta["feature_names"]),
        *(_safe_name("c", n, seen) for n in meta["concept_names"]),
        _safe_name("y", meta["task_name"], seen),
    ]


def _cells(a: np.ndarray) -> list[list[str]]:
    """(n, w) array -> rows of exact text: ``repr`` of each float (round-trips every bit)."""
    if a.dtype.kind == "f":
        return [[repr(float(v)) for v in row] for row in a.tolist()]
    return [[str(v) for v in row] for row in a.tolist()]


def write_csv(data: ConceptData, f: io.TextIOBase, rows: int | None = None) -> None:
    """Write ``data`` in the CSV format to an open text file (the first ``rows`` of each split)."""
    header = {
        "format_version": CSV_VERSION,
        "dtypes": {a: str(getattr(data.splits["train"], a).dtype) for a in ARRAYS},
        "meta": data.meta,
    }
    f.write(CSV_MAGIC + meta_json(header) + "\n")
    out = csv.writer(f, lineterminator="\n")
    out.writerow(csv_columns(data.meta))
    for s in SPLITS:
        sp = data.splits[s]
        x, c, y = sp.x[:rows], sp.c[:rows], sp.y[:rows, None]
        for xr, cr, yr in zip(_cells(x), _cells(c), _cells(y), strict=True):
            out.writerow([s, *xr, *cr, *yr])


def _save_csv(data: ConceptData, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        write_csv(data, f)


# ---- load -------------------------------------------------------------------------------------


def _foreign(path: Path, fmt: str, why: str) -> CemError:
    why = " ".join(str(why).split())  # one line
    return CemError(f"input={str(path)!r} is not a cem-bench {fmt} file: {why}")


def load(path: str | os.PathLike[str]) -> ConceptData:
    """Read a file written by :func:`save`.

    Parameters
    ----------
    path : path-like
        A ``.npz``, ``.csv`` or ``.pt`` file.

    Returns
    -------
    ConceptData
        The arrays exactly as saved (same dtypes and bits) and the metadata.

    Raises
    ------
    CemError
        Unknown extension, missing file, or a file that is not ours (unreadable, keys missing,
        inconsistent shapes).
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise CemError(f"input={str(path)!r} does not exist")
    if fmt in (".npz", ".pt") and not zipfile.is_zipfile(path):
        raise _foreign(path, fmt, f"not a zip archive (every {fmt} file we write is one)")
    try:
        arrays, meta_text = _READERS[fmt](path)
        return _assemble(arrays, meta_text)
    except CemError as e:
        raise _foreign(path, fmt, str(e)) from None
    except Exception as e:  # any parser failure means: not one of our files
        raise _foreign(path, fmt, f"{type(e).__name__}: {e}") from None


def _read_npz(path: Path) -> tuple[dict[str, np.ndarray], str]:
    z = np.load(path, allow_pickle=False)
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise CemError("a single array, not an archive")
    with z:
        _require(list(z.files), (*KEYS, "meta"))
        return {k: z[k] for k in KEYS}, str(z["meta"][()])


def _read_pt(path: Path) -> tuple[dict[str, np.ndarray], str]:
    import torch  # lazy: only .pt files need torch

    obj = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(obj, dict):
        raise CemError(f"holds a {type(obj).__name__}, not a dict")
    _require(list(obj), (*KEYS, "meta"))
    return {k: obj[k].numpy() for k in KEYS}, obj["meta"]


def _read_csv(path: Path) -> tuple[dict[str, np.ndarray], str]:
    with open(path, encoding="utf-8", newline="") as f:
        first = f.readline()
        if not first.startswith(CSV_MAGIC):
            raise CemError(f"line 1 does not start with {CSV_MAGIC.strip()!r}")
        header = json.loads(first[len(CSV_MAGIC) :])
        if header.get("format_version") != CSV_VERSION:
            raise CemError(f"format_version={header.get('format_version')!r} is not {CSV_VERSION}")
        rows = list(csv.reader(f))
    if not rows:
        raise CemError("no header row")
    columns, rows = rows[0], [r for r in rows[1:] if r]
    for i, r in enumerate(rows):
        if len(r) != len(columns):
            raise CemError(f"data row {i + 1} has {len(r)} cells, the header {len(columns)}")
    groups = {a: [i for i, col in enumerate(columns) if col.startswith(f"{a}:")] for a in ARRAYS}
    if len(groups["y"]) != 1:
        raise CemError(f"{len(groups['y'])} task columns (y:...), expected 1")
    arrays: dict[str, np.ndarray] = {}
    for s in SPLITS:
        mine = [r for r in rows if r[0] == s]
        for a in ARRAYS:
            dtype = np.dtype(header["dtypes"][a])
            cells = [[r[i] for i in groups[a]] for r in mine]
            arr = _parse(cells, dtype).reshape(len(mine), len(groups[a]))
            arrays[f"{a}_{s}"] = arr[:, 0] if a == "y" else arr
    n_read = sum(len(arrays[f"y_{s}"]) for s in SPLITS)
    if n_read != len(rows):
        raise CemError(f"split column holds values other than {', '.join(SPLITS)}")
    return arrays, json.dumps(header["meta"])


def _parse(cells: list[list[str]], dtype: np.dtype) -> np.ndarray:
    """Text cells -> array of ``dtype``; floats through Python's exact ``float`` parser."""
    conv = float if dtype.kind == "f" else int
    return np.array([[conv(v) for v in row] for row in cells], dtype=dtype)


def _require(found: list[str], needed: tuple[str, ...]) -> None:
    missing = [k for k in needed if k not in found]
    if missing:
        raise CemError(f"missing entries {', '.join(missing)}")


def _assemble(arrays: dict[str, np.ndarray], meta_text: str) -> ConceptData:
    """Check shapes and metadata, then wrap the arrays as a ConceptData."""
    meta = json.loads(meta_text)
    if not isinstance(meta, dict):
        raise CemError("metadata is not a JSON object")
    _require(list(meta), META_KEYS)
    d, k = len(meta["feature_names"]), len(meta["concept_names"])
    splits = {}
    for s in SPLITS:
        x, c, y = (arrays[f"{a}_{s}"] for a in ARRAYS)
        n = len(y)
        ok = x.shape == (n, d) and c.shape == (n, k) and y.shape == (n,)
        if not ok:
            raise CemError(f"{s} shapes x{x.shape} c{c.shape} y{y.shape} do not fit d={d}, k={k}")
        splits[s] = Split(x, c, y)
    return ConceptData(splits, meta)


def describe(data: ConceptData) -> str:
    """One line per split with array shapes and dtypes, e.g. ``train  x (2100, 2) float64 ...``."""
    lines = []
    for s in SPLITS:
        sp = data.splits[s]
        parts = [f"{a} {getattr(sp, a).shape} {getattr(sp, a).dtype}" for a in ARRAYS]
        lines.append(f"{s:<5}  " + "  ".join(parts))
    return "\n".join(lines)


_WRITERS = {".npz": _save_npz, ".csv": _save_csv, ".pt": _save_pt}
_READERS = {".npz": _read_npz, ".csv": _read_csv, ".pt": _read_pt}
