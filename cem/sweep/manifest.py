"""A sweep folder's manifest: every run a sweep into it planned, with the config it composed.

``DIR/.cem-sweep.json`` is written by the sweepers before any run starts, under a lock, merged
with what earlier sweeps into the same folder planned:

- a sweep whose run would land in a folder planned by an earlier sweep *with another config*
  is refused before anything starts (one line naming the first setting that differs): it would
  otherwise overwrite that run's record, or train it twice;
- a grid sweep and a Pareto search do not share a folder;
- ``cem-report`` lists the planned runs that never started.

The config compared is the composed one (``cem-train --cfg job``): a dataset file whose contents
changed is the same config, and its runs are trained again, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cem.errors import CemError

MANIFEST = ".cem-sweep.json"
LOCK = ".cem-sweep.lock"
KINDS: tuple[str, ...] = ("grid", "search")


@dataclass(frozen=True)
class PlannedRun:
    """A run of a sweep: its folder below the sweep folder, overrides and composed config."""

    subdir: str
    overrides: tuple[str, ...]
    config: Mapping[str, Any]


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, Mapping):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        out.update(_flat(v, key) if isinstance(v, Mapping) and v else {key: v})
    return out


def difference(here: Mapping[str, Any], there: Mapping[str, Any]) -> str:
    """The first setting in which two configs differ, as ``key=theirs there, ours here``."""
    a, b = _flat(here), _flat(there)
    for key in sorted(set(a) | set(b)):
        if a.get(key, "<unset>") != b.get(key, "<unset>"):
            return f"{key}={b.get(key, '<unset>')!r} there, {a.get(key, '<unset>')!r} here"
    return "the same settings"


def read(sweep_dir: Path) -> dict[str, Any] | None:
    """The manifest of ``sweep_dir`` (None when it has none); ``CemError`` when unreadable."""
    path = Path(sweep_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        why = " ".join(str(e).split())[:120]
        raise CemError(
            f"{str(path)!r} is not a cem-bench sweep manifest ({why}); allowed: a sweep folder "
            "written by cem-train (move the file away to start the folder afresh)"
        ) from None
    if not (
        isinstance(data, dict)
        and data.get("kind") in KINDS
        and isinstance(data.get("runs"), dict)
        and all(
            isinstance(r, dict) and isinstance(r.get("config"), dict) for r in data["runs"].values()
        )
    ):
        raise CemError(
            f"{str(path)!r} is not a cem-bench sweep manifest (unexpected contents); allowed: a "
            "sweep folder written by cem-train (move the file away to start the folder afresh)"
        )
    return data


_WHAT = {"grid": "a grid sweep", "search": "a Pareto search"}


def check_kind(sweep_dir: Path, kind: str) -> None:
    """``CemError`` when ``sweep_dir`` holds a sweep of the other kind (reads only)."""
    data = read(Path(sweep_dir))
    if data is not None and data["kind"] != kind:
        raise CemError(
            f"hydra.sweep.dir={str(sweep_dir)!r} holds {_WHAT[data['kind']]}, not "
            f"{_WHAT[kind]}; allowed: another hydra.sweep.dir"
        )


def record(sweep_dir: Path, kind: str, runs: Iterable[PlannedRun]) -> None:
    """Add ``runs`` to the manifest of ``sweep_dir``, or refuse (``CemError``) when the folder
    holds a sweep of the other kind or a planned run of another config."""
    from cem.data.io import write_text
    from cem.sweep.lock import lock

    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    with lock(sweep_dir / LOCK):
        check_kind(sweep_dir, kind)
        data = read(sweep_dir) or {"kind": kind, "runs": {}}
        planned = data["runs"]
        for run in runs:
            config = json.loads(json.dumps(run.config, default=str))
            old = planned.get(run.subdir)
            if old is not None and old["config"] != config:
                raise CemError(
                    f"hydra.sweep.dir={str(sweep_dir)!r} holds run {run.subdir!r} of another "
                    f"config ({difference(config, old['config'])}); allowed: the same config "
                    "(rerunning a sweep resumes it), or another hydra.sweep.dir"
                )
            planned[run.subdir] = {"overrides": list(run.overrides), "config": config}
        write_text(sweep_dir / MANIFEST, json.dumps(data, indent=1, sort_keys=True), force=True)
