"""``report.md``: every table and plot of a run or sweep directory, readable without cem-bench
(plain Markdown with PNG images beside it)."""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from cem.report import paper, plots
from cem.report import pareto as search
from cem.report.table import SUMMARY_METRICS, problems_markdown, summarise, to_markdown

# test/cas_public appears when the runs measured it (evaluation.cas_clustering: [exact, public]).
ALIGNMENT_METRICS: tuple[str, ...] = ("test/cas", "test/cas_public", "test/ois", "test/nis")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def intervention_table(rows: list[dict[str, Any]]) -> str:
    """Accuracy with no, and with every, concept group intervened (mean over seeds), per policy."""
    lines = [
        "| dataset | model | policy | none % | all correct % | all incorrect % |",
        "|---|---|---|---|---|---|",
    ]
    keys = sorted(
        {
            (r["dataset"], r["model"], r.get("variant") or "")
            for r in rows
            if r.get("status") == "completed" and r["_curves"].get("interventions")
        }
    )
    for dataset, model, variant in keys:
        runs = [
            r
            for r in rows
            if (r["dataset"], r["model"], r.get("variant") or "") == (dataset, model, variant)
            and r.get("status") == "completed"
        ]
        for policy, first in runs[0]["_curves"]["interventions"].items():
            ends = {
                kind: [
                    100
                    * statistics.mean(
                        r["_curves"]["interventions"][policy][kind]["task_acc"][step] for r in runs
                    )
                    for step in (0, -1)
                ]
                for kind in first
            }
            name = model + (f" ({variant})" if variant else "")
            lines.append(
                f"| {dataset} | {name} | {policy} | {ends['correct'][0]:.2f} | "
                f"{ends['correct'][1]:.2f} | {ends['incorrect'][1]:.2f} |"
            )
    return "\n".join(lines) if len(lines) > 2 else ""


def write_report(rows: list[dict[str, Any]], out: Path) -> Path:
    """Write ``out/report.md`` and its plots (``out/plots/*.png|svg``); returns the report path."""
    done = [r for r in rows if r.get("status") == "completed"]
    is_paper = bool(done) and all(paper.is_paper_run(r.get("_config")) for r in done)
    summary = summarise(rows, [*SUMMARY_METRICS, *ALIGNMENT_METRICS])
    parts = ["# cem-bench report", ""]
    parts.append(
        f"{len(done)} completed runs of {len(rows)} found. Percentages on the test "
        "split: mean ± std (± 95% CI half-width) over seeds."
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
        legend = (
            "CAS: higher = concepts better aligned with their representation; OIS: 0 = "
            "no concept's representation predicts other concepts beyond the oracle; NIS: "
            "~47.5 = no impurity (chance AUC once a concept's niche is removed)."
        )
        if "test/cas_public" in shown:
            legend += (
                " cas_public: CAS as the authors' code computes it, the computation behind the "
                "paper's numbers: their representation (a CBM's scores before the Bool "
                "threshold; a Hybrid's probability beside all its free units) clustered with "
                "sklearn_extra's KMedoids() defaults (heuristic init, alternate, no swaps)."
            )
        parts += [
            "",
            "## Concept alignment (CAS) and impurity (OIS, NIS)",
            "",
            legend,
            "",
            to_markdown(summary, shown, paper.CAS if is_paper else None),
        ]
    inter = intervention_table(rows)
    plot_dir = out / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    if inter:
        parts += ["", "## Interventions", "", inter, ""]
        for dataset in sorted({r["dataset"] for r in done}):
            for policy in ("random", "optimal_greedy"):
                if not any(
                    policy in r["_curves"].get("interventions", {})
                    for r in done
                    if r["dataset"] == dataset
                ):
                    continue
                fig, _ = plots.plot_interventions(rows, dataset, policy)
                plots.save(fig, plot_dir / f"interventions_{dataset}_{policy}")
                parts.append(
                    f"![interventions {dataset} {policy}]"
                    f"(plots/interventions_{dataset}_{policy}.png)"
                )
    if any(e["test/concept_acc"]["n"] for e in summary):
        fig, _ = plots.plot_task_vs_concept(summary)
        plots.save(fig, plot_dir / "task_vs_concept")
        parts += [
            "",
            "## Task vs concept accuracy",
            "",
            "![task vs concept](plots/task_vs_concept.png)",
        ]
        if any(e.get("variant") for e in summary):  # a sweep of a setting (e.g. α): per dataset
            for dataset in sorted({e["dataset"] for e in summary}):
                fig, _ = plots.plot_task_vs_concept(summary, dataset=dataset)
                plots.save(fig, plot_dir / f"task_vs_concept_{dataset}")
                parts.append(f"![task vs concept {dataset}](plots/task_vs_concept_{dataset}.png)")
    if any(e["test/cas"]["n"] for e in summary):
        fig, _ = plots.plot_metric_bars(summary, "test/cas")
        plots.save(fig, plot_dir / "cas")
        parts += ["", "## Concept Alignment Score", "", "![CAS](plots/cas.png)"]
    parts += search.section(rows, plot_dir)
    if is_paper:
        parts += ["", "## Where and why we differ from the paper", ""]
        parts += [f"- {text}" for text in paper.NOTES.values()]
    problems = problems_markdown(rows)
    if problems:
        parts += ["", "## Runs left out (failed, incomplete or never started)", "", problems]
    path = out / "report.md"
    _atomic_write(path, "\n".join(parts) + "\n")
    return path
