"""Collect the runs under a run or sweep directory into tidy rows (one row per run).

A ``metrics.json`` is a run only when it is one of ours: the fields ``cem.train.write_metrics``
writes (or ``cem-train``'s failed record), with the types the report reads. Anything else (other
JSON, a truncated or hostile file) is listed as ``unreadable`` with the reason, never counted as a
run, so that no table or plot is made from it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from cem.errors import CemError

STATUSES: tuple[str, ...] = ("completed", "failed")
MAX_RECORD_BYTES = 64 * 2**20  # far above any record we write (a few hundred KB)


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numbers(v: object, min_len: int = 0) -> bool:
    return isinstance(v, list) and len(v) >= min_len and all(_number(x) for x in v)


def _curves_problem(curves: dict[str, Any]) -> str | None:
    """Why ``curves`` is not what the report reads, or None. Unknown curves are left alone."""
    inter = curves.get("interventions", {})
    if not isinstance(inter, dict):
        return "curves.interventions is not a mapping"
    for policy, kinds in inter.items():
        if not isinstance(kinds, dict) or set(kinds) != {"correct", "incorrect"}:
            return f"curves.interventions.{policy} is not correct/incorrect curves"
        lengths = set()
        for kind, curve in kinds.items():
            if not isinstance(curve, dict) or not _numbers(curve.get("task_acc"), 1):
                return f"curves.interventions.{policy}.{kind} has no task_acc numbers"
            if not all(_numbers(v) for v in curve.values()):
                return f"curves.interventions.{policy}.{kind} holds values that are not numbers"
            lengths |= {len(v) for v in curve.values()}
        if len(lengths) != 1:
            return f"curves.interventions.{policy}: curves of different lengths"
    for key in ("cas", "cas_public"):
        cas = curves.get(key)
        if cas is None:
            continue
        if not (
            isinstance(cas, dict)
            and _numbers(cas.get("rho"))
            and isinstance(cas.get("curve"), list)
            and all(_numbers(row) for row in cas["curve"])
        ):
            return f"curves.{key} is not rho and curve numbers"
    loss = curves.get("train_loss", {})
    if not isinstance(loss, dict) or not all(_numbers(v) for v in loss.values()):
        return "curves.train_loss is not lists of numbers"
    return None


def record_problem(record: object) -> str | None:
    """Why ``record`` is not a cem-bench run record, or None when it is one."""
    if not isinstance(record, dict):
        return f"holds a JSON {type(record).__name__}, not a run record"
    status = record.get("status")
    if status not in STATUSES:
        return f"status={status!r}; a run record's is one of {', '.join(STATUSES)}"
    for key in ("dataset", "model"):
        v = record.get(key)
        if not (isinstance(v, str) or (v is None and status == "failed")):
            return f"{key}={v!r} is not a name"
    seed = record.get("seed")
    if not (seed is None or (isinstance(seed, int) and not isinstance(seed, bool))):
        return f"seed={seed!r} is not an integer"
    metrics = record.get("metrics", {})
    if not isinstance(metrics, dict) or not all(
        isinstance(k, str) and (v is None or _number(v)) for k, v in metrics.items()
    ):
        return "metrics is not a mapping of names to numbers"
    if status == "completed" and not all(
        _number(v) and math.isfinite(v) for k, v in metrics.items() if k.endswith("_acc")
    ):
        return "a completed run's accuracies are not finite numbers"
    error = record.get("error", "")
    if not isinstance(error, str):
        return "error is not a text"
    config = record.get("config", {})
    if not isinstance(config, dict) or not all(
        isinstance(config.get(g, {}), dict) for g in ("dataset", "model", "trainer", "evaluation")
    ):
        return "config is not a mapping of groups"
    curves = record.get("curves", {})
    if not isinstance(curves, dict):
        return "curves is not a mapping"
    return _curves_problem(curves)


def read_record(path: Path) -> dict[str, Any]:
    """A run record, or ``{"status": "unreadable", "error": why}``."""
    try:
        size = path.stat().st_size
        if size > MAX_RECORD_BYTES:
            raise ValueError(f"{size} bytes, more than any run record ({MAX_RECORD_BYTES})")
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        why = " ".join(str(e).split())[:200] or type(e).__name__
        return {"status": "unreadable", "error": f"not a cem-bench metrics.json: {why}"}
    problem = record_problem(record)
    if problem is not None:
        return {"status": "unreadable", "error": f"not a cem-bench metrics.json: {problem}"}
    return record


def collect(root: str | Path) -> list[dict[str, Any]]:
    """Every run under ``root`` (nested sweeps too), completed, failed or incomplete.

    A run is a folder holding ``metrics.json`` (status ``completed`` or ``failed``), a Hydra
    run folder (``.hydra/config.yaml``) without one (status ``incomplete``: killed or running),
    or a run a sweep planned that never started (status ``not started``: its manifest lists it).
    Each row: ``run_dir``, ``status``, ``dataset``, ``model``, ``seed``, ``error`` and every
    metric under its logged name (``test/task_acc`` …).
    """
    root = Path(root)
    if not root.exists():
        raise CemError(f"report directory {str(root)!r} does not exist")
    if not root.is_dir():
        raise CemError(f"report directory {str(root)!r} is not a directory")
    rows: list[dict[str, Any]] = []
    seen: set[Path] = set()
    for path in sorted(root.rglob("metrics.json")):
        if not path.is_file():
            continue
        rows.append(_row(path.parent, root, read_record(path)))
        seen.add(path.parent)
    for cfg in sorted(root.rglob(".hydra/config.yaml")):
        run_dir = cfg.parent.parent
        if run_dir not in seen and not (run_dir / "multirun.yaml").exists():
            rows.append(_row(run_dir, root, {"status": "incomplete", **_hydra_names(cfg)}))
            seen.add(run_dir)
    rows += _not_started(root, seen)
    if rows:
        label_variants(rows)
    if not rows:
        raise CemError(
            f"report directory {str(root)!r} holds no cem-train runs "
            "(no metrics.json below it); allowed: a run or sweep directory of cem-train"
        )
    return rows


def _not_started(root: Path, seen: set[Path]) -> list[dict[str, Any]]:
    """The runs a sweep under ``root`` planned (its manifest, :mod:`cem.sweep.manifest`) that
    never started: no record, no Hydra folder."""
    from cem.sweep.manifest import MANIFEST, read

    rows = []
    for path in sorted(root.rglob(MANIFEST)):
        try:
            planned = (read(path.parent) or {}).get("runs", {})
        except CemError:
            continue  # not ours: nothing to add
        for subdir, run in sorted(planned.items()):
            run_dir = path.parent / subdir
            if run_dir in seen or (run_dir / "metrics.json").exists():
                continue
            config = run["config"]
            names = {
                "dataset": (config.get("dataset") or {}).get("name"),
                "model": (config.get("model") or {}).get("name"),
                "seed": config.get("seed"),
                "error": "planned by the sweep, never started (rerun the sweep to run it)",
            }
            rows.append(_row(run_dir, root, {"status": "not started", **names}))
    return rows


def _hydra_names(cfg_path: Path) -> dict[str, Any]:
    from omegaconf import OmegaConf

    try:
        cfg = OmegaConf.load(cfg_path)
        names = {
            "dataset": OmegaConf.select(cfg, "dataset.name"),
            "model": OmegaConf.select(cfg, "model.name"),
            "seed": OmegaConf.select(cfg, "seed"),
        }
    except Exception:  # noqa: BLE001 - a broken config still counts as an incomplete run
        return {}
    # Only plain names and an integer seed reach the tables.
    return {
        k: v
        for k, v in names.items()
        if (isinstance(v, str) and k != "seed") or (k == "seed" and isinstance(v, int))
    }


def _row(run_dir: Path, root: Path, record: dict[str, Any]) -> dict[str, Any]:
    rel = run_dir.relative_to(root).as_posix() or "."
    row: dict[str, Any] = {
        "run_dir": rel,
        "status": record.get("status"),
        "dataset": record.get("dataset"),
        "model": record.get("model"),
        "seed": record.get("seed"),
        "error": record.get("error", ""),
    }
    row.update(record.get("metrics") or {})
    # Private keys (not written to the CSV): the full config and the curves, for plots; a
    # Pareto search's trial (its trial.json: study, number, parameters).
    row["_config"] = record.get("config") or {}
    row["_curves"] = record.get("curves") or {}
    row["_trial"] = _trial(run_dir)
    return row


def _trial(run_dir: Path) -> dict[str, Any] | None:
    """The ``trial.json`` a Pareto search wrote into a trial's folder, if any."""
    path = run_dir / "trial.json"
    if not path.is_file():
        return None
    try:
        trial = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(trial, dict) and isinstance(trial.get("study"), str)
    return trial if ok and isinstance(trial.get("number"), int) else None


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


# Settings that differ between runs without making them different experiments.
_NOT_VARIANTS = ("seed", "output_dir", "trainer.progress", "trainer.num_threads", "dataset.path")


def label_variants(rows: list[dict[str, Any]]) -> None:
    """Set ``row["variant"]``: the settings in which a run differs from the other runs of its
    (dataset, model), e.g. ``model.concept_loss_weight=0.1``, so that sweeps over a
    hyper-parameter are summarised per value instead of averaged together."""
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for r in rows:
        r["variant"] = ""
        groups.setdefault((r.get("dataset"), r.get("model")), []).append(r)
    for group in groups.values():
        # Runs without a recorded config (killed before their metrics.json) cannot differ in a
        # setting: comparing their empty config would make every key look varied.
        group = [r for r in group if r.get("_config")] or group
        flat = [_flatten(r.get("_config") or {}) for r in group]
        keys = sorted({k for f in flat for k in f})
        varying = [
            k
            for k in keys
            if k not in _NOT_VARIANTS
            and not k.startswith("logger.")  # where curves are logged, not what was run
            and len({f.get(k) for f in flat}) > 1
        ]
        for r, f in zip(group, flat, strict=True):
            r["variant"] = ",".join(f"{k}={f.get(k)}" for k in varying)
