"""Report plots. Each function returns ``(fig, ax)`` and draws into ``ax=`` when given, so a
notebook can compose them; ``save`` writes PNG and SVG. Inputs are the rows of
``cem.report.runs.collect`` (each holding its ``_curves``) or the entries of ``summarise``.

What a plot shows is computed first, by a function that returns plain data
(:func:`intervention_series`, :func:`task_vs_concept_points`), so that tests and notebooks can
read the numbers behind a figure. Every (model, setting variant) is its own line, never averaged
with another variant; lines differ by marker and line style as well as by colour; a band or an
error bar is one standard deviation over seeds, and the legend says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

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
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
HATCHES: tuple[str, ...] = ("", "//", "..", "xx", "\\\\", "--", "++", "oo", "||", "**")
# Short names of settings in legends (a variant reads "α=0.1" rather than the config key).
SETTING_NAMES: dict[str, str] = {"model.concept_loss_weight": "α"}
POLICY_NAMES: dict[str, str] = {
    "random": "random order",
    "uncertainty": "most uncertain first",
    "optimal_greedy": "optimal greedy (oracle)",
    "learned": "learned (the model's own policy)",
}


@dataclass
class Series:
    """One line of a plot: mean and standard deviation over ``n`` seeds at each ``x``."""

    model: str
    variant: str
    kind: str  # "correct" or "incorrect" (flipped values put in)
    x: list[float]
    mean: list[float]
    std: list[float]
    n: int
    label: str = field(default="")


def _axes(ax: Axes | None, size: tuple[float, float] = (7.5, 4.2)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _ordered(models: Sequence[str]) -> list[str]:
    rank = {m: i for i, m in enumerate(MODEL_ORDER)}
    return sorted(set(models), key=lambda m: (rank.get(m, 99), m))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _variant_key(variant: str) -> tuple[Any, ...]:
    """Sort variants by their settings, numbers as numbers (α 0.1 < 1 < 5 < 10)."""
    parts = []
    for part in variant.split(",") if variant else []:
        name, _, value = part.partition("=")
        num = _number(value)
        parts.append((name, 0, num, "") if num is not None else (name, 1, 0.0, value))
    return tuple(parts)


def variant_label(variant: str) -> str:
    """``model.concept_loss_weight=0.1`` -> ``α=0.1``; other keys keep their last part."""
    out = []
    for part in variant.split(",") if variant else []:
        key, _, value = part.partition("=")
        out.append(f"{SETTING_NAMES.get(key, key.rsplit('.', 1)[-1])}={value}")
    return ", ".join(out)


def line_label(model: str, variant: str) -> str:
    return model + (f" ({variant_label(variant)})" if variant else "")


def intervention_series(
    rows: Sequence[dict[str, Any]],
    dataset: str,
    policy: str = "random",
    metric: str = "task_acc",
    models: Sequence[str] | None = None,
) -> list[Series]:
    """The data behind :func:`plot_interventions`: one series per (model, variant, kind).

    ``x`` is the number of concept groups intervened (0..G), ``mean``/``std`` the metric (in
    [0, 1]) over the completed runs (seeds) of that model and variant.
    """
    runs = [
        r
        for r in rows
        if r.get("dataset") == dataset
        and r.get("status") == "completed"
        and policy in (r.get("_curves") or {}).get("interventions", {})
        and (models is None or r.get("model") in models)
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["model"], r.get("variant") or ""), []).append(r)
    rank = {m: i for i, m in enumerate(_ordered([m for m, _ in groups]))}
    out = []
    for model, variant in sorted(groups, key=lambda g: (rank[g[0]], _variant_key(g[1]))):
        members = groups[(model, variant)]
        for kind in ("correct", "incorrect"):
            curves = np.array(
                [r["_curves"]["interventions"][policy][kind][metric] for r in members], float
            )
            out.append(
                Series(
                    model,
                    variant,
                    kind,
                    list(range(curves.shape[1])),
                    curves.mean(0).tolist(),
                    (
                        curves.std(0, ddof=1) if len(curves) > 1 else np.zeros(curves.shape[1])
                    ).tolist(),
                    len(curves),
                    line_label(model, variant),
                )
            )
    return out


def _metric_name(metric: str) -> str:
    return {"task_acc": "task accuracy (%)", "task_auc": "task AUC (%)"}.get(metric, metric)


def _style(index: int) -> tuple[Any, str]:
    from matplotlib import colormaps

    return colormaps["tab10"](index % 10), MARKERS[index % len(MARKERS)]


def plot_interventions(
    rows: Sequence[dict[str, Any]],
    dataset: str,
    policy: str = "random",
    metric: str = "task_acc",
    ax: Axes | None = None,
    models: Sequence[str] | None = None,
    legend: bool = True,
) -> tuple[Figure, Axes]:
    """Task accuracy (or AUC) against the number of intervened concept groups on one dataset.

    One line per (model, setting variant): the mean over seeds, a band of ± one standard
    deviation when there are several seeds; solid for correct interventions, dashed for
    incorrect (flipped) ones; colour and marker per line. ``models`` keeps some models only
    (e.g. one panel per model when a sweep varies a setting); the legend sits outside the axes.
    """
    fig, ax = _axes(ax)
    series = intervention_series(rows, dataset, policy, metric, models)
    labels = list(dict.fromkeys(s.label for s in series))
    for s in series:
        _draw_series(ax, s, labels.index(s.label), s.label if s.kind == "correct" else None)
    ax.set(
        xlabel="concept groups intervened",
        ylabel=_metric_name(metric),
        title=f"{dataset}: {POLICY_NAMES.get(policy, policy)}",
    )
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    if legend and series:
        _outside_legend(ax, _kind_handles(series))
    return fig, ax


def _draw_series(ax: Axes, s: Series, style: int, label: str | None = None) -> None:
    """One intervention curve in %: solid for correct interventions, dashed for incorrect ones,
    with a ± 1 std band over seeds when there are several."""
    colour, marker = _style(style)
    mean, std = 100 * np.array(s.mean), 100 * np.array(s.std)
    line = "-" if s.kind == "correct" else "--"
    ax.plot(s.x, mean, line, color=colour, marker=marker, markersize=4, label=label)
    if s.n > 1:
        ax.fill_between(s.x, mean - std, mean + std, color=colour, alpha=0.12, linewidth=0)


def _kind_handles(series: Sequence[Series]) -> list[Any]:
    """Legend entries for what line styles and bands mean."""
    handles: list[Any] = [
        Line2D([], [], color="black", linestyle="-", label="true values put in"),
        Line2D([], [], color="black", linestyle="--", label="flipped values put in"),
    ]
    seeds = sorted({s.n for s in series})
    if seeds[-1] > 1:
        n = "/".join(str(v) for v in seeds)
        handles.append(Patch(color="grey", alpha=0.3, label=f"band: ± 1 std over seeds (n={n})"))
    else:
        handles.append(Line2D([], [], linestyle="none", label="one seed: no band"))
    return handles


def _outside_legend(ax: Axes, extra: Sequence[Any] = (), ncols: int = 1) -> None:
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        [*handles, *extra],
        [*labels, *(h.get_label() for h in extra)],
        fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        ncols=ncols,
    )


def plot_interventions_by_model(
    rows: Sequence[dict[str, Any]], dataset: str, policy: str = "random", metric: str = "task_acc"
) -> tuple[Figure, np.ndarray]:
    """One panel per model (shared axes), one line per setting variant: for sweeps of a setting,
    where one panel holding every (model, variant) would be unreadable. Returns (fig, axes)."""
    series = intervention_series(rows, dataset, policy, metric)
    models = _ordered([s.model for s in series])
    cols = min(3, max(len(models), 1))
    n_rows = -(-len(models) // cols) if models else 1
    fig = Figure(figsize=(4.2 * cols + 1.8, 3.2 * n_rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, cols, sharex=True, sharey=True, squeeze=False))
    variants = sorted({s.variant for s in series}, key=_variant_key)
    for i, ax in enumerate(axes.flat):
        if i >= len(models):
            ax.set_visible(False)
            continue
        for s in (s for s in series if s.model == models[i]):
            _draw_series(ax, s, variants.index(s.variant))
        ax.set_title(models[i], fontsize="medium")
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    for col in range(cols):  # the lowest panel of each column carries the x axis
        shown = [ax for ax in axes[:, col] if ax.get_visible()]
        if shown:
            shown[-1].set_xlabel("concept groups intervened")
            shown[-1].tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel(_metric_name(metric))
    handles = [
        Line2D([], [], color=_style(j)[0], marker=_style(j)[1], label=variant_label(v) or "—")
        for j, v in enumerate(variants)
    ]
    handles += _kind_handles(series) if series else []
    fig.legend(handles=handles, loc="outside right upper", fontsize="small")
    fig.suptitle(f"{dataset}: {POLICY_NAMES.get(policy, policy)}")
    return fig, axes


@dataclass
class Point:
    """One marker of :func:`plot_task_vs_concept`: accuracies (%) with their std over seeds."""

    model: str
    variant: str
    concept: float
    task: float
    concept_std: float
    task_std: float
    n: int


def task_vs_concept_points(summary: Sequence[dict[str, Any]], dataset: str) -> list[Point]:
    """The data behind :func:`plot_task_vs_concept`: one point per (model, variant)."""
    out = []
    for e in summary:
        if e["dataset"] != dataset or not e["test/concept_acc"]["n"]:
            continue
        c, t = e["test/concept_acc"], e["test/task_acc"]
        out.append(
            Point(
                e["model"],
                e.get("variant") or "",
                100 * c["mean"],
                100 * t["mean"],
                100 * c["std"],
                100 * t["std"],
                int(c["n"]),
            )
        )
    rank = {m: i for i, m in enumerate(_ordered([p.model for p in out]))}
    return sorted(out, key=lambda p: (rank[p.model], _variant_key(p.variant)))


def plot_task_vs_concept(
    summary: Sequence[dict[str, Any]], dataset: str, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Test task accuracy against concept accuracy on one dataset: colour and marker per model;
    error bars ± one std over seeds; the variants of a model (e.g. α of the trade-off preset)
    joined by a line in the order of the setting, each point labelled with its value."""
    fig, ax = _axes(ax, (6.5, 4.2))
    points = task_vs_concept_points(summary, dataset)
    models = _ordered([p.model for p in points])
    for i, model in enumerate(models):
        pts = [p for p in points if p.model == model]
        colour, marker = _style(MODEL_ORDER.index(model) if model in MODEL_ORDER else i)
        spread = any(p.n > 1 for p in pts)
        ax.errorbar(
            [p.concept for p in pts],
            [p.task for p in pts],
            xerr=[p.concept_std for p in pts] if spread else None,
            yerr=[p.task_std for p in pts] if spread else None,
            linestyle="-" if len(pts) > 1 else "none",
            marker=marker,
            color=colour,
            label=model,
            capsize=2,
            alpha=0.85,
        )
        for p in pts:
            if p.variant:
                ax.annotate(
                    variant_label(p.variant),
                    (p.concept, p.task),
                    fontsize=6,
                    textcoords="offset points",
                    xytext=(3, 3),
                )
    seeds = sorted({p.n for p in points})
    extra = []
    if seeds and seeds[-1] > 1:
        extra.append(Line2D([], [], linestyle="none", label="bars: ± 1 std over seeds"))
    ax.set(
        xlabel="concept accuracy (%)",
        ylabel="task accuracy (%)",
        title=f"{dataset}: task vs concept accuracy (test)",
    )
    ax.grid(alpha=0.3)
    if points:
        _outside_legend(ax, extra)
    return fig, ax


