"""Collect the runs under a run or sweep directory into tidy rows (one row per run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cem.errors import CemError


def collect(root: str | Path) -> list[dict[str, Any]]:
    """Every run under ``root`` (nested sweeps too), completed, failed or incomplete.

    A run is a folder holding ``metrics.json`` (status ``completed`` or ``failed``) or a Hydra
    run folder (``.hydra/config.yaml``) without one (status ``incomplete``: killed or running).
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
        try:
            record = json.loads(path.read_text())
            if not isinstance(record, dict) or "status" not in record:
                raise ValueError("not a cem-bench metrics.json")
        except (OSError, ValueError) as e:
            rows.append(_row(path.parent, root, {"status": "unreadable", "error": str(e)}))
            seen.add(path.parent)
            continue
        rows.append(_row(path.parent, root, record))
        seen.add(path.parent)
    for cfg in sorted(root.rglob(".hydra/config.yaml")):
        run_dir = cfg.parent.parent
        if run_dir not in seen and not (run_dir / "multirun.yaml").exists():
            rows.append(_row(run_dir, root, {"status": "incomplete", **_hydra_names(cfg)}))
    if rows:
        label_variants(rows)
    if not rows:
        raise CemError(
            f"report directory {str(root)!r} holds no cem-train runs "
            "(no metrics.json below it); allowed: a run or sweep directory of cem-train"
        )
    return rows


def _hydra_names(cfg_path: Path) -> dict[str, Any]:
    from omegaconf import OmegaConf

    try:
        cfg = OmegaConf.load(cfg_path)
        return {
            "dataset": OmegaConf.select(cfg, "dataset.name"),
            "model": OmegaConf.select(cfg, "model.name"),
            "seed": OmegaConf.select(cfg, "seed"),
        }
    except Exception:  # noqa: BLE001 - a broken config still counts as an incomplete run
        return {}


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
    # Private keys (not written to the CSV): the full config and the curves, for plots.
    row["_config"] = record.get("config") or {}
    row["_curves"] = record.get("curves") or {}
    return row


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
_NOT_VARIANTS = ("seed", "output_dir", "trainer.progress", "trainer.num_threads")


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
