"""``report.md``: every table and plot of a run or sweep directory, readable without cem-bench
(plain Markdown with PNG images beside it). Every sentence with a number is computed from the
runs (:mod:`cem.report.notes`); every term is defined in the report's own "Terms" section."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cem.report import notes, paper, plots
from cem.report import pareto as search
from cem.report.table import SUMMARY_METRICS, problems_markdown, summarise, to_markdown

# test/cas_public appears when the runs measured it (evaluation.cas_clustering: [build, public]).
ALIGNMENT_METRICS: tuple[str, ...] = (
    "test/cas",
    "test/cas_pam",
    "test/cas_public",
    "test/ois",
    "test/nis",
)
# ``learned``: a model's own policy (IntCEM's); tables and plots skip a policy no run measured.
POLICIES: tuple[str, ...] = ("random", "uncertainty", "optimal_greedy", "learned")
# Plot files this module writes; those of an earlier report that this one does not rewrite are
# removed, so that no stale image survives beside report.md.
_OWNED = ("interventions_*", "task_vs_concept*", "cas*", "pareto_*")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _area(curve: Sequence[float]) -> float:
    """Normalised area under a curve over 0..G intervened groups (its trapezoid mean)."""
    y = np.asarray(curve, dtype=float)
    return float(((y[1:] + y[:-1]) / 2).mean()) if y.size > 1 else float(y[0])


def intervention_tables(rows: list[dict[str, Any]]) -> str:
    """Per dataset: task accuracy (%) after intervening on 0, 1, …, G concept groups, for every
    (model, variant), policy and kind of value put in (mean over seeds), and the area under
    each curve, so that policies can be told apart."""
    out = []
    done = [r for r in rows if r.get("status") == "completed"]
    for dataset in sorted({r["dataset"] for r in done}):
        series = [
            (policy, s)
            for policy in POLICIES
            for s in plots.intervention_series(done, dataset, policy)
        ]
        if not series:
            continue
        steps = max(len(s.x) for _, s in series)
        head = ["model", "policy", "values put in", *(f"{j}" for j in range(steps)), "area"]
        lines = [
            f"### {dataset}: task accuracy (%) after intervening on 0 to {steps - 1} concept "
            "groups",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        order = {p: i for i, p in enumerate(POLICIES)}
        keyed = sorted(
            series,
            key=lambda ps: (
                [s.label for _, s in series].index(ps[1].label),
                ps[1].kind,
                order[ps[0]],
            ),
        )
        for policy, s in keyed:
            values = [f"{100 * v:.2f}" for v in s.mean] + [""] * (steps - len(s.mean))
            kind = "true" if s.kind == "correct" else "flipped"
            lines.append(
                f"| {s.label} | {policy} | {kind} | "
                + " | ".join(values)
                + f" | {100 * _area(s.mean):.2f} |"
            )
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _clear_stale(plot_dir: Path, written: set[Path]) -> None:
    for pattern in _OWNED:
        for ext in (".png", ".svg"):
            for f in plot_dir.glob(pattern + ext):
                if f not in written:
                    f.unlink()


def write_report(rows: list[dict[str, Any]], out: Path) -> Path:
    """Write ``out/report.md`` and its plots (``out/plots/*.png|svg``); returns the report path.

    A plot with nothing to show is neither written nor embedded; plot files of an earlier
    report that this one does not produce are removed.
    """
    done = [r for r in rows if r.get("status") == "completed"]
    is_paper = bool(done) and all(paper.is_paper_run(r.get("_config")) for r in done)
    summary = summarise(rows, [*SUMMARY_METRICS, *ALIGNMENT_METRICS])
    variants = any(e.get("variant") for e in summary)
    plot_dir = out / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    written: set[Path] = set()

    def embed(fig: Any, name: str, alt: str) -> list[str]:
        files = plots.save(fig, plot_dir / name)
        written.update(files)
        return [f"![{alt}](plots/{name}.png)", ""] if files else []

    parts = ["# cem-bench report", ""]
    parts.append(
        f"{len(done)} completed runs of {len(rows)} found. Percentages on the test split; "
        "cells are mean ± std over seeds (± 95% CI half-width), see Terms at the end."
    )
    if is_paper:
        parts.append(
            "These are the CEM paper's synthetic protocol runs (paper data, 500 epochs): "
            "the paper's numbers (Espinosa Zarlenga et al., NeurIPS 2022, A.7) stand "
            "beside ours."
        )
    parts += [
        "",
        "## Accuracy",
        "",
        to_markdown(summary, SUMMARY_METRICS, paper.TASK_ACC if is_paper else None),
    ]
    shown = [m for m in ALIGNMENT_METRICS if any(e[m]["n"] for e in summary)]
    if shown:
        parts += [
            "",
            "## Concept alignment (CAS) and impurity (OIS, NIS)",
            "",
            to_markdown(summary, shown, paper.CAS if is_paper else None),
        ]
    tables = intervention_tables(rows)
    if tables:
        parts += ["", "## Interventions", "", tables, ""]
        for dataset in sorted({r["dataset"] for r in done}):
            by_model = any(
                len({r.get("variant") for r in done if (r["dataset"], r["model"]) == (dataset, m)})
                > 1
                for m in {r["model"] for r in done if r["dataset"] == dataset}
            )
            for policy in POLICIES:
                if not plots.intervention_series(done, dataset, policy):
                    continue
                if by_model:
                    fig, _ = plots.plot_interventions_by_model(done, dataset, policy)
                else:
                    fig, _ = plots.plot_interventions(done, dataset, policy)
                parts += embed(fig, f"interventions_{dataset}_{policy}", f"{dataset} {policy}")
    datasets = sorted({e["dataset"] for e in summary if e["test/concept_acc"]["n"]})
    if datasets:
        parts += ["", "## Task vs concept accuracy", ""]
        for dataset in datasets:
            fig, _ = plots.plot_task_vs_concept(summary, dataset)
            parts += embed(fig, f"task_vs_concept_{dataset}", f"task vs concept {dataset}")
    if any(e["test/cas"]["n"] for e in summary):
        fig, _ = plots.plot_metric_bars(summary, "test/cas")
        cas = embed(fig, "cas", "CAS")
        if cas:
            parts += ["", "## Concept Alignment Score", "", *cas]
    parts += search.section(rows, embed)
    if is_paper:
        parts += ["", "## Where and why we differ from the paper", ""]
        parts += notes.paper_notes(summary)
    problems = problems_markdown(rows)
    if problems:
        parts += ["", "## Runs left out (failed, incomplete or never started)", "", problems]
    parts += ["", "## Terms", ""]
    parts += notes.terms(shown, bool(tables), variants)
    _clear_stale(plot_dir, written)
    path = out / "report.md"
    _atomic_write(path, "\n".join(parts) + "\n")
    return path