def plot_metric_bars(
    summary: Sequence[dict[str, Any]], metric: str = "test/cas", ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Mean ± std over seeds of one metric (default the Concept Alignment Score) per dataset,
    one bar per (model, variant), each with its colour and hatch."""
    fig, ax = _axes(ax, (8.5, 4.0))
    entries = [e for e in summary if e.get(metric, {}).get("n")]
    datasets = sorted({e["dataset"] for e in entries})
    rank = {m: i for i, m in enumerate(_ordered([e["model"] for e in entries]))}
    keys = sorted(
        {(e["model"], e.get("variant") or "") for e in entries},
        key=lambda k: (rank[k[0]], _variant_key(k[1])),
    )
    width = 0.8 / max(len(keys), 1)
    for j, (model, variant) in enumerate(keys):
        colour = _style(j)[0]
        hatch = HATCHES[(j + j // 10) % len(HATCHES)]  # colour and hatch never both repeat
        label: str | None = line_label(model, variant)
        for i, dataset in enumerate(datasets):
            e = next(
                (
                    e
                    for e in entries
                    if (e["dataset"], e["model"], e.get("variant") or "")
                    == (dataset, model, variant)
                ),
                None,
            )
            if e is None:
                continue
            ax.bar(
                i + (j - (len(keys) - 1) / 2) * width,
                100 * e[metric]["mean"],
                width,
                yerr=100 * e[metric]["std"] if e[metric]["n"] > 1 else None,
                color=colour,
                hatch=hatch,
                edgecolor="black",
                linewidth=0.4,
                label=label,
                capsize=2,
            )
            label = None
    ax.set_xticks(range(len(datasets)), datasets)
    name = metric.split("/", 1)[-1].upper()
    ax.set(ylabel=f"{name} (%)", title=f"{name} per model (test split)")
    ax.grid(alpha=0.3, axis="y")
    if entries:
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        extra = "error bars: ± 1 std over seeds" if any(e[metric]["n"] > 1 for e in entries) else ""
        ax.legend(
            unique.values(),
            unique.keys(),
            fontsize="small",
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            title=extra or None,
            title_fontsize="x-small",
        )
    return fig, ax


def is_empty(fig: Figure) -> bool:
    """True when no axes of ``fig`` holds any data (lines, bars, bands)."""
    for ax in fig.axes:
        if any(len(line.get_xdata()) for line in ax.lines) or ax.patches or ax.collections:
            return False
    return True


def save(fig: Figure, path: str | Path) -> list[Path]:
    """Write ``path`` as .png and .svg; returns the written files (none for an empty figure)."""
    if is_empty(fig):
        return []
    path = Path(path)
    out = []
    for ext in (".png", ".svg"):
        target = path.with_suffix(ext)
        fig.savefig(target, dpi=130)
        out.append(target)
    return out
