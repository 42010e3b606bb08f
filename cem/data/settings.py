"""The ``dataset`` settings of a run: their schema, and their translation into data.

A run either generates its data (the :class:`~cem.data.dataset.DataConfig` settings: name,
protocol, size, ...) or reads a file (``path``: a file of ``cem-data generate`` / ``import``, or a
plain ``.npz`` / CSV of your own, see :mod:`cem.data.plain`). What is recorded for a run is what
determines its data, and nothing else:

- generated: the DataConfig settings and ``batch_size``;
- a file: its ``path``, the ``sha256`` of its bytes, its metadata (``meta``), ``name`` (the
  metadata's dataset name, shown in reports), ``batch_size``, and for a plain file the settings
  that read it (``concepts``, ``label``, ``features``; ``fractions`` and ``seed`` when its rows
  are split at random). Generator settings do not apply to a file and must stay at their
  defaults; a recorded ``sha256`` / ``meta`` given back must match the file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cem.data.dataset import ConceptData, DataConfig, build, check_for_spec
from cem.data.spec import spec_for
from cem.errors import CemError
from cem.settings import (
    integer,
    list_of,
    mapping,
    optional,
    resolve,
    setting,
    text,
)
from cem.settings import (
    path as a_path,
)

GENERATOR_KEYS: tuple[str, ...] = tuple(f.name for f in fields(DataConfig))
PLAIN_CSV_KEYS: tuple[str, ...] = ("concepts", "label", "features")
RECORD_KEYS: tuple[str, ...] = ("sha256", "meta")  # recorded for a file; checked when given back
FILE_NAME = "file"  # dataset=file: the name of a file run before its metadata names it
_COLUMNS = optional(list_of(text(), "a list of CSV column names", min_len=1))


@dataclass
class DatasetSettings(DataConfig):
    """The ``dataset`` group: DataConfig's generator settings, the file settings, the batch."""

    path: str | None = setting(
        None, optional(a_path(), "null (generate the data)"), "a dataset file to train on"
    )
    batch_size: int = setting(256, integer(1), "training batch size")
    concepts: list[str] | None = setting(None, _COLUMNS, "a plain CSV's concept columns")
    label: str | None = setting(None, optional(text()), "a plain CSV's label column")
    features: list[str] | None = setting(None, _COLUMNS, "a plain CSV's feature columns")


def _default(key: str) -> Any:
    """A setting's default in its checked form (tuples stay tuples), to compare with a value."""
    return resolve(DatasetSettings, {})[key]


def resolve_dataset(
    values: Any, name: str = "dataset"
) -> tuple[dict[str, Any], ConceptData | None]:
    """The checked ``dataset`` settings of a run, and the file's data when ``path`` is set.

    A file is read (once) and every value checked here, so that a bad file fails before a run
    starts. Raises a one-line ``CemError`` naming ``{name}.<key>`` or the file.
    """
    values = mapping(name, values)
    path = values.get("path")
    if path is None:
        for key in (*RECORD_KEYS, *PLAIN_CSV_KEYS):
            if values.get(key) is not None:
                raise CemError(
                    f"{name}.{key} applies to dataset files only; allowed: set {name}.path too"
                )
        if values.get("name") == FILE_NAME:
            raise CemError(
                f"{name}.path is missing; allowed: a .npz, .csv or .pt file (with {name}=file)"
            )
        s = resolve(
            DatasetSettings, {k: v for k, v in values.items() if k not in RECORD_KEYS}, name
        )
        spec = spec_for(s["name"], s, prefix=f"{name}.")
        check_for_spec(s, spec, prefix=f"{name}.")
        s.update(spec.params)  # the dataset's own settings (many: k, ρ), filled in
        return {k: s[k] for k in (*GENERATOR_KEYS, "batch_size")}, None
    return _resolve_file(values, name)


def _resolve_file(values: dict[str, Any], name: str) -> tuple[dict[str, Any], ConceptData]:
    from cem.data.io import load
    from cem.data.plain import PlainColumns

    record = {k: values.pop(k) for k in RECORD_KEYS if k in values}
    given_name = values.pop("name", None)
    s = resolve(DatasetSettings, values, name)
    path = s["path"]
    if not Path(path).is_file():
        raise CemError(
            f"{name}.path={path!r} is not a file; allowed: a .npz, .csv or .pt file written by "
            "cem-data generate or import, or a plain .npz / CSV of arrays x, c, y"
        )
    columns = PlainColumns(s["concepts"], s["label"], s["features"], s["fractions"], s["seed"])
    data = load(path, columns)
    assert data.source is not None
    plain_csv = data.source["kind"] == "plain" and data.source["format"] == ".csv"
    drawn = data.source["kind"] == "plain" and isinstance(data.meta.get("split"), dict)
    applies = {*(("fractions", "seed") if drawn else ())}
    for key in GENERATOR_KEYS:
        if key == "name" or key in applies:
            continue
        if s[key] != _default(key):
            raise CemError(
                f"{name}.{key}={s[key]!r} does not apply to a dataset file (its metadata "
                f"describes the data); allowed: {_default(key)!r}, the default"
            )
    file_name = data.meta["dataset"]
    if given_name not in (None, FILE_NAME, _default("name"), file_name):
        raise CemError(
            f"{name}.name={given_name!r} does not match the file's dataset {file_name!r}; "
            f"allowed: {file_name!r} or {FILE_NAME!r}"
        )
    if "sha256" in record and record["sha256"] != data.source["sha256"]:
        raise CemError(
            f"{name}.sha256={record['sha256']!r} does not match {path!r} (sha256 "
            f"{data.source['sha256']}); allowed: the recorded file, unchanged"
        )
    if "meta" in record and record["meta"] != data.meta:
        raise CemError(
            f"{name}.meta does not match the metadata of {path!r}; allowed: the recorded file, "
            "unchanged"
        )
    out: dict[str, Any] = {
        "name": file_name,
        "path": data.source["path"],
        "sha256": data.source["sha256"],
        "batch_size": s["batch_size"],
    }
    if plain_csv:
        out.update({k: s[k] for k in PLAIN_CSV_KEYS})
    if drawn:
        out.update({"fractions": list(s["fractions"]), "seed": s["seed"]})
    out["meta"] = data.meta
    return out, data


def n_concepts(dataset: dict[str, Any], data: ConceptData | None) -> int:
    """k of a resolved dataset config (the file's, or the generator's)."""
    if data is not None:
        return len(data.meta["concept_names"])
    return spec_for(dataset["name"], dataset).n_concepts


def make_data(dataset: dict[str, Any], data: ConceptData | None = None) -> ConceptData:
    """The data of resolved settings: ``data`` when the file was read already, else the file
    read again (its sha256 must not have changed) or the generated dataset."""
    if "path" not in dataset:
        return build(DataConfig(**{k: dataset[k] for k in GENERATOR_KEYS}))
    if data is None:
        _, data = resolve_dataset(dataset)
    return data
