"""Report plots. Each function returns ``(fig, ax)`` and draws into ``ax=`` when given, so a
notebook can compose them; ``save`` writes PNG and SVG. Inputs are the rows of
``cem.report.runs.collect`` (each holding its ``_curves``) or the entries of ``summarise``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

MODEL_ORDER: tuple[str, ...] = (
    "cem",
    "cbm_hybrid_sigmoid",
    "cbm_hybrid_logit",
    "cbm_sigmoid",
    "cbm_logit",
    "cbm_bool",
    "cbm_sequential",
    "cbm_independent",
    "dnn",
)
DATASET_MARKERS: dict[str, str] = {"xor": "o", "trig": "s", "dot": "^"}


def _axes(ax: Axes | None, size: tuple[float, float] = (6.0, 4.0)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _colour(model: str) -> Any:
    from matplotlib import colormaps

    i = MODEL_ORDER.index(model) if model in MODEL_ORDER else len(MODEL_ORDER)
    return colormaps["tab10"](i % 10)


def _ordered(models: Sequence[str]) -> list[str]:
    rank = {m: i for i, m in enumerate(MODEL_ORDER)}
    return sorted(set(models), key=lambda m: (rank.get(m, 99), m))


def plot_interventions(
    rows: Sequence[dict[str, Any]],
    dataset: str,
    policy: str = "random",
    metric: str = "task_acc",
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Task accuracy (or AUC) against the number of intervened concept groups on one dataset:
    a line per model (mean over seeds) with a band for the spread (min–max); solid for correct
    interventions, dashed for incorrect ones."""
    fig, ax = _axes(ax)
    runs = [
        r
        for r in rows
        if r.get("dataset") == dataset
        and r.get("status") == "completed"
        and policy in (r.get("_curves") or {}).get("interventions", {})
    ]
    for model in _ordered([r["model"] for r in runs]):
        for kind, style in (("correct", "-"), ("incorrect", "--")):
            curves = np.array(
                [
                    r["_curves"]["interventions"][policy][kind][metric]
                    for r in runs
                    if r["model"] == model
                ]
            )
            steps = np.arange(curves.shape[1])
            label = model if kind == "correct" else None
            ax.plot(
                steps, 100 * curves.mean(0), style, color=_colour(model), label=label, marker="."
            )
            if len(curves) > 1:
                ax.fill_between(
                    steps,
                    100 * curves.min(0),
                    100 * curves.max(0),
                    color=_colour(model),
                    alpha=0.15,
                    linewidth=0,
                )
    ax.set(
        xlabel="concept groups intervened",
        ylabel=f"{metric.replace('_', ' ')} (%)",
        title=f"{dataset}: interventions ({policy}); solid correct, dashed incorrect",
    )
    ax.xaxis.get_major_locator().set_params(integer=True)
    if runs:
        ax.legend(fontsize="small", ncols=2)
    ax.grid(alpha=0.3)
    return fig, ax


def plot_task_vs_concept(
    summary: Sequence[dict[str, Any]], ax: Axes | None = None, dataset: str | None = None
) -> tuple[Figure, Axes]:
    """Test task accuracy against concept accuracy: colour = model, marker = dataset. Entries of
    one model and dataset that differ in a setting (e.g. α of the trade-off preset) are joined by
    a line in the summary's order and labelled with that setting's value. ``dataset`` keeps
    one dataset only."""
    fig, ax = _axes(ax, (6.5, 4.5))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in summary:
        if e["test/concept_acc"]["n"] and dataset in (None, e["dataset"]):
            groups.setdefault((e["dataset"], e["model"]), []).append(e)
    seen_models = set()
    for (ds, model), entries in sorted(groups.items()):
        xs = [100 * e["test/concept_acc"]["mean"] for e in entries]
        ys = [100 * e["test/task_acc"]["mean"] for e in entries]
        label = model if model not in seen_models else None
        seen_models.add(model)
        ax.plot(
            xs,
            ys,
            linestyle="-" if len(entries) > 1 else "none",
            marker=DATASET_MARKERS.get(ds, "D"),
            color=_colour(model),
            label=label,
            alpha=0.85,
        )
        for e, x, y in zip(entries, xs, ys, strict=True):
            if e.get("variant"):
                ax.annotate(
                    e["variant"].split("=")[-1],
                    (x, y),
                    fontsize=6,
                    textcoords="offset points",
                    xytext=(3, 3),
                )
    for name, marker in DATASET_MARKERS.items():
        if any(d == name for d, _ in groups):
            ax.plot([], [], marker=marker, color="grey", linestyle="none", label=name)
    ax.set(
        xlabel="concept accuracy (%)",
        ylabel="task accuracy (%)",
        title=f"task vs concept accuracy (test{', ' + dataset if dataset else ''})",
    )
    ax.legend(fontsize="small", ncols=2)
    ax.grid(alpha=0.3)
    return fig, ax


def plot_metric_bars(
    summary: Sequence[dict[str, Any]], metric: str = "test/cas", ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Mean ± std of one metric (default the Concept Alignment Score) per dataset and model."""
    fig, ax = _axes(ax, (7.5, 4.0))
    entries = [e for e in summary if e.get(metric, {}).get("n")]
    datasets = sorted({e["dataset"] for e in entries})
    models = _ordered([e["model"] for e in entries])
    width = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        for i, dataset in enumerate(datasets):
            e = next(
                (
                    e
                    for e in entries
                    if e["dataset"] == dataset and e["model"] == model and not e.get("variant")
                ),
                None,
            )
            if e is None:
                continue
            ax.bar(
                i + (j - (len(models) - 1) / 2) * width,
                100 * e[metric]["mean"],
                width,
                yerr=100 * e[metric]["std"],
                color=_colour(model),
                label=model if i == 0 or dataset == datasets[0] else None,
                capsize=2,
            )
    ax.set_xticks(range(len(datasets)), datasets)
    name = metric.split("/", 1)[-1].upper()
    ax.set(ylabel=f"{name} (%)", title=f"{name} per model (test, mean ± std over seeds)")
    if entries:
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(
            unique.values(),
            unique.keys(),
            fontsize="small",
            ncols=5,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
        )
    ax.grid(alpha=0.3, axis="y")
    return fig, ax


def save(fig: Figure, path: str | Path) -> list[Path]:
    """Write ``path`` as .png and .svg; returns the written files."""
    path = Path(path)
    out = []
    for ext in (".png", ".svg"):
        target = path.with_suffix(ext)
        fig.savefig(target, dpi=130)
        out.append(target)
    return out
