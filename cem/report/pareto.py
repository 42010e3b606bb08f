"""The Pareto search in the report: each model's front beside the grid's points.

A search's trials are the runs with a ``trial.json`` (row ``_trial``). A (dataset, model)'s
front is its trials that no other trial beats on both validation task and validation concept
accuracy (what the search maximised, :func:`cem.metrics.pareto.non_dominated`); the plot shows
their *test* accuracies, joined in order of concept accuracy, with the grid's runs of the same
dataset and model (e.g. the ``tradeoff`` preset's α values, when the report covers both sweeps)
as open markers. The table gives each front's and each grid's hypervolume on the validation
split (the area of task × concept accuracy they dominate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cem.metrics.pareto import hypervolume, non_dominated
from cem.report.plots import MODEL_ORDER, _axes, _ordered, _style

VAL = ("val/task_acc", "val/concept_acc")


def _colour(model: str) -> Any:
    """A model's colour, the same in every plot of the report."""
    return _style(MODEL_ORDER.index(model) if model in MODEL_ORDER else len(MODEL_ORDER))[0]


TEST = ("test/task_acc", "test/concept_acc")


def _finite(row: dict[str, Any], keys: Sequence[str]) -> bool:
    return all(isinstance(row.get(k), (int, float)) and math.isfinite(row[k]) for k in keys)


def _by_model(rows: Sequence[dict[str, Any]], trials: bool) -> dict[tuple[str, str], list]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("status") != "completed" or bool(r.get("_trial")) != trials:
            continue
        if _finite(r, VAL + TEST):
            groups.setdefault((str(r["dataset"]), str(r["model"])), []).append(r)
    return groups


def fronts(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(dataset, model) -> the search's front: its non-dominated trials on the validation
    split, by validation task accuracy, descending."""
    out = {}
    for key, runs in _by_model(rows, trials=True).items():
        idx = non_dominated([[r[k] for k in VAL] for r in runs])
        out[key] = [runs[i] for i in idx]
    return out


def grids(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(dataset, model) -> the completed runs that are not search trials."""
    return _by_model(rows, trials=False)


def plot_fronts(
    rows: Sequence[dict[str, Any]], dataset: str, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Test task accuracy against test concept accuracy on ``dataset``: each model's front
    (filled markers, joined) and the grid's runs of the models searched (open markers)."""
    fig, ax = _axes(ax, (6.5, 4.5))
    front = {m: runs for (d, m), runs in fronts(rows).items() if d == dataset}
    grid = {m: runs for (d, m), runs in grids(rows).items() if d == dataset and m in front}
    for model in _ordered(list(front)):
        pts = np.array(sorted((100 * r[TEST[1]], 100 * r[TEST[0]]) for r in front[model]))
        ax.plot(pts[:, 0], pts[:, 1], "-o", color=_colour(model), label=f"{model} front")
        if model in grid:
            g = np.array([(100 * r[TEST[1]], 100 * r[TEST[0]]) for r in grid[model]])
            ax.plot(
                g[:, 0],
                g[:, 1],
                linestyle="none",
                marker="s",
                markerfacecolor="none",
                color=_colour(model),
                label=f"{model} grid",
            )
    ax.set(
        xlabel="concept accuracy (%)",
        ylabel="task accuracy (%)",
        title=f"Pareto fronts (search, test split): {dataset}",
    )
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return fig, ax


def _params(row: dict[str, Any]) -> str:
    params = (row.get("_trial") or {}).get("params") or {}
    shown = []
    for k, v in params.items():
        value = f"{v:.3g}" if isinstance(v, float) else str(v)
        shown.append(f"{k.split('.', 1)[-1]}={value}")
    return ", ".join(shown)


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Each front's trials (validation and test accuracies, parameters) and the hypervolume on
    the validation split of the front and of the grid's runs of the same dataset and model."""
    front, grid = fronts(rows), grids(rows)
    lines = [
        "| dataset | model | trial | val task % | val concept % | test task % | "
        "test concept % | settings |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, model), runs in sorted(front.items()):
        for r in runs:
            cells = [100 * r[k] for k in (*VAL, *TEST)]
            lines.append(
                f"| {dataset} | {model} | {r['_trial']['number']} | "
                + " | ".join(f"{c:.2f}" for c in cells)
                + f" | {_params(r)} |"
            )
    hv = ["", "| dataset | model | trials | front hypervolume | grid runs | grid hypervolume |"]
    hv.append("|---|---|---|---|---|---|")
    trials = _by_model(rows, trials=True)
    for key, runs in sorted(front.items()):
        ours = hypervolume([[r[k] for k in VAL] for r in runs])
        theirs = grid.get(key, [])
        theirs_hv = f"{hypervolume([[r[k] for k in VAL] for r in theirs]):.4f}" if theirs else "–"
        hv.append(
            f"| {key[0]} | {key[1]} | {len(trials[key])} | {ours:.4f} | {len(theirs)} | "
            f"{theirs_hv} |"
        )
    return "\n".join(lines + hv)


def section(rows: Sequence[dict[str, Any]], embed: Any) -> list[str]:
    """The report's Markdown lines for the search (nothing when no search trial completed);
    ``embed(fig, name, alt)`` saves a plot and returns the lines that show it."""
    front = fronts(rows)
    if not front:
        return []
    parts = [
        "",
        "## Pareto fronts (search)",
        "",
        "Each model's front: the trials no other trial beats on both validation task and "
        "validation concept accuracy (what the search maximised), drawn at their test "
        "accuracies; open squares: the other runs of the same dataset and model (e.g. the "
        "tradeoff grid's α values). Hypervolume: the area of validation task × concept accuracy "
        "that a set of runs dominates (1 = a perfect model).",
        "",
        table(rows),
        "",
    ]
    for dataset in sorted({d for d, _ in front}):
        fig, _ = plot_fronts(rows, dataset)
        parts += embed(fig, f"pareto_{dataset}", f"pareto fronts {dataset}")
    return parts
