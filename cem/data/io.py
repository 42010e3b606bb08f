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
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cem.data import plain
from cem.data.budget import CSV_READ_FACTOR, check_fits
from cem.data.checks import DataValueError, check_data
from cem.data.dataset import SPLITS, ConceptData, Split
from cem.data.plain import PlainColumns
from cem.data.plain import dataset_name as plain_name
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
        Unknown extension, missing folder, existing file without ``force``, or values a model
        cannot be trained on (:func:`cem.data.checks.check_data`): nothing is written then.
    """
    writer = _WRITERS[file_format(path)]
    check_output(path, force)
    check_data(data)
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
    # torch.save names the archive's folder after the file, and the temporary file's name is
    # random: saving to memory gives every file the same folder, so the same bytes.
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    path.write_bytes(buffer.getvalue())


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


def load(path: str | os.PathLike[str], columns: PlainColumns | None = None) -> ConceptData:
    """Read a dataset file: one written by :func:`save`, or a plain ``.npz`` / CSV of your own
    (see :mod:`cem.data.plain`; ``columns`` names a plain CSV's concept and label columns).

    The file is read once: its bytes are hashed (``data.source["sha256"]``) and parsed, and
    every value is checked (:func:`cem.data.checks.check_data`). Before anything is
    decompressed, what the file claims to hold is checked against the memory available.

    Returns
    -------
    ConceptData
        The arrays exactly as saved (same dtypes and bits), the metadata (``n_classes`` filled
        in when absent) and ``source`` (path, sha256, format, kind).

    Raises
    ------
    CemError
        Unknown extension, missing file, a file that is not ours and not a plain one, values a
        model cannot be trained on, or a file too large for memory: one line naming the file.
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise CemError(f"input={str(path)!r} does not exist")
    size = path.stat().st_size
    check_fits(size, "input", str(path), "to read")
    raw = path.read_bytes()
    columns = columns or PlainColumns()
    try:
        if fmt in (".npz", ".pt"):
            if not zipfile.is_zipfile(io.BytesIO(raw)):
                raise CemError(f"not a zip archive (every {fmt} file we write is one)")
            check_fits(size + _claimed(raw, fmt), "input", str(path), "to load")
        else:
            check_fits(size * CSV_READ_FACTOR, "input", str(path), "to load")
        data, kind = _READERS[fmt](raw, columns, plain_name(path))
        check_data(data)
    except DataValueError as e:
        raise CemError(f"input={str(path)!r}: {e}") from None
    except CemError as e:
        if str(e).startswith("input="):  # the memory check names the file already
            raise
        raise _foreign(path, fmt, str(e)) from None
    except Exception as e:  # any parser failure means: not one of our files
        raise _foreign(path, fmt, f"{type(e).__name__}: {e}") from None
    data.source = {
        "path": str(path.resolve()),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "format": fmt,
        "kind": kind,
    }
    return data


def _claimed(raw: bytes, fmt: str) -> int:
    """Bytes the archive's members take once loaded, read from headers only (nothing is
    decompressed but the few bytes of each ``.npy`` header)."""
    total = 0
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for info in z.infolist():
            if fmt == ".npz" and info.filename.endswith(".npy"):
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version not in _NPY_HEADERS:
                        raise CemError(f"{info.filename}: .npy format {version} is not supported")
                    shape, _, dtype = _NPY_HEADERS[version](f)
                if dtype.hasobject:
                    raise CemError(f"{info.filename} holds Python objects (refused: pickle)")
                total += int(np.prod(shape, dtype=object)) * dtype.itemsize
            else:
                total += info.file_size
    return total


_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
Read = tuple[ConceptData, str]  # the data and its kind: "cem-bench" or "plain"


def _read_npz(raw: bytes, columns: PlainColumns, name: str) -> Read:
    z = np.load(io.BytesIO(raw), allow_pickle=False)
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise CemError("a single array, not an archive")
    with z:
        files = list(z.files)
        if "meta" not in files and {"x", "c", "y"} <= set(files):
            return plain.read_npz({k: z[k] for k in files}, columns, name), "plain"
        _require(files, (*KEYS, "meta"), " (or x, c, y for a plain file)")
        _no_columns(columns)
        return _assemble({k: z[k] for k in KEYS}, str(z["meta"][()])), "cem-bench"


def _no_columns(columns: PlainColumns) -> None:
    """Column names apply to plain CSV files only; a cem-bench file names its own."""
    if columns.concepts is not None or columns.label is not None or columns.features is not None:
        raise DataValueError(
            "concepts, label and features name the columns of a plain CSV; this file has "
            "cem-bench metadata that names them"
        )


def _read_pt(raw: bytes, columns: PlainColumns, name: str) -> Read:
    import torch  # lazy: only .pt files need torch

    obj = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    if not isinstance(obj, dict):
        raise CemError(f"holds a {type(obj).__name__}, not a dict")
    _require(list(obj), (*KEYS, "meta"))
    if not all(isinstance(obj[k], torch.Tensor) for k in KEYS) or not isinstance(obj["meta"], str):
        raise CemError("entries are not tensors and a JSON string")
    _no_columns(columns)
    return _assemble({k: obj[k].numpy() for k in KEYS}, obj["meta"]), "cem-bench"


def _read_csv(raw: bytes, columns: PlainColumns, name: str) -> Read:
    text = raw.decode("utf-8")
    first, _, rest = text.partition("\n")
    if not first.startswith(CSV_MAGIC):
        if first.startswith("#"):
            raise CemError(f"line 1 does not start with {CSV_MAGIC.strip()!r}")
        return plain.read_csv(text, columns, name), "plain"
    _no_columns(columns)
    header = json.loads(first[len(CSV_MAGIC) :])
    if not isinstance(header, dict) or header.get("format_version") != CSV_VERSION:
        version = header.get("format_version") if isinstance(header, dict) else None
        raise CemError(f"format_version={version!r} is not {CSV_VERSION}")
    rows = list(csv.reader(io.StringIO(rest)))
    if not rows:
        raise CemError("no header row")
    columns_, rows = rows[0], [r for r in rows[1:] if r]
    for i, r in enumerate(rows):
        if len(r) != len(columns_):
            raise CemError(f"data row {i + 1} has {len(r)} cells, the header {len(columns_)}")
    groups = {a: [i for i, col in enumerate(columns_) if col.startswith(f"{a}:")] for a in ARRAYS}
    if len(groups["y"]) != 1:
        raise CemError(f"{len(groups['y'])} task columns (y:...), expected 1")
    arrays: dict[str, np.ndarray] = {}
    for s in SPLITS:
        mine = [r for r in rows if r[0] == s]
        for a in ARRAYS:
            dtype = np.dtype(header["dtypes"][a])
            if dtype.kind not in "biuf":
                raise CemError(f"dtype {dtype} of {a} is not a number type")
            cells = [[r[i] for i in groups[a]] for r in mine]
            arr = _parse(cells, dtype).reshape(len(mine), len(groups[a]))
            arrays[f"{a}_{s}"] = arr[:, 0] if a == "y" else arr
    n_read = sum(len(arrays[f"y_{s}"]) for s in SPLITS)
    if n_read != len(rows):
        raise CemError(f"split column holds values other than {', '.join(SPLITS)}")
    return _assemble(arrays, json.dumps(header["meta"])), "cem-bench"


def _parse(cells: list[list[str]], dtype: np.dtype) -> np.ndarray:
    """Text cells -> array of ``dtype``; floats through Python's exact ``float`` parser."""
    conv = float if dtype.kind == "f" else int
    return np.array([[conv(v) for v in row] for row in cells], dtype=dtype)


def _require(found: list[str], needed: tuple[str, ...], hint: str = "") -> None:
    missing = [k for k in needed if k not in found]
    if missing:
        raise CemError(f"missing entries {', '.join(missing)}{hint}")


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
